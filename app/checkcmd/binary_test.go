package checkcmd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes"
	"pharos/probes/probetest"
)

// testVersion is the version the smoke test's binary is built with, as a
// release build links one in.
const testVersion = "v0.0.0-checkcmd-test"

// buildPharos builds the pharos binary with the release build's linker
// flags (Dockerfile) into a directory of t's.
func buildPharos(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pharos")
	// The package directory is inside the module, so "pharos" names main.
	cmd := exec.Command("go", "build", "-ldflags", "-s -w -X pharos/app/buildinfo.version="+testVersion, "-o", bin, "pharos")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build pharos: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs `bin check args...` with the test's environment less the
// variables Main or the summary read, plus env.
func runBinary(t *testing.T, bin string, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"check"}, args...)...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == "PHAROS_ALLOW_PRIVATE_TARGETS" || k == "NO_COLOR" || k == "TERM"
	})
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code < 0 {
		t.Fatalf("run %s: %v", bin, err)
	}
	return run{code, stdout.String(), stderr.String()}
}

// TestBinary is the one test of the built binary; every other test runs
// Main in process. It proves what only the binary shows: main.go routes
// `pharos check` to Main, hands it the process's stdout, stderr and
// environment, and exits with Main's status (os.Exit); the release
// linker flags set the version; and the summary stays plain on a pipe,
// an *os.File that is not a terminal.
func TestBinary(t *testing.T) {
	t.Parallel()
	bin := buildPharos(t)
	f := newFixture(t)
	now := time.Now()
	day := 24 * time.Hour
	url := f.serve(t, "127.0.0.14", now.Add(-75*day), now.Add(15*day), probetest.Text(200, "text/plain", "hello")) + "/"
	target := []string{"--ca-file", f.caFile, "--resolve", "127.0.0.14", url}

	t.Run("help", func(t *testing.T) {
		r := runBinary(t, bin, nil, "-h")
		if r.code != 3 || !strings.HasPrefix(r.stdout, "usage: pharos check [flags] URL") || !strings.Contains(r.stdout, "-expect-image") || r.stderr != "" {
			t.Errorf("exit %d, stdout %q, stderr %q: want 3, the check flags' usage on stdout and nothing on stderr", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("version", func(t *testing.T) {
		r := runBinary(t, bin, nil, "--version")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "pharos "+testVersion+" (") {
			t.Errorf("exit %d, stdout %q: want 0 and the linked-in version %s", r.code, r.stdout, testVersion)
		}
	})
	// Each case runs in the binary with env and in process with the same
	// arguments plus inProcess (the flags env stands for): same exit
	// status, same stderr, same stdout (for --json, the same result but
	// for timings).
	tests := []struct {
		name      string
		env       []string
		args      []string
		inProcess []string
		code      int
	}{
		{"json degraded, private targets allowed by env", []string{"PHAROS_ALLOW_PRIVATE_TARGETS=true"},
			append([]string{"--json"}, target...), []string{"--allow-private"}, 1},
		{"json refused by the guard", nil, append([]string{"--json"}, target...), nil, 3},
		{"bad flag", nil, []string{"--frobnicate", url}, nil, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runBinary(t, bin, tc.env, tc.args...)
			want := runInProcess(t, nil, append(slices.Clone(tc.inProcess), tc.args...)...)
			if got.code != tc.code || want.code != tc.code {
				t.Errorf("exit %d, in process %d: want %d\nstdout: %s\nstderr: %s", got.code, want.code, tc.code, got.stdout, got.stderr)
			}
			if got.stderr != want.stderr {
				t.Errorf("stderr %q, in process %q", got.stderr, want.stderr)
			}
			if !slices.Contains(tc.args, "--json") {
				if got.stdout != want.stdout {
					t.Errorf("stdout %q, in process %q", got.stdout, want.stdout)
				}
				return
			}
			if diff := cmp.Diff(untimed(want.result(t)), untimed(got.result(t))); diff != "" {
				t.Errorf("--json result (-in process +binary):\n%s", diff)
			}
		})
	}
	t.Run("summary on a pipe", func(t *testing.T) {
		r := runBinary(t, bin, []string{"PHAROS_ALLOW_PRIVATE_TARGETS=true", "TERM=xterm-256color"}, target...)
		if r.code != 1 || !strings.HasPrefix(r.stdout, "PHAROS WARNING - ") || !strings.Contains(r.stdout, url+"  DEGRADED") || r.stderr != "" {
			t.Errorf("exit %d, stdout %q, stderr %q: want 1, the WARNING status line and summary, nothing on stderr", r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("summary is coloured though stdout is a pipe:\n%q", r.stdout)
		}
	})
}

// untimed is res without what differs between two runs: when it ran and
// how long each phase took.
func untimed(res probes.Result) probes.Result {
	res.CheckedAt, res.DurationMS = time.Time{}, 0
	res.Nodes = slices.Clone(res.Nodes)
	for i := range res.Nodes {
		res.Nodes[i].Timings = probes.Timings{}
	}
	return res
}
