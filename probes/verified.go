package probes

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"
)

// Bounds of the verified-chain cache: past maxVerified entries, those not
// used for verifiedIdle go; if none did, the cache starts afresh.
const (
	maxVerified  = 4096
	verifiedIdle = 10 * time.Minute
)

// verified remembers how each chain of certificates, as a server presented
// it, was verified. A host that serves the same certificates is verified
// the same way every round (signature checks and a chain search: ~10 % of
// `pharos run`'s CPU at 1,000 checks every 30 s). An entry is reused only
// for the same certificates presented in the same order (by content),
// against the same root pools, while every certificate of the verified
// chain is within its validity; anything else, and every failure, is
// verified afresh. It keeps no certificate but the roots, which their
// pools keep anyway.
var verified = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*verifiedChain
}{m: map[[sha256.Size]byte]*verifiedChain{}}

type verifiedChain struct {
	roots, extra *x509.CertPool
	elems        []chainElem
	from, until  time.Time // when every certificate of the chain is valid
	used         time.Time
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
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chain, err := verify(certs[0], inter, roots, extra, at)
	if err != nil {
		return nil, err
	}
	e := &verifiedChain{roots: roots, extra: extra, from: chain[0].NotBefore, until: chain[0].NotAfter, used: now}
	for _, c := range chain {
		e.from, e.until = later(e.from, c.NotBefore), earlier(e.until, c.NotAfter)
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
		rememberVerified(key, e)
	}
	return chain, nil
}

func reuseVerified(key [sha256.Size]byte, certs []*x509.Certificate, roots, extra *x509.CertPool, now time.Time) ([]*x509.Certificate, bool) {
	verified.Lock()
	defer verified.Unlock()
	e, ok := verified.m[key]
	if !ok || e.roots != roots || e.extra != extra || now.Before(e.from) || now.After(e.until) {
		return nil, false
	}
	e.used = now
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

func rememberVerified(key [sha256.Size]byte, e *verifiedChain) {
	verified.Lock()
	defer verified.Unlock()
	if len(verified.m) >= maxVerified {
		for k, old := range verified.m {
			if e.used.Sub(old.used) > verifiedIdle {
				delete(verified.m, k)
			}
		}
		if len(verified.m) >= maxVerified {
			clear(verified.m)
		}
	}
	verified.m[key] = e
}

// presentedKey names certificates as presented, by content and order (DER
// encodings delimit themselves, so their concatenation is unambiguous).
func presentedKey(certs []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	for _, c := range certs {
		h.Write(c.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
