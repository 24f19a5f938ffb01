package probes

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"pharos/probes/probetest"
)

// TestCertificateFailures serves each certificate failure of DESIGN §1 on
// a real TLS listener and checks the exact problem codes reported.
func TestCertificateFailures(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	now := time.Now()
	day := 24 * time.Hour
	expiredInter := k.root.Intermediate(probetest.CertOptions{CommonName: "Pharos Old R0", NotBefore: now.Add(-400 * day), NotAfter: now.Add(-3 * day)})
	otherHost := k.leaf(probetest.CertOptions{DNSNames: []string{"www.elsewhere.test"}})
	internal := k.internal.Leaf(probetest.CertOptions{DNSNames: []string{testHost}})

	tests := []struct {
		name  string
		cert  tls.Certificate
		mod   func(*tls.Config)
		spec  func(*Spec)
		clock time.Duration // added to the prober's clock
		want  []string
		sev   Severity // severity of the first problem, when set
	}{
		{name: "valid", cert: k.leaf(probetest.CertOptions{}), want: nil},
		{name: "leaf expired", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(-100 * day), NotAfter: now.Add(-2 * day)}), want: []string{"cert_expired"}},
		{name: "expired intermediate under valid leaf",
			cert: expiredInter.Leaf(probetest.CertOptions{DNSNames: []string{testHost}, NotBefore: now.Add(-10 * day)}),
			want: []string{"cert_expired"}},
		{name: "not yet valid", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(2 * day)}), want: []string{"cert_not_yet_valid"}},
		{name: "expiring warning", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(-75 * day), NotAfter: now.Add(15 * day)}),
			want: []string{"cert_expiring", "cert_renewal_overdue"}, sev: SeverityWarning},
		{name: "expiring critical", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(-85 * day), NotAfter: now.Add(5 * day)}),
			want: []string{"cert_expiring", "cert_renewal_overdue"}, sev: SeverityCritical},
		{name: "short certificate with 15 days left is healthy", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(-3 * day), NotAfter: now.Add(15 * day)})},
		{name: "short certificate with 15 days left, explicit warn_days", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(-3 * day), NotAfter: now.Add(15 * day)}),
			spec: func(s *Spec) { s.TLS.WarnDays = 21 }, want: []string{"cert_expiring"}, sev: SeverityWarning},
		{name: "expiring with custom thresholds passes", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(-3 * day), NotAfter: now.Add(15 * day)}),
			spec: func(s *Spec) { s.TLS.WarnDays, s.TLS.CriticalDays = 10, 3 }},
		{name: "renewal overdue at 70% of lifetime", cert: k.leaf(probetest.CertOptions{}), clock: 63 * day,
			want: []string{"cert_renewal_overdue"}, sev: SeverityWarning},
		{name: "renewal on schedule at 60%", cert: k.leaf(probetest.CertOptions{}), clock: 54 * day},
		{name: "hostname mismatch", cert: otherHost, want: []string{"cert_hostname_mismatch"}},
		{name: "internal CA untrusted", cert: internal, want: []string{"cert_untrusted"}},
		{name: "internal CA trusted via tls.ca", cert: internal, spec: func(s *Spec) { s.TLS.CA = k.internal.PEM() }},
		{name: "issuer unexpected", cert: internal, spec: func(s *Spec) { s.TLS.CA = k.internal.PEM(); s.TLS.Issuer = "Pharos Test CA" },
			want: []string{"cert_issuer_unexpected"}},
		{name: "issuer expected by organisation", cert: k.leaf(probetest.CertOptions{}), spec: func(s *Spec) { s.TLS.Issuer = "pharos test ca" }},
		{name: "issuer expected by common name", cert: k.leaf(probetest.CertOptions{}), spec: func(s *Spec) { s.TLS.Issuer = "R1" }},
		{name: "issuer changed", cert: k.leaf(probetest.CertOptions{}), spec: func(s *Spec) { s.PreviousIssuer = "CN=R11,O=Let's Encrypt,C=US" },
			want: []string{"cert_issuer_changed"}, sev: SeverityWarning},
		{name: "issuer unchanged", cert: k.leaf(probetest.CertOptions{}), spec: func(s *Spec) { s.PreviousIssuer = "CN=Pharos R1,O=Pharos Test CA" }},
		{name: "tls version low", cert: k.leaf(probetest.CertOptions{}), mod: func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 },
			spec: func(s *Spec) { s.TLS.MinVersion = "1.3" }, want: []string{"tls_version_low"}, sev: SeverityWarning},
		{name: "tls 1.2 meets the default minimum", cert: k.leaf(probetest.CertOptions{}), mod: func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }},
		{name: "handshake failed", cert: k.leaf(probetest.CertOptions{}), mod: func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert },
			want: []string{"tls_handshake_failed"}},
		{name: "severity override lowers expiry", cert: k.leaf(probetest.CertOptions{NotBefore: now.Add(-100 * day), NotAfter: now.Add(-2 * day)}),
			spec: func(s *Spec) { s.Severity = map[Code]Severity{CodeCertExpired: SeverityWarning} }, want: []string{"cert_expired"}, sev: SeverityWarning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: tc.cert, mod: tc.mod})
			spec := Spec{URL: url, Timeout: Duration(5 * time.Second)}
			if tc.spec != nil {
				tc.spec(&spec)
			}
			clock := func() time.Time { return time.Now().Add(tc.clock) }
			res := k.prober(clock, nil).Run(context.Background(), spec)
			if diff := cmp.Diff(tc.want, onlyCodes(res.Problems), cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\nproblems: %v", diff, res.Problems)
			}
			if tc.sev != "" && res.Problems[0].Severity != tc.sev {
				t.Errorf("severity: got %s, want %s", res.Problems[0].Severity, tc.sev)
			}
			wantState := StateUp
			if len(tc.want) > 0 {
				wantState = Worst(res.Problems)
			}
			if res.State != wantState {
				t.Errorf("state: got %s, want %s", res.State, wantState)
			}
		})
	}
}

func TestExpiredIntermediateNamed(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	now := time.Now()
	old := k.root.Intermediate(probetest.CertOptions{CommonName: "Pharos Old R0", NotBefore: now.Add(-400 * 24 * time.Hour), NotAfter: now.Add(-3 * 24 * time.Hour)})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: old.Leaf(probetest.CertOptions{DNSNames: []string{testHost}, NotBefore: now.Add(-10 * 24 * time.Hour)})})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url})
	wantMessage(t, findProblem(t, res, CodeCertExpired), `intermediate certificate "CN=Pharos Old R0"`, "expired", "(3 days ago)")
	if res.Nodes[0].TLS.Leaf.DaysLeft < 79 {
		t.Errorf("leaf days_left %d, want the valid leaf's ~80", res.Nodes[0].TLS.Leaf.DaysLeft)
	}
}

// TestMissingIntermediate serves only the leaf. With an AIA URL pointing at
// a local plain-HTTP server holding the intermediate, the chain completes
// and the probe reports cert_chain_incomplete; without, the probe still
// names the missing intermediate.
func TestMissingIntermediate(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	aiaLn := probetest.Listeners(t, "127.0.0.5")[0]
	var fetches atomic.Int32
	probetest.ServeHTTP(t, aiaLn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(k.inter.Cert.Raw)
	}))
	aia := "http://aia.pharos.test:" + probetest.Port(aiaLn) + "/r1.der"
	withAIA := probetest.WithoutIntermediates(k.leaf(probetest.CertOptions{AIA: aia}))
	noAIA := probetest.WithoutIntermediates(k.leaf(probetest.CertOptions{}))
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: withAIA}, node{ip: "127.0.0.3", cert: noAIA})
	pr := k.prober(nil, fakeResolver{testHost: {"127.0.0.2"}, "aia.pharos.test": {"127.0.0.5"}})

	res := pr.Run(context.Background(), Spec{URL: url})
	if diff := cmp.Diff([]string{"cert_chain_incomplete"}, onlyCodes(res.Problems)); diff != "" {
		t.Fatalf("with AIA (-want +got):\n%s\n%v", diff, res.Problems)
	}
	wantMessage(t, res.Problems[0], `intermediate "CN=Pharos R1,O=Pharos Test CA"`, aia)
	if tl := res.Nodes[0].TLS; tl.ChainTrusted || len(tl.Chain) != 2 || tl.Chain[0].Source != "fetched" || tl.Chain[1].Source != "root" {
		t.Errorf("with AIA: chain_trusted %v chain %+v, want false and [fetched root]", tl.ChainTrusted, tl.Chain)
	}
	pr.Run(context.Background(), Spec{URL: url})
	if fetches.Load() != 1 {
		t.Errorf("AIA fetched %d times over two probes, want 1 (cached)", fetches.Load())
	}

	res = pr.Run(context.Background(), Spec{URL: url, Nodes: Nodes{Addrs: []string{"127.0.0.3"}}})
	if diff := cmp.Diff([]string{"cert_chain_incomplete"}, onlyCodes(res.Problems)); diff != "" {
		t.Fatalf("without AIA (-want +got):\n%s", diff)
	}
	wantMessage(t, res.Problems[0], `the intermediate "CN=Pharos R1,O=Pharos Test CA"`, "no AIA URL")
}

// TestAIAFetchIsGuarded: an AIA URL pointing at a refused address is not
// fetched, so the chain stays incomplete and the refusal is named.
func TestAIAFetchIsGuarded(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	cert := probetest.WithoutIntermediates(k.leaf(probetest.CertOptions{AIA: "http://127.0.0.1:1/r1.der"}))
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url})
	if diff := cmp.Diff([]string{"cert_chain_incomplete"}, onlyCodes(res.Problems)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	wantMessage(t, res.Problems[0], "fetching it failed", "127.0.0.1 is a loopback address; probes may not reach it")
}

// TestSelfSignedLeafTrustedAsRoot: a self-signed certificate trusted
// through tls.ca (--ca-file) is both the leaf and the root of its
// one-certificate chain. It is still the site's certificate, so expiry
// and renewal are judged as for any leaf.
func TestSelfSignedLeafTrustedAsRoot(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	now := time.Now()
	day := 24 * time.Hour
	tests := []struct {
		name  string
		nb    time.Time
		na    time.Time
		spec  func(*Spec)
		clock time.Duration
		want  []string
		sev   Severity // of cert_expiring, when wanted
	}{
		{name: "healthy", nb: now.Add(-day), na: now.Add(89 * day)},
		{name: "10 days left, warn 30", nb: now.Add(-time.Hour), na: now.Add(10 * day),
			spec: func(s *Spec) { s.TLS.WarnDays = 30 }, want: []string{"cert_expiring"}, sev: SeverityWarning},
		{name: "10 days left, critical 20", nb: now.Add(-time.Hour), na: now.Add(10 * day),
			spec: func(s *Spec) { s.TLS.WarnDays, s.TLS.CriticalDays = 30, 20 }, want: []string{"cert_expiring"}, sev: SeverityCritical},
		{name: "default thresholds, late in its life", nb: now.Add(-80 * day), na: now.Add(10 * day),
			want: []string{"cert_expiring", "cert_renewal_overdue"}, sev: SeverityWarning},
		{name: "renewal overdue at 70%", nb: now.Add(-time.Hour), na: now.Add(90 * day), clock: 63 * day,
			want: []string{"cert_renewal_overdue"}},
		{name: "expired", nb: now.Add(-90 * day), na: now.Add(-day), want: []string{"cert_expired"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cert := probetest.SelfSigned(probetest.CertOptions{CommonName: testHost, DNSNames: []string{testHost}, NotBefore: tc.nb, NotAfter: tc.na})
			url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert})
			spec := Spec{URL: url, Timeout: Duration(5 * time.Second), TLS: TLSSpec{CA: probetest.CertPEM(cert.Leaf)}}
			if tc.spec != nil {
				tc.spec(&spec)
			}
			clock := func() time.Time { return time.Now().Add(tc.clock) }
			res := k.prober(clock, nil).Run(context.Background(), spec)
			if diff := cmp.Diff(tc.want, onlyCodes(res.Problems), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\nproblems: %v", diff, res.Problems)
			}
			if tl := res.Nodes[0].TLS; tl == nil || !tl.ChainTrusted || len(tl.Chain) != 0 {
				t.Fatalf("tls %+v, want a trusted one-certificate chain", tl)
			}
			if tc.sev != "" {
				pb := findProblem(t, res, CodeCertExpiring)
				if pb.Severity != tc.sev {
					t.Errorf("cert_expiring severity: got %s, want %s", pb.Severity, tc.sev)
				}
				wantMessage(t, pb, "certificate for "+testHost+" expires ")
				if strings.Contains(pb.Message, "root certificate") {
					t.Errorf("message %q names the leaf as a root", pb.Message)
				}
			}
		})
	}
}
