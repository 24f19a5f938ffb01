package probes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Revocation (cert_revoked): a stapled OCSP response first, then the CRLs
// of the certificate's distribution points, then its OCSP responder. CRLs
// and OCSP answers are fetched through the guard, size-capped, and cached
// per Prober until their nextUpdate, so a worker fetches each CA's CRL
// once per update however many checks share it. A source that cannot be
// reached or parsed yields an info note, never a failure.
const (
	crlMaxBytes       = 10 << 20
	ocspMaxBytes      = 64 << 10
	revocationTimeout = 5 * time.Second
	revocationTTL     = time.Hour      // when the source names no nextUpdate
	revocationMaxTTL  = 24 * time.Hour // however far nextUpdate is
)

// revocationCache holds the revoked serials of CRLs (by URL and issuer)
// and of OCSP answers (by issuer and serial).
type revocationCache = fetchCache[map[string]revokedAt]

type revokedAt struct {
	at     time.Time
	reason int
}

func newRevocationCache() *revocationCache { return newFetchCache[map[string]revokedAt]() }

// revocation is the verdict on one certificate.
type revocation struct {
	revoked bool
	at      time.Time
	reason  int
	source  string // "the CRL at URL", "the OCSP responder at URL", "the stapled OCSP response"
	err     error  // every source failed; nil when one answered or none exists
}

// revocationFunc checks cert, issued by issuer; stapled is the server's
// OCSP staple (leaf only).
type revocationFunc func(ctx context.Context, cert, issuer *x509.Certificate, stapled []byte) revocation

// checkRevocation asks the certificate's revocation sources in order until
// one answers.
func (pr *Prober) checkRevocation(ctx context.Context, cert, issuer *x509.Certificate, stapled []byte, allowPrivate bool) revocation {
	now := pr.now()
	if len(stapled) > 0 {
		if resp, err := ocsp.ParseResponseForCert(stapled, cert, issuer); err == nil && ocspFresh(resp, now) && resp.Status != ocsp.Unknown {
			return ocspVerdict(resp, "the stapled OCSP response")
		}
	}
	var errs []error
	for _, url := range httpURLs(cert.CRLDistributionPoints) {
		revoked, err := pr.rev.get(ctx, "crl|"+url+"|"+fingerprint(issuer), now, func() (map[string]revokedAt, time.Time, error) {
			return pr.fetchCRL(ctx, url, issuer, allowPrivate, now)
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r, isRevoked := revoked[cert.SerialNumber.Text(16)]
		return revocation{revoked: isRevoked, at: r.at, reason: r.reason, source: "the CRL at " + url}
	}
	for _, url := range httpURLs(cert.OCSPServer) {
		key := "ocsp|" + fingerprint(issuer) + "|" + cert.SerialNumber.Text(16)
		revoked, err := pr.rev.get(ctx, key, now, func() (map[string]revokedAt, time.Time, error) {
			return pr.fetchOCSP(ctx, url, cert, issuer, allowPrivate, now)
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r, isRevoked := revoked[cert.SerialNumber.Text(16)]
		return revocation{revoked: isRevoked, at: r.at, reason: r.reason, source: "the OCSP responder at " + url}
	}
	return revocation{err: errors.Join(errs...)}
}

func ocspFresh(r *ocsp.Response, now time.Time) bool {
	return !now.Before(r.ThisUpdate.Add(-5*time.Minute)) && (r.NextUpdate.IsZero() || now.Before(r.NextUpdate))
}

func ocspVerdict(r *ocsp.Response, source string) revocation {
	return revocation{revoked: r.Status == ocsp.Revoked, at: r.RevokedAt, reason: r.RevocationReason, source: source}
}

// fetchCRL downloads, verifies and indexes one CRL.
func (pr *Prober) fetchCRL(ctx context.Context, url string, issuer *x509.Certificate, allowPrivate bool, now time.Time) (map[string]revokedAt, time.Time, error) {
	body, err := pr.guardedFetch(ctx, http.MethodGet, url, "", nil, crlMaxBytes, allowPrivate)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("CRL %w", err)
	}
	crl, err := x509.ParseRevocationList(body)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("CRL %s: %w", url, err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, time.Time{}, fmt.Errorf("CRL %s is not signed by %s: %w", url, quote(issuer.Subject.String()), err)
	}
	if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
		return nil, time.Time{}, fmt.Errorf("CRL %s is stale: its next update was due %s", url, when(crl.NextUpdate, now))
	}
	revoked := make(map[string]revokedAt, len(crl.RevokedCertificateEntries))
	for _, r := range crl.RevokedCertificateEntries {
		revoked[r.SerialNumber.Text(16)] = revokedAt{at: r.RevocationTime, reason: r.ReasonCode}
	}
	return revoked, expiry(crl.NextUpdate, now), nil
}

// fetchOCSP asks an OCSP responder about cert.
func (pr *Prober) fetchOCSP(ctx context.Context, url string, cert, issuer *x509.Certificate, allowPrivate bool, now time.Time) (map[string]revokedAt, time.Time, error) {
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("OCSP request: %w", err)
	}
	body, err := pr.guardedFetch(ctx, http.MethodPost, url, "application/ocsp-request", req, ocspMaxBytes, allowPrivate)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("OCSP %w", err)
	}
	resp, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("OCSP %s: %w", url, err)
	}
	if !ocspFresh(resp, now) {
		return nil, time.Time{}, fmt.Errorf("OCSP %s: the response is outside its validity (%s to %s)", url,
			resp.ThisUpdate.UTC().Format(time.RFC3339), resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	if resp.Status == ocsp.Unknown {
		return nil, time.Time{}, fmt.Errorf("OCSP %s: the responder does not know the certificate", url)
	}
	revoked := map[string]revokedAt{}
	if resp.Status == ocsp.Revoked {
		revoked[cert.SerialNumber.Text(16)] = revokedAt{at: resp.RevokedAt, reason: resp.RevocationReason}
	}
	return revoked, expiry(resp.NextUpdate, now), nil
}

// expiry is how long an answer is cached: until its next update, within bounds.
func expiry(next, now time.Time) time.Time {
	if next.IsZero() {
		return now.Add(revocationTTL)
	}
	return minTime(next, now.Add(revocationMaxTTL))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// guardedFetch performs one bounded HTTP request through the guard.
func (pr *Prober) guardedFetch(ctx context.Context, method, url, contentType string, body []byte, maxBytes int64, allowPrivate bool) ([]byte, error) {
	return pr.guardedFetchWith(ctx, method, url, contentType, body, maxBytes, allowPrivate, nil)
}

// guardedFetchWith is guardedFetch that also hands the response header of
// a successful answer to header.
func (pr *Prober) guardedFetchWith(ctx context.Context, method, url, contentType string, body []byte, maxBytes int64, allowPrivate bool,
	header func(http.Header)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, revocationTimeout)
	defer cancel()
	tr := pr.guardedTransport(allowPrivate, revocationTimeout)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	req.Header.Set("User-Agent", pr.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	if header != nil {
		header(resp.Header)
	}
	data, truncated, err := readCapped(resp.Body, maxBytes, resp.ContentLength)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", url, err)
	case truncated:
		return nil, fmt.Errorf("%s: larger than %d KiB", url, maxBytes>>10)
	}
	return data, nil
}

func httpURLs(urls []string) []string {
	var out []string
	for _, u := range urls {
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			out = append(out, u)
		}
	}
	return out
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// revocationProblems checks every certificate of a verified chain but the
// root: cert_revoked when one is revoked, an info note when its sources
// could not be reached.
func revocationProblems(ctx context.Context, in tlsInput, chain []*x509.Certificate) []Problem {
	if in.revocation == nil {
		return nil
	}
	var out []Problem
	for i := 0; i+1 < len(chain); i++ {
		var stapled []byte
		if i == 0 {
			stapled = in.stapled
		}
		r := in.revocation(ctx, chain[i], chain[i+1], stapled)
		if !r.revoked && r.err == nil {
			continue
		}
		what := fmt.Sprintf("certificate for %s", in.host)
		if i > 0 {
			what = fmt.Sprintf("intermediate certificate %s in the chain of %s", quote(chain[i].Subject.String()), in.host)
		}
		switch {
		case r.revoked:
			out = append(out, problemf(CodeCertRevoked, in.node, "%s on %s was revoked by its CA on %s%s, according to %s",
				what, in.node, when(r.at, in.now), reasonText(r.reason), r.source))
		case r.err != nil:
			pb := problemf(CodeCertRevoked, in.node, "revocation of the %s on %s could not be checked: %v", what, in.node, r.err)
			pb.Severity = SeverityInfo
			out = append(out, pb)
		}
	}
	return out
}

// reasonText names an RFC 5280 CRLReason.
func reasonText(code int) string {
	names := map[int]string{1: "key compromise", 2: "CA compromise", 3: "affiliation changed", 4: "superseded",
		5: "cessation of operation", 6: "certificate hold", 9: "privilege withdrawn", 10: "AA compromise"}
	if n, ok := names[code]; ok {
		return " for " + n
	}
	return ""
}
