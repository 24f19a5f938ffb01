package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

// TestJudgeTLS drives the pure certificate classification with a fixed
// clock: no network, every time-based rule at its boundary.
func TestJudgeTLS(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	t0 := time.Now().Truncate(time.Hour)
	day := 24 * time.Hour
	leaf := k.leaf(probetest.CertOptions{NotBefore: t0, NotAfter: t0.Add(90 * day), AIA: "http://aia.test/r1.der"})
	chain := func(c tls.Certificate) []*x509.Certificate {
		var out []*x509.Certificate
		for _, der := range c.Certificate {
			x, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, x)
		}
		return out
	}
	full, bare := chain(leaf), chain(probetest.WithoutIntermediates(leaf))
	fetchOK := func(context.Context, string) (*x509.Certificate, error) { return k.inter.Cert, nil }
	fetchErr := func(context.Context, string) (*x509.Certificate, error) { return nil, errors.New("HTTP 404") }

	tests := []struct {
		name    string
		at      time.Duration // since t0
		certs   []*x509.Certificate
		spec    Spec
		version uint16
		fetch   fetchFunc
		want    []string
		sev     Severity
	}{
		{name: "fresh", at: day, certs: full},
		{name: "60% used", at: 54 * day, certs: full},
		{name: "just over 2/3 used", at: 60*day + time.Hour, certs: full, want: []string{"cert_renewal_overdue"}},
		{name: "22 days left: overdue only", at: 68 * day, certs: full, want: []string{"cert_renewal_overdue"}},
		{name: "20 days left: expiring", at: 70 * day, certs: full, want: []string{"cert_expiring", "cert_renewal_overdue"}, sev: SeverityWarning},
		{name: "6 days left: critical", at: 84 * day, certs: full, want: []string{"cert_expiring", "cert_renewal_overdue"}, sev: SeverityCritical},
		{name: "warn disabled", at: 70 * day, certs: full, spec: Spec{TLS: TLSSpec{WarnDays: -1, CriticalDays: -1}}, want: []string{"cert_renewal_overdue"}},
		{name: "expired", at: 91 * day, certs: full, want: []string{"cert_expired"}},
		{name: "not yet valid", at: -time.Hour, certs: full, want: []string{"cert_not_yet_valid"}},
		{name: "missing intermediate fetched", at: day, certs: bare, fetch: fetchOK, want: []string{"cert_chain_incomplete"}},
		{name: "missing intermediate, fetch fails", at: day, certs: bare, fetch: fetchErr, want: []string{"cert_chain_incomplete"}},
		{name: "missing intermediate, no fetcher", at: day, certs: bare, want: []string{"cert_chain_incomplete"}},
		{name: "leaf of an untrusted internal CA", at: day, certs: chain(k.internal.Leaf(probetest.CertOptions{DNSNames: []string{testHost}})), want: []string{"cert_untrusted"}},
		{name: "hostname", at: day, certs: full, spec: Spec{URL: "https://other.test/"}, want: []string{"cert_hostname_mismatch"}},
		{name: "issuer ok", at: day, certs: full, spec: Spec{TLS: TLSSpec{Issuer: "PHAROS"}}},
		{name: "issuer unexpected", at: day, certs: full, spec: Spec{TLS: TLSSpec{Issuer: "Let's Encrypt"}}, want: []string{"cert_issuer_unexpected"}},
		{name: "issuer changed", at: day, certs: full, spec: Spec{PreviousIssuer: "CN=R10,O=Let's Encrypt,C=US"}, want: []string{"cert_issuer_changed"}},
		{name: "version low", at: day, certs: full, version: tls.VersionTLS11, want: []string{"tls_version_low"}},
		{name: "version at minimum", at: day, certs: full, version: tls.VersionTLS12},
		{name: "no certificate", at: day, certs: nil, want: []string{"tls_handshake_failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			if spec.URL == "" {
				spec.URL = "https://" + testHost + "/"
			}
			p, err := spec.compile(nil)
			if err != nil {
				t.Fatal(err)
			}
			v := tc.version
			if v == 0 {
				v = tls.VersionTLS13
			}
			_, problems := judgeTLS(context.Background(), tlsInput{
				host: p.host, node: "192.0.2.1:443", now: t0.Add(tc.at), version: v, cipher: tls.TLS_AES_128_GCM_SHA256,
				certs: tc.certs, roots: probetest.Pool(k.root), fetch: tc.fetch, plan: p,
			})
			got := onlyCodes(problems)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\n%v", diff, problems)
			}
			if tc.sev != "" && problems[0].Severity != tc.sev {
				t.Errorf("severity %s, want %s", problems[0].Severity, tc.sev)
			}
		})
	}
}

func TestWorst(t *testing.T) {
	t.Parallel()
	p := func(s Severity) Problem { return Problem{Severity: s} }
	tests := []struct {
		in   []Problem
		want State
	}{
		{nil, StateUp},
		{[]Problem{p(SeverityInfo)}, StateUp},
		{[]Problem{p(SeverityWarning), p(SeverityInfo)}, StateDegraded},
		{[]Problem{p(SeverityWarning), p(SeverityCritical)}, StateDown},
	}
	for _, tc := range tests {
		if got := Worst(tc.in); got != tc.want {
			t.Errorf("Worst(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for s, code := range map[State]int{StateUp: 0, StateDegraded: 1, StateDown: 2, StateUnknown: 3} {
		if s.ExitCode() != code {
			t.Errorf("%s.ExitCode() = %d, want %d", s, s.ExitCode(), code)
		}
	}
	for _, c := range Codes() {
		if DefaultSeverity(c) == "" {
			t.Errorf("%s has no severity", c)
		}
	}
}

func TestWhen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 20, 3, 7, 11, 0, time.UTC), "2026-11-20 03:07 UTC (1 day ago)"},
		{now.Add(-3 * time.Hour), "2026-11-21 07:00 UTC (3 hours ago)"},
		{now.Add(90 * time.Second), "2026-11-21 10:01 UTC (in 1 minute)"},
		{now.Add(20 * 24 * time.Hour), "2026-12-11 10:00 UTC (in 20 days)"},
		{now, "2026-11-21 10:00 UTC (just now)"},
	}
	for _, tc := range tests {
		if got := when(tc.t, now); got != tc.want {
			t.Errorf("when(%s) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestNodesDisagree(t *testing.T) {
	t.Parallel()
	n := func(addr, fp string) NodeResult {
		return NodeResult{Address: addr, TLS: &TLSInfo{Leaf: CertInfo{SHA256: fp + "00000000000000"}}}
	}
	if p := nodesDisagree("h", []NodeResult{n("a", "1"), n("b", "1"), {Address: "c"}}); p != nil {
		t.Errorf("same certificate: got %v", p)
	}
	p := nodesDisagree("h", []NodeResult{n("a", "1"), n("b", "2"), n("c", "1")})
	if p == nil || p.Severity != SeverityWarning || p.Code != CodeNodesDisagree {
		t.Fatalf("got %v, want a nodes_disagree warning", p)
	}
	wantMessage(t, *p, "nodes of h serve 2 different certificates: a, c serve 1", "; b serves 2")
}
