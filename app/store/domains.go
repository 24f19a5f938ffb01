package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// A page's custom domain is served only once its owner has proven control
// of it (issue 11 item 5). The proof is the page's DomainToken, published
// as the TXT record DomainChallengeName(domain) or as the file
// DomainChallengePath(token) on http://domain. A page's domain is verified
// while DomainVerified equals Domain: changing the domain makes it pending.

// DomainChallengePrefix is the label under which the TXT record lives.
const DomainChallengePrefix = "_pharos-challenge."

// DomainChallengeName is the name of the TXT record that proves control of
// domain: "_pharos-challenge.status.example.org".
func DomainChallengeName(domain string) string { return DomainChallengePrefix + domain }

// DomainChallengePath is the path of the HTTP fallback's file on the
// domain; its body is the token.
func DomainChallengePath(token string) string { return "/.well-known/pharos-challenge/" + token }

// NormalDomain is a host name as pages store and look it up: lower case,
// without the trailing dot of a fully qualified name.
func NormalDomain(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

// DomainClaim is the state of a page's custom domain.
type DomainClaim struct {
	PageID int64
	OrgID  int64
	Slug   string
	Domain string // "" when the page has no custom domain
	Token  string
	// VerifiedAt is when Domain was proven; nil while it is pending.
	VerifiedAt *time.Time
}

// Verified reports whether the page's domain is proven and may be served.
func (d DomainClaim) Verified() bool { return d.Domain != "" && d.VerifiedAt != nil }

const claimColumns = `id, org_id, slug, domain, domain_token, domain_verified, domain_verified_at`

func scanClaim(row rowScanner) (DomainClaim, error) {
	var d DomainClaim
	var domain, token, verified sql.NullString
	var at sql.NullTime
	if err := row.Scan(&d.PageID, &d.OrgID, &d.Slug, &domain, &token, &verified, &at); err != nil {
		return DomainClaim{}, err
	}
	d.Domain, d.Token = domain.String, token.String
	d.VerifiedAt = verifiedTime(d.Domain, verified, at)
	return d, nil
}

// ServedDomain is the page's custom domain once its owner has proven it,
// else "": the only host links, feeds and mails may name for the page.
func (p Page) ServedDomain() string {
	if p.DomainVerifiedAt == nil {
		return ""
	}
	return p.Domain
}

// PublicRoot is the root of the page's public URLs: its served custom
// domain, else /p/{slug} under baseURL (PHAROS_BASE_URL; a path alone
// without one), never a host a request named.
func (p Page) PublicRoot(baseURL string) string {
	if d := p.ServedDomain(); d != "" {
		return "https://" + d
	}
	return strings.TrimSuffix(baseURL, "/") + "/p/" + p.Slug
}

// verifiedTime is when domain was verified, nil when the page's proven
// domain is another (or none).
func verifiedTime(domain string, verified sql.NullString, at sql.NullTime) *time.Time {
	if domain == "" || verified.String != domain || !at.Valid {
		return nil
	}
	t := at.Time.UTC()
	return &t
}

// DomainClaimByHost returns the claim on host by whichever page holds it
// (public: the custom-domain routing runs before any organisation is
// known), or ErrNotFound.
func (s *Store) DomainClaimByHost(ctx context.Context, host string) (DomainClaim, error) {
	host = NormalDomain(host)
	d, err := scanClaim(s.db.QueryRowContext(ctx, s.q(`SELECT `+claimColumns+` FROM pages WHERE lower(domain) = ?`), host))
	return d, notFound(err, "domain", host)
}

// DomainClaim returns the organisation's page's domain claim, giving the
// page its token first if it has none. The token is written only where
// there is none, so two first calls at once read the same one.
func (qs queries) DomainClaim(ctx context.Context, orgID, pageID int64) (DomainClaim, error) {
	token, err := newDomainToken()
	if err != nil {
		return DomainClaim{}, err
	}
	if _, err := qs.conn.ExecContext(ctx, qs.q(`UPDATE pages SET domain_token = ? WHERE org_id = ? AND id = ? AND domain_token IS NULL`),
		token, orgID, pageID); err != nil {
		return DomainClaim{}, fmt.Errorf("store: page %d domain token: %w", pageID, err)
	}
	d, err := scanClaim(qs.conn.QueryRowContext(ctx, qs.q(`SELECT `+claimColumns+` FROM pages WHERE org_id = ? AND id = ?`), orgID, pageID))
	return d, notFound(err, "page", pageID)
}

// MarkDomainVerified records that the page's domain, which must still be
// domain, was proven at at. It returns ErrNotFound when the page is not the
// organisation's or its domain has changed since the check began.
func (tx *Tx) MarkDomainVerified(ctx context.Context, orgID, pageID int64, domain string, at time.Time) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE pages SET domain_verified = ?, domain_verified_at = ?
		WHERE org_id = ? AND id = ? AND domain = ?`), domain, at.UTC(), orgID, pageID, domain)
	return oneRowAffected(res, err, "verify domain of page", pageID)
}

// newDomainToken is a fresh random token: 20 bytes, base32 in lower case,
// so it fits a DNS TXT value and a URL path as it is.
func newDomainToken() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: domain token: %w", err)
	}
	return "pharos-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// ServiceHosts are the host names the service itself answers on, as far as
// it can know them, which no page may claim: PHAROS_BASE_URL's host, the
// host of PHAROS_LISTEN when it is a name, this machine's host name and
// localhost, and any extra names (the Host a console request came on).
func ServiceHosts(baseURL, listen string, extra ...string) []string {
	hosts := []string{"localhost", "localhost.localdomain"}
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	for _, h := range extra {
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		hosts = append(hosts, h)
	}
	for i, h := range hosts {
		hosts[i] = NormalDomain(h)
	}
	return hosts
}

// IsServiceHost reports whether domain is one of hosts or under
// .localhost, which always names the machine itself.
func IsServiceHost(domain string, hosts []string) bool {
	domain = NormalDomain(domain)
	return slices.Contains(hosts, domain) || strings.HasSuffix(domain, ".localhost")
}
