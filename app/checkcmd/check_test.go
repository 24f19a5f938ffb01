package checkcmd

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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

// runInProcess runs `pharos check` in the test process, where the race
// detector and coverage see Main. env is set with t.Setenv, so a test that
// passes env cannot run in parallel. binary_test.go runs the built binary
// once, to prove its wiring.
func runInProcess(t *testing.T, env []string, args ...string) run {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return run{code, stdout.String(), stderr.String()}
}
