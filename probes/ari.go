package probes

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ACME Renewal Information (RFC 9773): an ACME CA tells each certificate's
// owner when to renew. A certificate still served after the suggested
// window has ended means the renewal automation is not listening
// (cert_renewal_due), which also catches a CA pulling the window to "now"
// ahead of a mass revocation.
const (
	// ariMinInterval: a certificate's window is asked at most twice a day.
	ariMinInterval = 12 * time.Hour
	ariMaxInterval = 24 * time.Hour
	ariMaxBytes    = 64 << 10
	// ariDirectoryTTL: how long an ACME directory's renewalInfo URL is kept.
	ariDirectoryTTL = 24 * time.Hour
)

// DefaultACMEDirectories maps an issuer organisation to its ACME directory,
// for the CAs whose directory is known without configuration.
func DefaultACMEDirectories() map[string]string {
	return map[string]string{"Let's Encrypt": "https://acme-v02.api.letsencrypt.org/directory"}
}

// ariWindow is a suggested renewal window.
type ariWindow struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Explanation string    `json:"-"`
}

// ariCache holds ACME directories (their renewalInfo URL) and renewal
// windows (by renewalInfo URL and certificate id).
type ariCache = fetchCache[ariValue]

type ariValue struct {
	renewalInfo string
	window      ariWindow
}

func newARICache() *ariCache { return newFetchCache[ariValue]() }

// ariCertID is the RFC 9773 certificate identifier: the base64url
// authority key identifier, a dot, and the base64url DER serial number.
func ariCertID(c *x509.Certificate) (string, error) {
	if len(c.AuthorityKeyId) == 0 {
		return "", errors.New("the certificate has no authority key identifier")
	}
	serial := c.SerialNumber.Bytes()
	if len(serial) == 0 || serial[0]&0x80 != 0 { // DER INTEGER: a leading zero keeps it positive
		serial = append([]byte{0}, serial...)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(c.AuthorityKeyId) + "." + enc.EncodeToString(serial), nil
}

// acmeDirectory returns the ACME directory for leaf: the check's own, or
// a known one for the issuer's organisation.
func (pr *Prober) acmeDirectory(p *plan, leaf *x509.Certificate) string {
	if d := p.spec.TLS.ACMEDirectory; d != "" {
		return d
	}
	for _, org := range leaf.Issuer.Organization {
		if d, ok := pr.acmeDirs[org]; ok {
			return d
		}
	}
	return ""
}

// renewalWindow fetches (or recalls) the ARI window of leaf from the
// ACME directory dir.
func (pr *Prober) renewalWindow(ctx context.Context, dir string, leaf *x509.Certificate, allowPrivate bool) (ariWindow, error) {
	id, err := ariCertID(leaf)
	if err != nil {
		return ariWindow{}, err
	}
	now := pr.now()
	d, err := pr.ari.get(ctx, "dir|"+dir, now, func() (ariValue, time.Time, error) {
		body, err := pr.guardedFetch(ctx, http.MethodGet, dir, "", nil, ariMaxBytes, allowPrivate)
		if err != nil {
			return ariValue{}, time.Time{}, fmt.Errorf("ACME directory %w", err)
		}
		var doc struct {
			RenewalInfo string `json:"renewalInfo"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.RenewalInfo == "" {
			return ariValue{}, time.Time{}, fmt.Errorf("ACME directory %s names no renewalInfo endpoint", dir)
		}
		return ariValue{renewalInfo: doc.RenewalInfo}, now.Add(ariDirectoryTTL), nil
	})
	if err != nil {
		return ariWindow{}, err
	}
	w, err := pr.ari.get(ctx, "ari|"+d.renewalInfo+"|"+id, now, func() (ariValue, time.Time, error) {
		url := strings.TrimSuffix(d.renewalInfo, "/") + "/" + id
		body, retry, err := pr.fetchRenewalInfo(ctx, url, allowPrivate)
		if err != nil {
			return ariValue{}, time.Time{}, err
		}
		var doc struct {
			SuggestedWindow ariWindow `json:"suggestedWindow"`
			ExplanationURL  string    `json:"explanationURL"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.SuggestedWindow.End.IsZero() {
			return ariValue{}, time.Time{}, fmt.Errorf("renewal information %s: no suggestedWindow", url)
		}
		doc.SuggestedWindow.Explanation = doc.ExplanationURL
		return ariValue{window: doc.SuggestedWindow}, now.Add(min(max(retry, ariMinInterval), ariMaxInterval)), nil
	})
	if err != nil {
		return ariWindow{}, err
	}
	return w.window, nil
}

// fetchRenewalInfo GETs a renewalInfo resource and its Retry-After.
func (pr *Prober) fetchRenewalInfo(ctx context.Context, url string, allowPrivate bool) ([]byte, time.Duration, error) {
	var retry time.Duration
	body, err := pr.guardedFetchWith(ctx, http.MethodGet, url, "", nil, ariMaxBytes, allowPrivate, func(h http.Header) {
		if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
			retry = time.Duration(s) * time.Second
		}
	})
	if err != nil {
		return nil, 0, fmt.Errorf("renewal information %w", err)
	}
	return body, retry, nil
}

// renewalDueProblem reports cert_renewal_due when the leaf's suggested
// renewal window has ended.
func renewalDueProblem(ctx context.Context, in tlsInput, leaf *x509.Certificate) []Problem {
	if in.ari == nil {
		return nil
	}
	w, ok := in.ari(ctx, leaf)
	if !ok || !in.now.After(w.End) {
		return nil
	}
	more := ""
	if w.Explanation != "" {
		more = "; the CA explains why at " + w.Explanation
	}
	return []Problem{problemf(CodeCertRenewalDue, in.node,
		"certificate for %s on %s is still served after its CA's suggested renewal window (ACME Renewal Information) ended %s%s: check the renewal job",
		in.host, in.node, when(w.End, in.now), more)}
}
