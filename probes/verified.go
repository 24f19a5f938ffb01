package probes

import (
	"crypto/sha256"
	"crypto/x509"
	"time"
)

// verified remembers how each chain of certificates, as a server presented
// it, was verified. A host that serves the same certificates is verified
// the same way every round (signature checks and a chain search: ~10 % of
// `pharos run`'s CPU at 1,000 checks every 30 s). An entry is reused only
// for the same certificates presented in the same order, against the same
// root pools, while every certificate of the verified chain is within its
// validity; anything else, and every failure, is verified afresh. It keeps
// no certificate but the roots, which their pools keep anyway. Up to 4,096
// chains; past that, those idle for 10 minutes go.
var verified = newDigestCache[*verifiedChain](4096, 10*time.Minute)

type verifiedChain struct {
	roots, extra *x509.CertPool
	elems        []chainElem
	from, until  time.Time // when every certificate of the chain is valid
}

// chainElem is one certificate of a verified chain: the presented
// certificate at index presented, or (presented < 0) pooled, from a root pool.
type chainElem struct {
	presented int
	pooled    *x509.Certificate
}

// verifyPresented is verify for certs as presented (leaf first), reusing
// how the same certificates were verified before against the same pools.
func verifyPresented(certs []*x509.Certificate, roots, extra *x509.CertPool, at []time.Time) ([]*x509.Certificate, error) {
	now := at[0]
	key := presentedKey(certs)
	if chain, ok := reuseVerified(key, certs, roots, extra, now); ok {
		return chain, nil
	}
	chain, err := verify(certs[0], intermediates(certs), roots, extra, at)
	if err != nil {
		return nil, err
	}
	e := &verifiedChain{roots: roots, extra: extra}
	e.from, e.until = validWindow(chain)
	for _, c := range chain {
		el := chainElem{presented: -1, pooled: c}
		for i, p := range certs {
			if p == c {
				el = chainElem{presented: i}
				break
			}
		}
		e.elems = append(e.elems, el)
	}
	if !now.Before(e.from) && !now.After(e.until) { // verified at another instant: not reusable now
		verified.put(key, e)
	}
	return chain, nil
}

func reuseVerified(key digest, certs []*x509.Certificate, roots, extra *x509.CertPool, now time.Time) ([]*x509.Certificate, bool) {
	e, ok := verified.get(key)
	if !ok || e.roots != roots || e.extra != extra || now.Before(e.from) || now.After(e.until) {
		return nil, false
	}
	chain := make([]*x509.Certificate, len(e.elems))
	for i, el := range e.elems {
		if el.presented >= 0 {
			chain[i] = certs[el.presented]
		} else {
			chain[i] = el.pooled
		}
	}
	return chain, true
}

// intermediates is the pool of the certificates presented after the leaf.
func intermediates(certs []*x509.Certificate) *x509.CertPool {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	return inter
}

// presentedKey names certificates as presented, by content and order (DER
// encodings delimit themselves, so their concatenation is unambiguous).
func presentedKey(certs []*x509.Certificate) digest {
	h := sha256.New()
	for _, c := range certs {
		h.Write(c.Raw)
	}
	var key digest
	h.Sum(key[:0])
	return key
}
