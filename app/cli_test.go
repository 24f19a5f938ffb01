package app

import (
	"strings"
	"testing"
)

// TestHelp: pharos's own help lists the commands; a command's --help lists
// its flags, and only those that matter to it.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"help"}} {
		code, out, errOut := cli(t, "", "", args...)
		if code != 0 || !strings.Contains(out, "commands:") || !strings.Contains(out, "migrate") || errOut != "" {
			t.Errorf("pharos %s: exit %d, stdout %q, stderr %q; want 0 and the list of commands", args[0], code, out, errOut)
		}
	}
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"run", "--help"}, []string{"-listen", "-database-url", "-redis-url", "-smtp-url"}, nil},
		{[]string{"user", "create", "--help"}, []string{"-email", "-org", "-role", "-database-url"}, []string{"-listen", "-region", "-smtp-url", "-redis-url"}},
		{[]string{"user", "password", "-h"}, []string{"-email", "-database-url"}, []string{"-listen", "-region", "-smtp-url"}},
		{[]string{"token", "create", "--help"}, []string{"-name", "-org", "-role", "-database-url"}, []string{"-listen", "-region", "-smtp-url", "-base-url"}},
		{[]string{"migrate", "--help"}, []string{"-database-url"}, []string{"-listen", "-region", "-smtp-url"}},
	} {
		name := strings.Join(tc.args, " ")
		code, out, errOut := cli(t, "sqlite://"+t.TempDir()+"/unused.db", "", tc.args...)
		if code != 0 || strings.Contains(out, "commands:") {
			t.Errorf("pharos %s: exit %d, stdout %q; want 0 and its flags", name, code, out)
		}
		for _, f := range tc.want {
			if !strings.Contains(errOut, "  "+f+" ") {
				t.Errorf("pharos %s: help lacks %s:\n%s", name, f, errOut)
			}
		}
		for _, f := range tc.not {
			if strings.Contains(errOut, "  "+f+" ") {
				t.Errorf("pharos %s: help offers %s, which does nothing there:\n%s", name, f, errOut)
			}
		}
	}
}
