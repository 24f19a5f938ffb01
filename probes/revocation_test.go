package probes

import (
	"context"
	"crypto/tls"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

// revocationLab is a CA that revokes by CRL (leaves and an intermediate)
// and one that revokes by OCSP, their CRLs and responder served on
// loopback at crl.pharos.test (127.0.0.5), and a dead source at
// dead.pharos.test (127.0.0.6, nothing listening).
type revocationLab struct {
	k                     *pki
	rootRevs, crlRevs     *probetest.Revocations
	ocspRevs              *probetest.Revocations
	crlCA, ocspCA, badCA  *probetest.CA
	base, dead            string
	rootFetches, crlFetch atomic.Int32
	ocspQueries           atomic.Int32
	resolver              fakeResolver
}

func newRevocationLab(t testing.TB) *revocationLab {
	t.Helper()
	lab := &revocationLab{k: newPKI(t)}
	k := lab.k
	lns := probetest.Listeners(t, "127.0.0.5", "127.0.0.6")
	lns[1].Close() // a revocation source that refuses connections
	lab.base = "http://crl.pharos.test:" + probetest.Port(lns[0])
	lab.dead = "http://dead.pharos.test:" + probetest.Port(lns[1])
	lab.rootRevs = probetest.NewRevocations(k.root)
	old := time.Now().Add(-365 * day)
	lab.crlCA = k.root.Intermediate(probetest.CertOptions{CommonName: "Pharos CRL R2", Organization: "Pharos Test CA", NotBefore: old, CRL: lab.base + "/root.crl"})
	lab.badCA = k.root.Intermediate(probetest.CertOptions{CommonName: "Pharos Revoked R3", Organization: "Pharos Test CA", NotBefore: old, CRL: lab.base + "/root.crl"})
	lab.ocspCA = k.root.Intermediate(probetest.CertOptions{CommonName: "Pharos OCSP R4", Organization: "Pharos Test CA", NotBefore: old})
	lab.rootRevs.Revoke(lab.badCA.Cert)
	lab.crlRevs = probetest.NewRevocations(lab.crlCA)
	lab.ocspRevs = probetest.NewRevocations(lab.ocspCA)
	mux := http.NewServeMux()
	count := func(n *atomic.Int32, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); h.ServeHTTP(w, r) })
	}
	mux.Handle("/root.crl", count(&lab.rootFetches, lab.rootRevs.CRLHandler()))
	mux.Handle("/r2.crl", count(&lab.crlFetch, lab.crlRevs.CRLHandler()))
	mux.Handle("/ocsp", count(&lab.ocspQueries, lab.ocspRevs.OCSPHandler()))
	probetest.ServeHTTP(t, lns[0], mux)
	lab.resolver = fakeResolver{testHost: {"127.0.0.2"}, "crl.pharos.test": {"127.0.0.5"}, "dead.pharos.test": {"127.0.0.6"}}
	return lab
}

func (lab *revocationLab) leaf(ca *probetest.CA, o probetest.CertOptions) tls.Certificate {
	o.DNSNames = []string{testHost}
	o.CommonName = testHost
	return ca.Leaf(o)
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	lab := newRevocationLab(t)
	crlURL := lab.base + "/r2.crl"
	crlGood := lab.leaf(lab.crlCA, probetest.CertOptions{CRL: crlURL})
	crlRevoked := lab.leaf(lab.crlCA, probetest.CertOptions{CRL: crlURL})
	lab.crlRevs.Revoke(crlRevoked.Leaf)
	underRevokedInter := lab.leaf(lab.badCA, probetest.CertOptions{})
	ocspGood := lab.leaf(lab.ocspCA, probetest.CertOptions{OCSP: lab.base + "/ocsp"})
	ocspRevoked := lab.leaf(lab.ocspCA, probetest.CertOptions{OCSP: lab.base + "/ocsp"})
	lab.ocspRevs.Revoke(ocspRevoked.Leaf)
	// Stapled answers, with a responder URL that cannot be reached: only
	// the staple can give the verdict.
	stapledRevoked := lab.leaf(lab.ocspCA, probetest.CertOptions{OCSP: lab.dead + "/ocsp"})
	lab.ocspRevs.Revoke(stapledRevoked.Leaf)
	stapledRevoked.OCSPStaple = lab.ocspRevs.OCSP(stapledRevoked.Leaf)
	stapledGood := lab.leaf(lab.ocspCA, probetest.CertOptions{OCSP: lab.dead + "/ocsp"})
	stapledGood.OCSPStaple = lab.ocspRevs.OCSP(stapledGood.Leaf)
	unreachable := lab.leaf(lab.crlCA, probetest.CertOptions{CRL: lab.dead + "/r2.crl"})

	tests := []struct {
		name string
		cert tls.Certificate
		want []string
		sev  Severity
		msg  []string
	}{
		{name: "CRL, not revoked", cert: crlGood},
		{name: "CRL, leaf revoked", cert: crlRevoked, want: []string{"cert_revoked"}, sev: SeverityCritical,
			msg: []string{"certificate for " + testHost, "was revoked by its CA", "(30 minutes ago) for key compromise", "the CRL at " + crlURL}},
		{name: "CRL, intermediate revoked", cert: underRevokedInter, want: []string{"cert_revoked"}, sev: SeverityCritical,
			msg: []string{`intermediate certificate "CN=Pharos Revoked R3,O=Pharos Test CA"`, "the CRL at " + lab.base + "/root.crl"}},
		{name: "OCSP, good", cert: ocspGood},
		{name: "OCSP, revoked", cert: ocspRevoked, want: []string{"cert_revoked"}, sev: SeverityCritical,
			msg: []string{"the OCSP responder at " + lab.base + "/ocsp"}},
		{name: "stapled OCSP, revoked", cert: stapledRevoked, want: []string{"cert_revoked"}, sev: SeverityCritical,
			msg: []string{"the stapled OCSP response"}},
		{name: "stapled OCSP, good", cert: stapledGood},
		{name: "CRL unreachable is a note", cert: unreachable, want: []string{"cert_revoked"}, sev: SeverityInfo,
			msg: []string{"could not be checked", lab.dead + "/r2.crl"}},
	}
	pr := New(Options{Roots: probetest.Pool(lab.k.root), Resolver: lab.resolver, Allow: allowTestNodes})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: tc.cert})
			for round := range 2 { // the second round answers from the cache
				res := pr.Run(context.Background(), Spec{URL: url, Timeout: Duration(5 * time.Second)})
				got := onlyCodes(res.Problems)
				if len(got) == 0 {
					got = nil
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Fatalf("round %d: codes (-want +got):\n%s\n%v", round, diff, res.Problems)
				}
				if tc.want != nil {
					p := res.Problems[0]
					if p.Severity != tc.sev {
						t.Errorf("severity %s, want %s", p.Severity, tc.sev)
					}
					wantMessage(t, p, tc.msg...)
				}
				if wantState := Worst(res.Problems); res.State != wantState || tc.sev == SeverityInfo && res.State != StateUp {
					t.Errorf("state %s, want %s", res.State, wantState)
				}
			}
		})
	}
	// One CRL fetch per list for every certificate and round; one OCSP
	// query per certificate the responder was asked about (good, revoked).
	if n := lab.crlFetch.Load(); n != 1 {
		t.Errorf("CRL r2 fetched %d times, want 1 (cached until nextUpdate)", n)
	}
	if n := lab.rootFetches.Load(); n != 1 {
		t.Errorf("root CRL fetched %d times, want 1", n)
	}
	if n := lab.ocspQueries.Load(); n != 2 {
		t.Errorf("OCSP responder asked %d times, want 2 (staples first, answers cached)", n)
	}
}

// TestRevocationFetchIsGuarded: a CRL URL at a refused address is not
// fetched and gives a note naming the refusal.
func TestRevocationFetchIsGuarded(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	cert := k.leaf(probetest.CertOptions{CRL: "http://127.0.0.1:1/r1.crl"})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Nodes: Nodes{Addrs: []string{"127.0.0.2"}}})
	if res.State != StateUp || len(res.Problems) != 1 || res.Problems[0].Severity != SeverityInfo {
		t.Fatalf("got %s %v, want up with one note", res.State, res.Problems)
	}
	wantMessage(t, res.Problems[0], "127.0.0.1 is a loopback address; probes may not reach it")
}

// TestRevocationCacheExpires: a CRL is fetched again once the prober's
// clock passes its nextUpdate.
func TestRevocationCacheExpires(t *testing.T) {
	t.Parallel()
	lab := newRevocationLab(t)
	cert := lab.leaf(lab.crlCA, probetest.CertOptions{CRL: lab.base + "/r2.crl"})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert})
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	lab.crlRevs.Now = now
	pr := New(Options{Roots: probetest.Pool(lab.k.root), Resolver: lab.resolver, Allow: allowTestNodes, Now: now})
	run := func() {
		if res := pr.Run(context.Background(), Spec{URL: url}); res.State != StateUp || len(res.Problems) != 0 {
			t.Fatalf("got %s %v, want up", res.State, res.Problems)
		}
	}
	run()
	clock.Add(int64(time.Hour))
	run()
	if n := lab.crlFetch.Load(); n != 1 {
		t.Fatalf("fetched %d times within nextUpdate, want 1", n)
	}
	clock.Add(int64(25 * time.Hour)) // the CRL's nextUpdate is a day after it was made
	lab.crlRevs.Revoke(cert.Leaf)
	res := pr.Run(context.Background(), Spec{URL: url})
	if diff := cmp.Diff([]string{"cert_revoked"}, onlyCodes(res.Problems)); diff != "" || lab.crlFetch.Load() != 2 {
		t.Errorf("after nextUpdate: fetched %d times, codes (-want +got):\n%s", lab.crlFetch.Load(), diff)
	}
}
