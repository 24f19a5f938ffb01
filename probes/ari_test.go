package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

// TestARICertID checks the identifier against RFC 9773 §4.1's example.
func TestARICertID(t *testing.T) {
	t.Parallel()
	aki, _ := hex.DecodeString("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
	c := &x509.Certificate{AuthorityKeyId: aki, SerialNumber: big.NewInt(0x87654321)}
	got, err := ariCertID(c)
	if want := "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := ariCertID(&x509.Certificate{SerialNumber: big.NewInt(1)}); err == nil {
		t.Error("no AKI: want an error")
	}
}

// acmeServer is a local ACME directory serving renewalInfo windows.
type acmeServer struct {
	base    string
	mu      sync.Mutex
	windows map[string]ariWindow // by certificate id
	queries atomic.Int32
}

func newACMEServer(t testing.TB) *acmeServer {
	t.Helper()
	ln := probetest.Listeners(t, "127.0.0.5")[0]
	s := &acmeServer{base: "http://acme.pharos.test:" + probetest.Port(ln), windows: map[string]ariWindow{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /directory", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"newNonce": s.base + "/nonce", "renewalInfo": s.base + "/renewal-info"})
	})
	mux.HandleFunc("GET /renewal-info/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.queries.Add(1)
		s.mu.Lock()
		win, ok := s.windows[r.PathValue("id")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Retry-After", "21600")
		json.NewEncoder(w).Encode(map[string]any{"suggestedWindow": win, "explanationURL": "https://ca.example/incident-42"})
	})
	probetest.ServeHTTP(t, ln, mux)
	return s
}

func (s *acmeServer) set(t testing.TB, c tls.Certificate, w ariWindow) {
	t.Helper()
	id, err := ariCertID(c.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows[id] = w
}

func TestRenewalDue(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	acme := newACMEServer(t)
	now := time.Now()
	future := k.leaf(probetest.CertOptions{NotBefore: now.Add(-10 * day)})
	passed := k.leaf(probetest.CertOptions{NotBefore: now.Add(-10 * day)})
	movedToNow := k.leaf(probetest.CertOptions{NotBefore: now.Add(-10 * day)})
	unknown := k.leaf(probetest.CertOptions{NotBefore: now.Add(-10 * day)})
	acme.set(t, future, ariWindow{Start: now.Add(50 * day), End: now.Add(52 * day)})
	acme.set(t, passed, ariWindow{Start: now.Add(-5 * day), End: now.Add(-3 * day)})
	acme.set(t, movedToNow, ariWindow{Start: now.Add(-2 * time.Hour), End: now.Add(-time.Hour)})
	res := fakeResolver{testHost: {"127.0.0.2"}, "acme.pharos.test": {"127.0.0.5"}}

	tests := []struct {
		name string
		cert tls.Certificate
		want []string
		msg  []string
	}{
		{name: "window in the future", cert: future},
		{name: "window passed", cert: passed, want: []string{"cert_renewal_due"}, msg: []string{"suggested renewal window", "(3 days ago)", "https://ca.example/incident-42"}},
		{name: "window moved to now", cert: movedToNow, want: []string{"cert_renewal_due"}, msg: []string{"(1 hour ago)"}},
		{name: "CA does not know it", cert: unknown},
	}
	// The directory is known two ways: the check's tls.acme_directory, and
	// the prober's table of issuers.
	probers := map[string]struct {
		pr  *Prober
		dir string
	}{
		"tls.acme_directory": {New(Options{Roots: probetest.Pool(k.root), Resolver: res, Allow: allowTestNodes}), acme.base + "/directory"},
		"known issuer": {New(Options{Roots: probetest.Pool(k.root), Resolver: res, Allow: allowTestNodes,
			ACMEDirectories: map[string]string{"Pharos Test CA": acme.base + "/directory"}}), ""},
	}
	for _, tc := range tests {
		url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: tc.cert})
		for how, p := range probers {
			before := acme.queries.Load()
			for round := range 2 {
				r := p.pr.Run(context.Background(), Spec{URL: url, TLS: TLSSpec{ACMEDirectory: p.dir}})
				got := onlyCodes(r.Problems)
				if len(got) == 0 {
					got = nil
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Fatalf("%s, %s, round %d: codes (-want +got):\n%s\n%v", tc.name, how, round, diff, r.Problems)
				}
				if tc.want != nil {
					if r.Problems[0].Severity != SeverityWarning || r.State != StateDegraded {
						t.Errorf("%s: %s %s, want a warning, degraded", tc.name, r.Problems[0].Severity, r.State)
					}
					wantMessage(t, r.Problems[0], tc.msg...)
				}
			}
			if n := acme.queries.Load() - before; n != 1 {
				t.Errorf("%s, %s: renewalInfo asked %d times over two probes, want 1 (cached)", tc.name, how, n)
			}
		}
	}
	// A certificate whose CA has no known directory is not asked about.
	before := acme.queries.Load()
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: passed})
	if r := k.prober(nil, res).Run(context.Background(), Spec{URL: url}); r.State != StateUp || acme.queries.Load() != before {
		t.Errorf("no directory: got %s %v after %d queries, want up and none", r.State, r.Problems, acme.queries.Load()-before)
	}
}

func TestACMEDirectoryValidated(t *testing.T) {
	t.Parallel()
	err := Spec{URL: "https://x.example/", TLS: TLSSpec{ACMEDirectory: "acme.example/directory"}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "tls.acme_directory") {
		t.Errorf("got %v, want a tls.acme_directory error", err)
	}
}
