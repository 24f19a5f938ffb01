package probes

import (
	"crypto/x509"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

// TestCertInfoKeptPerCertificate: the facts of a certificate are rendered
// once and served again for the same parsed certificate, the per-probe
// parts (days left, source) are not, and an entry goes with its
// certificate.
func TestCertInfoKeptPerCertificate(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	parse := func(o probetest.CertOptions) *x509.Certificate {
		c, err := x509.ParseCertificate(k.leaf(o).Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := time.Now()
	a := parse(probetest.CertOptions{NotAfter: now.Add(30 * 24 * time.Hour)})
	first := certInfo(a, now, "presented")
	if first.Subject != "CN="+testHost || first.DaysLeft != 29 || first.Source != "presented" {
		t.Fatalf("first rendering: %+v", first)
	}
	later := certInfo(a, now.Add(10*24*time.Hour), "fetched")
	want := first
	want.DaysLeft, want.Source = 19, "fetched"
	if diff := cmp.Diff(want, later); diff != "" {
		t.Errorf("the same certificate ten days on (-want +got):\n%s", diff)
	}
	b := parse(probetest.CertOptions{DNSNames: []string{"other.pharos.test"}})
	if got := certInfo(b, now, "presented"); got.Subject != "CN=other.pharos.test" || got.SHA256 == first.SHA256 {
		t.Errorf("another certificate got %+v, want its own facts", got)
	}

	key := weak.Make(b)
	if _, ok := certFacts.Load(key); !ok {
		t.Fatal("no entry for the certificate just rendered")
	}
	b = nil
	for deadline := time.Now().Add(10 * time.Second); ; {
		runtime.GC()
		if _, ok := certFacts.Load(key); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the entry outlived its certificate")
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(a)
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
			certFacts.Delete(weak.Make(c))
			certInfo(c, now, "presented")
		}
	})
}
