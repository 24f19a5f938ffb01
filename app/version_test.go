package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"pharos/app/buildinfo"
)

// TestVersion: pharos version, -V and --version print the build's version
// and exit 0 without loading any configuration.
func TestVersion(t *testing.T) {
	t.Parallel()
	want := buildinfo.Read().String() + "\n"
	for _, args := range [][]string{{"version"}, {"-V"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), args, Env{Stdout: &stdout, Stderr: &stderr,
			Getenv: func(string) string { return "" }})
		if code != 0 || stdout.String() != want || stderr.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and %q", strings.Join(args, " "), code, stdout.String(), stderr.String(), want)
		}
	}
}
