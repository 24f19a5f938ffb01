package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// cli runs pharos with args against databaseURL and stdin, returning the
// exit code, stdout and stderr.
func cli(t *testing.T, databaseURL, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string {
			if k == "PHAROS_DATABASE_URL" {
				return databaseURL
			}
			return ""
		},
	})
	return code, out.String(), errOut.String()
}

func TestUserAndTokenCommands(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testUserAndTokenCommands(t, "sqlite://"+filepath.Join(t.TempDir(), "pharos.db"))
	})
	t.Run("postgres", func(t *testing.T) { testUserAndTokenCommands(t, storetest.PostgresURL(t)) })
}

func testUserAndTokenCommands(t *testing.T, dbURL string) {
	ctx := context.Background()
	// A low bcrypt cost keeps -race runs fast; production uses the default.
	create := func(stdin string, args ...string) (int, string, string) {
		return cli(t, dbURL, stdin, append([]string{"user", "create", "--password-cost", "4"}, args...)...)
	}

	code, out, errOut := create("correct horse battery\n", "--email", "Ada@Example.org", "--org", "ACME Corp")
	if code != 0 || !strings.Contains(out, "created user ada@example.org as owner of ACME Corp (acme-corp)") {
		t.Fatalf("user create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = create("another good one", "--email", "bob@example.org", "--org", "ACME Corp", "--role", "editor")
	if code != 0 || !strings.Contains(out, "bob@example.org as editor") {
		t.Fatalf("second user: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	for name, tc := range map[string]struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		"no email":          {"x", []string{"--org", "ACME Corp"}, 2, "--email"},
		"no org":            {"x", []string{"--email", "c@example.org"}, 2, "--org"},
		"bad role":          {"x", []string{"--email", "c@example.org", "--org", "A", "--role", "root"}, 2, "--role"},
		"unknown flag":      {"x", []string{"--email", "c@example.org", "--bogus"}, 2, "bogus"},
		"new org as viewer": {"x", []string{"--email", "c@example.org", "--org", "New", "--role", "viewer"}, 2, "owner"},
		"short password":    {"short\n", []string{"--email", "c@example.org", "--org", "ACME Corp"}, 1, "at least 10"},
		"common password":   {"password123\n", []string{"--email", "c@example.org", "--org", "ACME Corp"}, 1, "one of the most common passwords"},
		"two common words":  {"correct horse\n", []string{"--email", "c@example.org", "--org", "ACME Corp"}, 1, "too easy to guess"},
		"the org's name":    {"ACME Corp 2024\n", []string{"--email", "c@example.org", "--org", "ACME Corp"}, 1, "the organisation's name"},
		"empty stdin":       {"", []string{"--email", "c@example.org", "--org", "ACME Corp"}, 1, "stdin"},
	} {
		code, _, errOut := create(tc.stdin, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", name, code, errOut, tc.code, tc.msg)
		}
	}

	code, out, errOut = cli(t, dbURL, "", "token", "create", "--name", "ci")
	raw := strings.TrimSuffix(out, "\n")
	if code != 0 || !regexp.MustCompile(`^phr_[A-Za-z0-9_-]{43}$`).MatchString(raw) {
		t.Fatalf("token create: exit %d, stdout %q (want only the token), stderr %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, dbURL, "", "token", "create"); code != 2 || !strings.Contains(errOut, "--name") {
		t.Errorf("token create without --name: exit %d, stderr %q; want 2", code, errOut)
	}

	code, out, _ = cli(t, dbURL, "", "token", "list")
	if code != 0 || !strings.Contains(out, "ci") || !strings.Contains(out, raw[:12]) || strings.Contains(out, raw) {
		t.Errorf("token list: exit %d, stdout %q; want the token's name and prefix but not the token", code, out)
	}

	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org, err := st.OrgBySlug(ctx, "acme-corp")
	if err != nil {
		t.Fatal(err)
	}
	ada, hash, err := st.UserByEmail(ctx, "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CheckPassword(hash, "correct horse battery"); err != nil {
		t.Errorf("ada's password from stdin does not verify: %v", err)
	}
	if role, err := st.MemberRole(ctx, org.ID, ada.ID); err != nil || role != store.RoleOwner {
		t.Errorf("ada's role = %q, %v; want owner", role, err)
	}
	tok, err := st.TokenByRaw(ctx, raw)
	if err != nil || tok.OrgID != org.ID || tok.Role != store.RoleEditor {
		t.Fatalf("the printed token = %+v, %v; want an editor token of acme-corp", tok, err)
	}

	if code, out, errOut := cli(t, dbURL, "", "token", "revoke", "--org", "acme-corp", "99999"); code != 1 {
		t.Errorf("revoking an unknown token: exit %d, %q %q; want 1", code, out, errOut)
	}
	if code, _, errOut := cli(t, dbURL, "", "token", "revoke", strconv.FormatInt(tok.ID, 10)); code != 0 {
		t.Fatalf("token revoke: exit %d, stderr %q", code, errOut)
	}
	if _, err := st.TokenByRaw(ctx, raw); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token: got %v, want ErrNotFound", err)
	}

	// With a second organisation, token commands need --org.
	if code, _, errOut := create("yet another password", "--email", "eve@example.org", "--org", "Other"); code != 0 {
		t.Fatalf("user in a second org: exit %d, %q", code, errOut)
	}
	if code, _, errOut := cli(t, dbURL, "", "token", "list"); code != 2 || !strings.Contains(errOut, "--org") {
		t.Errorf("token list with two organisations: exit %d, stderr %q; want 2 asking for --org", code, errOut)
	}

	if got, want := auditActions(t, st, org.ID), "token.revoke,token.create,member.add,member.add"; got != want {
		t.Errorf("audit actions = %s, want %s", got, want)
	}
}

// TestUserCreateNeverDemotes: `pharos user create` for a user who is
// already a member changes nothing (not their role, not their password)
// and says so; an organisation never loses its owner to the command, and
// one left without an owner gets one back only when asked.
func TestUserCreateNeverDemotes(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testUserCreateNeverDemotes(t, "sqlite://"+filepath.Join(t.TempDir(), "pharos.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testUserCreateNeverDemotes(t, storetest.PostgresURL(t))
	})
}

func testUserCreateNeverDemotes(t *testing.T, dbURL string) {
	ctx := t.Context()
	create := func(stdin, email string, args ...string) (int, string, string) {
		return cli(t, dbURL, stdin, append([]string{"user", "create", "--password-cost", "4", "--email", email, "--org", "ACME"}, args...)...)
	}
	if code, out, errOut := create("correct horse battery\n", "you@example.org"); code != 0 {
		t.Fatalf("user create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org, err := st.OrgBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	roleOf := func(email string) store.Role {
		t.Helper()
		u, _, err := st.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.MemberRole(ctx, org.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	for _, args := range [][]string{nil, {"--role", "viewer"}, {"--role", "editor"}, {"--role", "owner"}} {
		code, out, errOut := create("another good password\n", "you@example.org", args...)
		if want := "you@example.org is already a member of ACME (acme) as owner"; code != 0 || !strings.Contains(out, want) {
			t.Errorf("again with %q: exit %d, stdout %q, stderr %q; want 0 and %q", args, code, out, errOut, want)
		}
		if r := roleOf("you@example.org"); r != store.RoleOwner {
			t.Fatalf("after creating the owner again with %q: role %s, want owner", args, r)
		}
	}
	_, hash, err := st.UserByEmail(ctx, "you@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CheckPassword(hash, "correct horse battery"); err != nil {
		t.Errorf("the password changed: %v", err)
	}

	// Another member's role neither falls nor rises.
	if code, out, errOut := create("yet another password\n", "bob@example.org", "--role", "editor"); code != 0 {
		t.Fatalf("second member: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, r := range []string{"viewer", "owner"} {
		code, out, _ := create("", "bob@example.org", "--role", r)
		if want := "bob@example.org is already a member of ACME (acme) as editor"; code != 0 || !strings.Contains(out, want) {
			t.Errorf("bob again with --role %s: exit %d, stdout %q; want 0 and %q", r, code, out, want)
		}
		if got := roleOf("bob@example.org"); got != store.RoleEditor {
			t.Errorf("bob again with --role %s: role %s, want editor", r, got)
		}
	}

	// An organisation the old command left without an owner: nobody joins
	// it below owner, and a member becomes its owner only when asked.
	if _, err := st.DB().ExecContext(ctx, fmt.Sprintf(`UPDATE memberships SET role = 'viewer' WHERE org_id = %d AND role = 'owner'`, org.ID)); err != nil {
		t.Fatal(err)
	}
	code, out, _ := create("", "you@example.org")
	if code != 0 || !strings.Contains(out, "as viewer") || !strings.Contains(out, "--role owner") {
		t.Errorf("a member of an organisation without owner: exit %d, stdout %q; want 0, their role and how to make an owner", code, out)
	}
	if code, out, errOut := create("a good enough password\n", "carol@example.org", "--role", "editor"); code != 2 || !strings.Contains(errOut, "no owner") {
		t.Errorf("joining an organisation without owner as editor: exit %d, stdout %q, stderr %q; want 2 saying it has no owner", code, out, errOut)
	}
	if code, out, errOut := create("", "you@example.org", "--role", "owner"); code != 0 || !strings.Contains(out, "owner") {
		t.Errorf("making a member the owner of an organisation without one: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if r := roleOf("you@example.org"); r != store.RoleOwner {
		t.Errorf("after --role owner in an organisation without owner: role %s, want owner", r)
	}

	if got, want := auditActions(t, st, org.ID), "member.role,member.add,member.add"; got != want {
		t.Errorf("audit actions = %s, want %s", got, want)
	}
}

// auditActions lists the organisation's audit actions, newest first,
// joined by commas.
func auditActions(t *testing.T, st *store.Store, orgID int64) string {
	t.Helper()
	log, err := st.AuditLog(context.Background(), orgID, 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	return strings.Join(actions, ",")
}
