package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// testCost keeps bcrypt fast under -race.
const testCost = bcrypt.MinCost

func mustHash(t *testing.T, pw string) store.PasswordHash {
	t.Helper()
	h, err := store.HashPassword(pw, testCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rebind turns '?' placeholders into PostgreSQL's $n for raw test queries.
func rebind(s *store.Store, q string) string {
	if s.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestSetupOnlyOnce(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		has, err := s.HasUsers(ctx)
		if err != nil || has {
			t.Fatalf("HasUsers on empty store = %v, %v; want false, nil", has, err)
		}
		org, user, err := s.Setup(ctx, store.SetupParams{OrgName: "ACME Corp.", Email: " Ada@Example.org ", Hash: mustHash(t, "correct horse")})
		if err != nil {
			t.Fatal(err)
		}
		if org.Slug != "acme-corp" || user.Email != "ada@example.org" {
			t.Errorf("got org %+v user %+v, want slug acme-corp and a normalised email", org, user)
		}
		role, err := s.MemberRole(ctx, org.ID, user.ID)
		if err != nil || role != store.RoleOwner {
			t.Errorf("MemberRole = %q, %v; want owner", role, err)
		}
		_, _, err = s.Setup(ctx, store.SetupParams{OrgName: "Second", Email: "eve@example.org", Hash: mustHash(t, "x")})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("second setup: got %v, want ErrConflict", err)
		}
		log, err := s.AuditLog(ctx, org.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Action != "setup" || log[0].UserID != user.ID || log[0].Actor != "user:ada@example.org" {
			t.Errorf("audit log = %+v, want one setup row by ada", log)
		}
	})
}

func TestSetupRace(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		hash := mustHash(t, "pw")
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = s.Setup(ctx, store.SetupParams{
					OrgName: fmt.Sprintf("Org %d", i), Email: fmt.Sprintf("u%d@example.org", i), Hash: hash,
				})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("concurrent setup: got %v, want nil or ErrConflict", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d concurrent setups succeeded, want exactly 1", ok)
		}
	})
}

func TestUsersAndMemberships(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := s.CreateOrg(ctx, "A", "a")
		b, _ := s.CreateOrg(ctx, "B", "b")
		u, err := s.CreateUser(ctx, "bob@example.org", mustHash(t, "secret-1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, "BOB@example.org", mustHash(t, "x")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate email: got %v, want ErrConflict", err)
		}
		got, hash, err := s.UserByEmail(ctx, "Bob@Example.org")
		if err != nil || got.ID != u.ID {
			t.Fatalf("UserByEmail = %+v, %v; want user %d", got, err, u.ID)
		}
		if err := store.CheckPassword(hash, "secret-1"); err != nil {
			t.Errorf("right password refused: %v", err)
		}
		if err := store.CheckPassword(hash, "secret-2"); err == nil {
			t.Error("wrong password accepted")
		}
		if _, _, err := s.UserByEmail(ctx, "nobody@example.org"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown email: got %v, want ErrNotFound", err)
		}
		if _, err := s.MemberRole(ctx, a.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("non-member: got %v, want ErrNotFound", err)
		}
		if err := s.AddMember(ctx, b.ID, u.ID, store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, a.ID, u.ID, store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, a.ID, u.ID, store.RoleEditor); err != nil {
			t.Fatalf("changing a role: %v", err)
		}
		if role, _ := s.MemberRole(ctx, a.ID, u.ID); role != store.RoleEditor {
			t.Errorf("role in A = %q, want editor", role)
		}
		ms, err := s.Memberships(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].OrgID != b.ID || ms[1].OrgSlug != "a" {
			t.Errorf("memberships = %+v, want B then A", ms)
		}
		if _, err := store.HashPassword(strings.Repeat("x", 73), testCost); err == nil {
			t.Error("73-byte password hashed, want an error (bcrypt would truncate it)")
		}
	})
}

func TestSlugFor(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"ACME Corp.":        "acme-corp",
		"  Hello   World  ": "hello-world",
		"Ünïcode":           "n-code",
		"***":               "org",
	}
	for in, want := range tests {
		if got := store.SlugFor(in); got != want {
			t.Errorf("SlugFor(%q) = %q, want %q", in, got, want)
		}
	}
}
