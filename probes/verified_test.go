package probes

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// parsed parses a served certificate's chain afresh, as a new connection
// receives it once no connection holds the old parse.
func parsed(t *testing.T, c tls.Certificate) []*x509.Certificate {
	t.Helper()
	out := make([]*x509.Certificate, len(c.Certificate))
	for i, der := range c.Certificate {
		var err error
		if out[i], err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestVerifiedChainReused: the same certificates presented again (parsed
// afresh) reuse the chain verified before, made of the new parses; a later
// instant outside a certificate's validity, other roots, or other
// certificates are verified afresh.
func TestVerifiedChainReused(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	roots := probetest.Pool(k.root)
	leaf := k.leaf(probetest.CertOptions{})
	now := time.Now()
	at := func(t time.Time) []time.Time { return []time.Time{t} }

	first := parsed(t, leaf)
	if _, err := verifyPresented(first, roots, nil, at(now)); err != nil {
		t.Fatal(err)
	}
	key := presentedKey(first)
	entry, _ := verified.get(key)
	if entry == nil {
		t.Fatal("a verified chain was not remembered")
	}

	again := parsed(t, leaf)
	chain, err := verifyPresented(again, roots, nil, at(now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	now2, _ := verified.get(key)
	reused := now2 == entry
	if !reused || chain[0] != again[0] || chain[1] != again[1] || !chain[len(chain)-1].Equal(k.root.Cert) {
		t.Fatalf("same certificates again: reused %v, chain of the new parses %v; want the remembered chain over the new parses",
			reused, chain[0] == again[0] && chain[1] == again[1])
	}

	// 100 days on, the 90-day leaf has expired: verified afresh, and fails.
	if _, err := verifyPresented(parsed(t, leaf), roots, nil, at(now.Add(100*24*time.Hour))); err == nil {
		t.Error("an expired leaf was trusted from the cache")
	}
	// Other roots: the chain does not lead to them.
	if _, err := verifyPresented(parsed(t, leaf), probetest.Pool(k.internal), nil, at(now)); err == nil {
		t.Error("a chain verified against one root pool was trusted against another")
	}
	// The leaf without its intermediate is another presentation: untrusted.
	if _, err := verifyPresented(parsed(t, leaf)[:1], roots, nil, at(now)); err == nil {
		t.Error("a leaf presented without its intermediate was trusted from the cache")
	}
}
