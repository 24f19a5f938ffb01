package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// metadataYAML has a check on the cloud metadata address, which the guard
// refuses even where private targets are allowed.
const metadataYAML = `page: {slug: lab, title: Lab}
regions: [local]
components:
  - name: Lab
    checks:
      - name: metadata
        url: http://169.254.169.254/latest/meta-data/
`

// TestApplyWarnsAboutRefusedTargets: a target the probes will refuse is
// written (the file is valid) with a line-numbered warning on stderr and in
// the report.
func TestApplyWarnsAboutRefusedTargets(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "lab")
		file := filepath.Join(t.TempDir(), "lab.yaml")
		if err := os.WriteFile(file, []byte(metadataYAML), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := command(st, "", "-f", file, "--dry-run")
		want := "warning: " + file + `:7: check "metadata": 169.254.169.254 is a cloud metadata endpoint; probes may not reach it`
		if code != 0 || !strings.Contains(stderr, want) || !strings.Contains(stdout, `+ check "metadata"`) {
			t.Fatalf("dry run: got exit %d, stdout %q, stderr %q; want 0, the plan, and %q", code, stdout, stderr, want)
		}
		rep, err := apply.Apply(context.Background(), st, org, "lab.yaml", []byte(metadataYAML), false, "test")
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Warnings) != 1 || rep.Warnings[0].Line != 7 || rep.Warnings[0].Check != "metadata" ||
			rep.Warnings[0].Path != "components[0].checks[0].url" {
			t.Errorf("report warnings: got %+v, want one for check metadata at line 7", rep.Warnings)
		}
		if n := count(t, st, "checks", org); n != 1 {
			t.Errorf("checks written: got %d, want 1 (a warning does not refuse the file)", n)
		}
	})
}
