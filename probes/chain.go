package probes

import (
	"context"
	"crypto/x509"
	"errors"
	"time"
)

// chainCheck is the outcome of building a chain for the presented certificates.
type chainCheck struct {
	chain      []*x509.Certificate // verified chain, leaf first; nil when untrusted
	trusted    bool                // the chain verified as presented
	incomplete bool                // it verified only with intermediates fetched via AIA
	fetched    []*x509.Certificate
	fetchURL   string // AIA URL that completed the chain
	fetchErr   error  // why fetching a missing intermediate failed
	err        error  // why the chain does not verify (when neither trusted nor incomplete)
}

// fetchFunc fetches the certificate at an AIA caIssuers URL.
type fetchFunc func(ctx context.Context, url string) (*x509.Certificate, error)

// maxAIAFetches bounds how many missing intermediates are fetched per node.
const maxAIAFetches = 3

// buildChain verifies certs (leaf first) against roots, then extra roots.
// Verification runs at a moment when every presented certificate is within
// its validity, so an expired certificate is reported as cert_expired by the
// time checks rather than hiding whether the chain is trusted. The host name
// is checked separately for the same reason.
func buildChain(ctx context.Context, certs []*x509.Certificate, now time.Time, roots, extra *x509.CertPool, fetch fetchFunc) chainCheck {
	at := verifyTimes(certs, now)
	chain, err := verifyPresented(certs, roots, extra, at)
	if err == nil {
		return chainCheck{chain: chain, trusted: true}
	}
	inter := intermediates(certs) // the AIA fetches below add to it
	res := chainCheck{err: err}
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) || fetch == nil {
		return res
	}
	cur := certs[len(certs)-1]
	for i := 0; i < maxAIAFetches && len(cur.IssuingCertificateURL) > 0; i++ {
		url := cur.IssuingCertificateURL[0]
		c, ferr := fetch(ctx, url)
		if ferr != nil {
			res.err, res.fetchErr = errors.Join(err, ferr), ferr
			return res
		}
		res.fetched = append(res.fetched, c)
		inter.AddCert(c)
		at = verifyTimes(append(append([]*x509.Certificate{}, certs...), res.fetched...), now)
		if chain, verr := verify(certs[0], inter, roots, extra, at); verr == nil {
			res.chain, res.incomplete, res.fetchURL, res.err = chain, true, url, nil
			return res
		}
		cur = c
	}
	return res
}

// verifyTimes returns the moments at which to try verification: now, and
// when some certificate is outside its validity now, instants inside every
// certificate's validity window (if such an instant exists).
func verifyTimes(certs []*x509.Certificate, now time.Time) []time.Time {
	lo, hi := validWindow(certs)
	if valid := !now.Before(lo) && !now.After(hi); valid || hi.Before(lo) {
		return []time.Time{now}
	}
	return []time.Time{now, lo.Add(hi.Sub(lo) / 2), lo.Add(time.Second), hi.Add(-time.Second)}
}

// validWindow is when every one of certs is within its validity: from the
// latest NotBefore to the earliest NotAfter (no instant when until is
// before from).
func validWindow(certs []*x509.Certificate) (from, until time.Time) {
	from, until = certs[0].NotBefore, certs[0].NotAfter
	for _, c := range certs[1:] {
		if c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}
	return from, until
}

func verify(leaf *x509.Certificate, inter, roots, extra *x509.CertPool, at []time.Time) ([]*x509.Certificate, error) {
	pools := []*x509.CertPool{roots} // nil means the system roots
	if extra != nil {
		pools = append(pools, extra)
	}
	var best error
	for _, t := range at {
		for _, pool := range pools {
			chains, err := leaf.Verify(x509.VerifyOptions{
				Roots:         pool,
				Intermediates: inter,
				CurrentTime:   t,
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err == nil {
				return chains[0], nil
			}
			// Prefer explaining a failure that is not about time: expiry
			// has its own problem code.
			var inv x509.CertificateInvalidError
			if best == nil || !errors.As(err, &inv) || inv.Reason != x509.Expired {
				best = err
			}
		}
	}
	return nil, best
}
