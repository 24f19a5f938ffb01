package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// team creates an organisation with one user per role given, in order, and
// returns the organisation's id and the users' ids.
func team(t *testing.T, s *store.Store, slug string, roles ...store.Role) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	org, err := s.CreateOrg(ctx, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(roles))
	for i, r := range roles {
		u, err := s.CreateUser(ctx, string(r)+string(rune('a'+i))+"@"+slug+".example", mustHash(t, "correct horse"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, org.ID, u.ID, r); err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	return org.ID, ids
}

func TestMembersAndLastSignIn(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleOwner, store.RoleViewer)
		other, _ := team(t, s, "other", store.RoleOwner)
		if err := s.Audit(ctx, org, store.Actor{UserID: ids[1], Name: "user:v"}, "login", "user v", nil); err != nil {
			t.Fatal(err)
		}
		// A sign-in to another organisation is not one to this one.
		if err := s.AddMember(ctx, other, ids[0], store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if err := s.Audit(ctx, other, store.Actor{UserID: ids[0], Name: "user:o"}, "login", "user o", nil); err != nil {
			t.Fatal(err)
		}
		ms, err := s.Members(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].UserID != ids[0] || ms[0].Role != store.RoleOwner || ms[1].Role != store.RoleViewer {
			t.Fatalf("members = %+v, want the owner then the viewer", ms)
		}
		if ms[0].LastSignIn != nil {
			t.Errorf("owner's last sign-in = %v, want none in this organisation", ms[0].LastSignIn)
		}
		if ms[1].LastSignIn == nil || ms[1].JoinedAt.IsZero() {
			t.Errorf("viewer = %+v, want a last sign-in and a join time", ms[1])
		}
		if _, err := s.Member(ctx, other, ids[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a member of another organisation: got %v, want ErrNotFound", err)
		}
	})
}

func TestLastOwnerStays(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleOwner, store.RoleEditor)
		owner, editor := ids[0], ids[1]
		for name, fn := range map[string]func(tx *store.Tx) error{
			"demote": func(tx *store.Tx) error { _, err := tx.SetMemberRole(ctx, org, owner, store.RoleEditor); return err },
			"remove": func(tx *store.Tx) error { _, err := tx.RemoveMember(ctx, org, owner); return err },
		} {
			if err := s.InTx(ctx, fn); !errors.Is(err, store.ErrLastOwner) {
				t.Errorf("%s the only owner: got %v, want ErrLastOwner", name, err)
			}
		}
		// With a second owner the first may step down.
		err := s.InTx(ctx, func(tx *store.Tx) error {
			before, err := tx.SetMemberRole(ctx, org, editor, store.RoleOwner)
			if err == nil && before.Role != store.RoleEditor {
				t.Errorf("role before = %s, want editor", before.Role)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.SetMemberRole(ctx, org, owner, store.RoleViewer); return err }); err != nil {
			t.Fatalf("demote one of two owners: %v", err)
		}
		if r, _ := s.MemberRole(ctx, org, owner); r != store.RoleViewer {
			t.Errorf("role after demotion = %s, want viewer", r)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.RemoveMember(ctx, org, editor); return err }); !errors.Is(err, store.ErrLastOwner) {
			t.Errorf("remove the new only owner: got %v, want ErrLastOwner", err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.SetMemberRole(ctx, org, owner, "root"); return err }); err == nil {
			t.Error("an unknown role was accepted")
		}
	})
}

// TestOwnersDemotingEachOtherAtOnce: of two owners demoting each other at
// the same moment exactly one succeeds.
func TestOwnersDemotingEachOtherAtOnce(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for round := range 5 {
			org, ids := team(t, s, "race"+string(rune('a'+round)), store.RoleOwner, store.RoleOwner)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range 2 {
				wg.Go(func() {
					errs[i] = s.InTx(ctx, func(tx *store.Tx) error {
						_, err := tx.SetMemberRole(ctx, org, ids[1-i], store.RoleViewer)
						return err
					})
				})
			}
			wg.Wait()
			ms, err := s.Members(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			owners := 0
			for _, m := range ms {
				if m.Role == store.RoleOwner {
					owners++
				}
			}
			if owners != 1 {
				t.Fatalf("round %d: %d owners left (errors %v), want 1", round, owners, errs)
			}
		}
	})
}

func TestRemoveMemberEndsItsSessions(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleOwner, store.RoleEditor)
		other, _ := team(t, s, "other", store.RoleOwner)
		if err := s.AddMember(ctx, other, ids[1], store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		here, err := s.CreateSession(ctx, org, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		there, err := s.CreateSession(ctx, other, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.RemoveMember(ctx, org, ids[1]); return err }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, here); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session in the organisation left: got %v, want ErrNotFound", err)
		}
		if _, err := s.SessionByToken(ctx, there); err != nil {
			t.Errorf("session in the other organisation: %v, want it alive", err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.RemoveMember(ctx, org, ids[1]); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("remove twice: got %v, want ErrNotFound", err)
		}
	})
}

func TestJoinOrgNeverDemotes(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleOwner)
		_, newcomer := team(t, s, "elsewhere", store.RoleOwner)
		err := s.InTx(ctx, func(tx *store.Tx) error {
			role, joined, err := tx.JoinOrg(ctx, org, ids[0], store.RoleViewer)
			if err == nil && (role != store.RoleOwner || joined) {
				t.Errorf("existing owner joining as viewer: got %s, joined %v; want owner, false", role, joined)
			}
			if err != nil {
				return err
			}
			role, joined, err = tx.JoinOrg(ctx, org, newcomer[0], store.RoleEditor)
			if err == nil && (role != store.RoleEditor || !joined) {
				t.Errorf("newcomer: got %s, joined %v; want editor, true", role, joined)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestOwners(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleViewer, store.RoleOwner, store.RoleEditor, store.RoleOwner)
		empty, _ := team(t, s, "empty", store.RoleViewer)
		err := s.InTx(ctx, func(tx *store.Tx) error {
			owners, err := tx.Owners(ctx, org)
			if err != nil {
				return err
			}
			if len(owners) != 2 || owners[0] != ids[1] || owners[1] != ids[3] {
				t.Errorf("owners = %v, want [%d %d]", owners, ids[1], ids[3])
			}
			if owners, err = tx.Owners(ctx, empty); err != nil {
				return err
			}
			if len(owners) != 0 {
				t.Errorf("owners of an organisation with only a viewer = %v, want none", owners)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
