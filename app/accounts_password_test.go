package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestUserPasswordCommand: `pharos user password` sets a password read
// from stdin, ends the user's sessions and is audited.
func TestUserPasswordCommand(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testUserPasswordCommand(t, "sqlite://"+filepath.Join(t.TempDir(), "pharos.db"))
	})
	t.Run("postgres", func(t *testing.T) { testUserPasswordCommand(t, storetest.PostgresURL(t)) })
}

func testUserPasswordCommand(t *testing.T, dbURL string) {
	ctx := context.Background()
	if code, _, errOut := cli(t, dbURL, "correct horse battery\n", "user", "create", "--password-cost", "4",
		"--email", "ada@example.org", "--org", "ACME"); code != 0 {
		t.Fatalf("user create: exit %d, stderr %q", code, errOut)
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	user, _, err := st.UserByEmail(ctx, "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	org, err := st.OrgBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	session, err := st.CreateSession(ctx, org.ID, user.ID)
	if err != nil {
		t.Fatal(err)
	}

	set := func(stdin string, args ...string) (int, string, string) {
		return cli(t, dbURL, stdin, append([]string{"user", "password", "--password-cost", "4"}, args...)...)
	}
	for name, tc := range map[string]struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		"no email":         {"x", nil, 2, "--email"},
		"unknown user":     {"a long enough one\n", []string{"--email", "nobody@example.org"}, 1, "no user"},
		"short password":   {"short\n", []string{"--email", "ada@example.org"}, 1, "at least 10"},
		"common password":  {"password123\n", []string{"--email", "ada@example.org"}, 1, "one of the most common passwords"},
		"two common words": {"correct horse\n", []string{"--email", "ada@example.org"}, 1, "too easy to guess"},
	} {
		if code, _, errOut := set(tc.stdin, tc.args...); code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", name, code, errOut, tc.code, tc.msg)
		}
	}
	code, out, errOut := set("a brand new password\n", "--email", "Ada@Example.org")
	if code != 0 || !strings.Contains(out, "set the password of ada@example.org and ended 1 session(s)") {
		t.Fatalf("user password: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, hash, err := st.UserByEmail(ctx, "ada@example.org")
	if err != nil || store.CheckPassword(hash, "a brand new password") != nil {
		t.Errorf("the new password does not work (%v)", err)
	}
	if _, err := st.SessionByToken(ctx, session); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session after the new password: got %v, want ErrNotFound", err)
	}
	entries, err := st.AuditLog(ctx, org.ID, 10)
	if err != nil || len(entries) == 0 || entries[0].Action != "user.password_reset" || entries[0].Actor != "cli" {
		t.Errorf("latest audit entry = %+v, %v; want user.password_reset by cli", entries, err)
	}
	if code, out, _ := cli(t, dbURL, "", "user", "help"); code != 0 || !strings.Contains(out, "pharos user password --email") {
		t.Errorf("user help: exit %d, stdout %q; want the password command listed", code, out)
	}
}
