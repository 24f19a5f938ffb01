package apply_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func command(st *store.Store, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = apply.Command(context.Background(), st, apply.Limits{}, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommand(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		const file = "../../deploy/pharos.example.yaml"
		code, _, stderr := command(st, "", "-f", file)
		if code == 0 || !strings.Contains(stderr, "no organisation yet: create one with `pharos user create --email … --org …` or the setup page") {
			t.Fatalf("without an organisation: got exit %d, stderr %q, want a refusal naming the way out", code, stderr)
		}
		org := newOrg(t, st, "acme-inc")

		code, stdout, stderr := command(st, "", "-f", file, "--dry-run")
		if code != 0 || !strings.HasSuffix(stdout, "\napply: 11 created, 0 changed, 0 removed (dry run, nothing written)\n") {
			t.Fatalf("dry run: got exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if n := count(t, st, "pages", org); n != 0 {
			t.Errorf("dry run wrote %d pages", n)
		}

		code, stdout, stderr = command(st, "", "-f", file)
		if code != 0 || !strings.HasPrefix(stdout, "+ page \"acme\"\n") || !strings.HasSuffix(stdout, "\napply: 11 created, 0 changed, 0 removed\n") {
			t.Fatalf("first apply: got exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		code, stdout, _ = command(st, "", "-f", file)
		if code != 0 || stdout != "apply: 0 created, 0 changed, 0 removed\n" {
			t.Errorf("second apply: got exit %d, stdout %q, want only the 0/0/0 summary", code, stdout)
		}

		before := dump(t, st, org)
		code, stdout, stderr = command(st, "", "-f", "testdata/bad.yaml")
		if code != 1 || stdout != "" {
			t.Errorf("bad file: got exit %d, stdout %q, want 1 and nothing on stdout", code, stdout)
		}
		for _, want := range []string{
			"testdata/bad.yaml:9: components[0].checks[0].url: ",
			"testdata/bad.yaml:10: components[0].checks[0].interval: ",
			`testdata/bad.yaml:12: components[1].colour: unknown key "colour"`,
			"testdata/bad.yaml:19: maintenance[0].schedule: ",
			"testdata/bad.yaml:21: maintenance[0].timezone: ",
			"nothing written",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("bad file: stderr %q does not contain %q", stderr, want)
			}
		}
		if after := dump(t, st, org); len(after["pages"]) != len(before["pages"]) || len(after["audit_log"]) != len(before["audit_log"]) {
			t.Errorf("bad file wrote something")
		}

		code, stdout, _ = command(st, `{"page": {"slug": "stdin", "title": "From stdin"}}`, "-f", "-")
		if code != 0 || stdout != "+ page \"stdin\"\napply: 1 created, 0 changed, 0 removed\n" {
			t.Errorf("-f -: got exit %d, stdout %q", code, stdout)
		}

		newOrg(t, st, "other")
		code, _, stderr = command(st, "", "-f", file)
		if code == 0 || !strings.Contains(stderr, "--org") {
			t.Errorf("several organisations: got exit %d, stderr %q, want --org required", code, stderr)
		}
		code, stdout, _ = command(st, "", "-f", file, "--org", "acme-inc")
		if code != 0 || stdout != "apply: 0 created, 0 changed, 0 removed\n" {
			t.Errorf("--org: got exit %d, stdout %q", code, stdout)
		}
		if code, _, _ := command(st, ""); code != 2 {
			t.Errorf("no -f: got exit %d, want 2", code)
		}
		if code, _, stderr := command(st, "", "-f", "testdata/missing.yaml", "--org", "acme-inc"); code != 1 || !strings.Contains(stderr, "missing.yaml") {
			t.Errorf("missing file: got exit %d, stderr %q", code, stderr)
		}
	})
}
