package probes

import (
	"crypto/sha256"
	"crypto/x509"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

// TestCertInfoKeptPerCertificate: the facts of a certificate are rendered
// once and served again for the same certificate, parsed again or not;
// the per-probe parts (days left, source) are not kept.
func TestCertInfoKeptPerCertificate(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	leaf := k.leaf(probetest.CertOptions{NotAfter: time.Now().Add(30 * 24 * time.Hour)})
	parse := func(der []byte) *x509.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := time.Now()
	a := parse(leaf.Certificate[0])
	first := certInfo(a, now, "presented")
	if first.Subject != "CN="+testHost || first.DaysLeft != 29 || first.Source != "presented" {
		t.Fatalf("first rendering: %+v", first)
	}
	if _, ok := certFacts.get(sha256.Sum256(a.Raw)); !ok {
		t.Fatal("no entry for the certificate just rendered")
	}
	later := certInfo(parse(leaf.Certificate[0]), now.Add(10*24*time.Hour), "fetched")
	want := first
	want.DaysLeft, want.Source = 19, "fetched"
	if diff := cmp.Diff(want, later); diff != "" {
		t.Errorf("the same certificate parsed again ten days on (-want +got):\n%s", diff)
	}
	b := parse(k.leaf(probetest.CertOptions{DNSNames: []string{"other.pharos.test"}}).Certificate[0])
	if got := certInfo(b, now, "presented"); got.Subject != "CN=other.pharos.test" || got.SHA256 == first.SHA256 {
		t.Errorf("another certificate got %+v, want its own facts", got)
	}
}

// BenchmarkCertInfo is a certificate's CertInfo from the kept facts
// (cached) and rendered afresh (fresh), as every probe did before.
func BenchmarkCertInfo(b *testing.B) {
	k := newPKI(b)
	c, err := x509.ParseCertificate(k.leaf(probetest.CertOptions{}).Certificate[0])
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			certInfo(c, now, "presented")
		}
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			certFacts.mu.Lock()
			clear(certFacts.m)
			certFacts.mu.Unlock()
			certInfo(c, now, "presented")
		}
	})
}
