package checkcmd

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/probes"
	"pharos/probes/probetest"
)

const host = "www.pharos.test"

// fixture is a small PKI and one loopback TLS server per scenario.
type fixture struct {
	caFile string
	inter  *probetest.CA
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	old := time.Now().Add(-5 * 365 * 24 * time.Hour)
	root := probetest.NewRoot(probetest.CertOptions{CommonName: "Pharos CLI Root", Organization: "Pharos Test CA", NotBefore: old})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(root.PEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &fixture{caFile: caFile, inter: root.Intermediate(probetest.CertOptions{CommonName: "Pharos CLI R1", Organization: "Pharos Test CA", NotBefore: old})}
}

// serve starts a TLS server on ip for host with a certificate valid from
// notBefore to notAfter and returns the URL for path.
func (f *fixture) serve(t *testing.T, ip string, notBefore, notAfter time.Time, h http.Handler) string {
	t.Helper()
	cert := f.inter.Leaf(probetest.CertOptions{CommonName: host, DNSNames: []string{host}, NotBefore: notBefore, NotAfter: notAfter})
	ln := probetest.Listeners(t, ip)[0]
	probetest.ServeTLS(t, ln, cert, h, func(c *tls.Config) {})
	return fmt.Sprintf("https://%s:%s", host, probetest.Port(ln))
}

type run struct {
	code           int
	stdout, stderr string
}

func (r run) result(t *testing.T) probes.Result {
	t.Helper()
	var res probes.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("stdout is not a result: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return res
}

func codesOf(res probes.Result) string {
	var out []string
	for _, p := range res.Problems {
		out = append(out, string(p.Code))
	}
	return strings.Join(out, ",")
}

// runners run `pharos check` as the real binary (what users and scripts
// run) and in-process (so the race detector and coverage see Main).
func runners(t *testing.T) map[string]func(t *testing.T, env []string, args ...string) run {
	bin := pharosBinary(t)
	return map[string]func(t *testing.T, env []string, args ...string) run{
		"in-process": runInProcess,
		"binary":     func(t *testing.T, env []string, args ...string) run { return runBinary(t, bin, env, args...) },
	}
}

func runInProcess(t *testing.T, env []string, args ...string) run {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return run{code, stdout.String(), stderr.String()}
}

func runBinary(t *testing.T, bin string, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"check"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code < 0 {
		t.Fatalf("run %s: %v", bin, err)
	}
	return run{code, stdout.String(), stderr.String()}
}

// testVersion is the version the test binary is built with, as a release
// build links one in.
const testVersion = "v0.0.0-checkcmd-test"

var build struct {
	once sync.Once
	bin  string
	err  error
	dir  string
}

// pharosBinary builds the pharos binary once per test run.
func pharosBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			build.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		build.dir, err = os.MkdirTemp("", "pharos-checkcmd-")
		if err != nil {
			build.err = err
			return
		}
		bin := filepath.Join(build.dir, "pharos")
		cmd := exec.Command("go", "build", "-ldflags", "-X pharos/app/buildinfo.version="+testVersion, "-o", bin, "pharos")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build pharos: %v\n%s", err, out)
			return
		}
		probe, _ := exec.Command(bin, "check", "-h").CombinedOutput()
		if !strings.Contains(string(probe), "--expect-image") && !strings.Contains(string(probe), "-expect-image") {
			build.err = fmt.Errorf("`pharos check -h` does not show the check flags:\n%s", probe)
			return
		}
		build.bin = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}
