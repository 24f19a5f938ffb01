package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"pharos/app/store/storetest"
)

// TestApplyCommandQuota: `pharos apply` takes its limits from the
// environment: beyond PHAROS_MAX_CHECKS the file is refused whole, a bad
// value stops the command naming the variable, and 0 lifts the limit.
func TestApplyCommandQuota(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testApplyCommandQuota(t, "sqlite://"+filepath.Join(t.TempDir(), "pharos.db"))
	})
	t.Run("postgres", func(t *testing.T) { testApplyCommandQuota(t, storetest.PostgresURL(t)) })
}

func testApplyCommandQuota(t *testing.T, dbURL string) {
	if code, _, errOut := cli(t, dbURL, "correct horse battery\n", "user", "create", "--password-cost", "4",
		"--email", "ada@example.org", "--org", "ACME"); code != 0 {
		t.Fatalf("user create: exit %d, %s", code, errOut)
	}
	const file = `page: {slug: acme, title: ACME}
components:
  - name: API
    checks:
      - {name: one, url: "https://api.acme.io/1"}
      - {name: two, url: "https://api.acme.io/2"}
`
	apply := func(maxChecks string) (int, string, string) {
		var out, errOut bytes.Buffer
		env := map[string]string{"PHAROS_DATABASE_URL": dbURL, "PHAROS_MAX_CHECKS": maxChecks}
		code := Main(context.Background(), []string{"apply", "-f", "-"}, Env{
			Stdin: strings.NewReader(file), Stdout: &out, Stderr: &errOut,
			Getenv: func(k string) string { return env[k] },
		})
		return code, out.String(), errOut.String()
	}
	code, _, errOut := apply("1")
	if want := "-:6: checks: 2 checks would exceed this organisation's limit of 1 (PHAROS_MAX_CHECKS)\n"; code != 1 || !strings.HasPrefix(errOut, want) {
		t.Errorf("PHAROS_MAX_CHECKS=1: got exit %d, stderr %q; want 1, %q…", code, errOut, want)
	}
	code, _, errOut = apply("one")
	if want := `PHAROS_MAX_CHECKS="one": want a whole number of checks per organisation, or 0 for no limit`; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("PHAROS_MAX_CHECKS=one: got exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
	code, out, errOut := apply("0")
	if code != 0 || !strings.HasSuffix(out, "apply: 4 created, 0 changed, 0 removed\n") {
		t.Errorf("PHAROS_MAX_CHECKS=0: got exit %d, stdout %q, stderr %q; want the file applied", code, out, errOut)
	}
}
