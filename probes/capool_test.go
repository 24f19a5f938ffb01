package probes

import (
	"context"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// TestPrivateCAPoolsKept: a prober parses each private CA once and keeps
// its pool for the next probes, and two checks with different private CAs
// are each judged against their own.
func TestPrivateCAPoolsKept(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	other := probetest.NewRoot(probetest.CertOptions{CommonName: "Other Internal CA", Organization: "Other Corp",
		NotBefore: time.Now().Add(-24 * time.Hour)})
	urlA := serveNodes(t, "/", node{ip: "127.0.0.2", cert: k.internal.Leaf(probetest.CertOptions{DNSNames: []string{testHost}})})
	urlB := serveNodes(t, "/", node{ip: "127.0.0.2", cert: other.Leaf(probetest.CertOptions{DNSNames: []string{testHost}})})
	pr := k.prober(nil, nil)
	run := func(url, ca string) []string {
		t.Helper()
		return onlyCodes(pr.Run(context.Background(), Spec{URL: url, Timeout: Duration(5 * time.Second), TLS: TLSSpec{CA: ca}}).Problems)
	}
	for range 2 {
		if got := run(urlA, k.internal.PEM()); len(got) != 0 {
			t.Fatalf("A with its own CA: %v, want no problem", got)
		}
		if got := run(urlB, other.PEM()); len(got) != 0 {
			t.Fatalf("B with its own CA: %v, want no problem", got)
		}
		if got := run(urlB, k.internal.PEM()); len(got) != 1 || got[0] != string(CodeCertUntrusted) {
			t.Fatalf("B with A's CA: %v, want cert_untrusted", got)
		}
	}
	poolA, _ := pr.cas.pool(k.internal.PEM())
	if n := pr.cas.kept.len(); n != 2 {
		t.Errorf("pools kept: %d, want 2 (one per CA)", n)
	}
	if again, _ := pr.cas.pool(k.internal.PEM()); again != poolA {
		t.Error("the same CA gave a new pool")
	}
	if _, ok := pr.cas.pool("not a certificate"); ok || pr.cas.kept.len() != 2 {
		t.Errorf("a PEM without certificates: ok %v, %d pools; want refused and not kept", ok, pr.cas.kept.len())
	}
}
