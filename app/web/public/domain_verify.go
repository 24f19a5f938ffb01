package public

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"pharos/app/store"
	"pharos/probes"
)

// Proving a custom domain (issue 11 item 5): the owner publishes the page's
// token as a DNS TXT record _pharos-challenge.<domain>, or — when DNS is
// not theirs to change quickly — serves it as the body of
// http://<domain>/.well-known/pharos-challenge/<token> from their own web
// server. Pharos never answers that path itself: a domain pointed at the
// service proves nothing about which tenant may have it.

// Defaults of a DomainVerifier.
const (
	DefaultVerifyTimeout = 10 * time.Second
	verifyBodyCap        = 1 << 10 // the file holds a token, nothing more
)

// DomainVerifierOptions configure a DomainVerifier.
type DomainVerifierOptions struct {
	// Resolver answers the TXT and address queries; nil is the system's.
	// Tests point it at a DNS server on loopback.
	Resolver *net.Resolver
	// Guard judges every address the HTTP fallback dials (nil:
	// probes.NewGuard(nil)); AllowPrivate is PHAROS_ALLOW_PRIVATE_TARGETS.
	Guard        *probes.Guard
	AllowPrivate bool
	// Timeout bounds one verification, DNS and HTTP together.
	Timeout time.Duration
	// HTTPPort is the port the HTTP fallback dials ("80"); tests move it.
	HTTPPort string
	// ServiceHosts are the service's own host names (store.ServiceHosts),
	// which no page may have verified.
	ServiceHosts []string
	// Verified hears each page whose domain was just verified, so it is
	// served, and linked to, at once (Site.ForgetDomain, the page's
	// render cache).
	Verified func(ctx context.Context, slug, domain string)
}

// DomainVerifier checks that a domain's owner published a page's token.
type DomainVerifier struct {
	opts   DomainVerifierOptions
	client *http.Client
}

// NewDomainVerifier returns a verifier with opts' defaults filled in.
func NewDomainVerifier(opts DomainVerifierOptions) *DomainVerifier {
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Guard == nil {
		opts.Guard = probes.NewGuard(nil)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultVerifyTimeout
	}
	if opts.HTTPPort == "" {
		opts.HTTPPort = "80"
	}
	guard, allow := opts.Guard, opts.AllowPrivate
	dialer := &net.Dialer{Timeout: opts.Timeout, Resolver: opts.Resolver,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("domain verify: %w", err)
			}
			return guard.Check(ap.Addr(), allow)
		}}
	port := opts.HTTPPort
	transport := &http.Transport{
		Proxy: nil, // a proxy would dial for us, past the guard
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
		},
		ResponseHeaderTimeout: opts.Timeout,
		DisableKeepAlives:     true,
	}
	return &DomainVerifier{opts: opts, client: &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // the file is at its place or not at all
		},
	}}
}

// VerifyError says why a domain stays pending, in words for its owner.
type VerifyError struct {
	Domain string
	// DNS and HTTP are what each method found.
	DNS, HTTP string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s is not verified yet: DNS: %s; HTTP: %s", e.Domain, e.DNS, e.HTTP)
}

// Method names, as Verify returns and the audit log records them.
const (
	VerifiedByDNS  = "dns"
	VerifiedByHTTP = "http"
)

// Verify checks that domain publishes token, by DNS first and then the
// HTTP file. It returns the method that proved it, or a *VerifyError
// naming what each method found; other errors are the caller's (a
// cancelled context).
func (v *DomainVerifier) Verify(ctx context.Context, domain, token string) (string, error) {
	if token == "" {
		return "", errors.New("domain verify: the page has no token")
	}
	ctx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	defer cancel()
	verr := &VerifyError{Domain: domain}
	if verr.DNS = v.viaDNS(ctx, domain, token); verr.DNS == "" {
		return VerifiedByDNS, nil
	}
	if verr.HTTP = v.viaHTTP(ctx, domain, token); verr.HTTP == "" {
		return VerifiedByHTTP, nil
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return "", err
	}
	return "", verr
}

// viaDNS is "" when the TXT record holds token, else what was found.
func (v *DomainVerifier) viaDNS(ctx context.Context, domain, token string) string {
	name := store.DomainChallengeName(domain)
	txts, err := v.opts.Resolver.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("no TXT record %s", name)
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return fmt.Sprintf("looking up %s timed out", name)
	case err != nil:
		return fmt.Sprintf("looking up %s failed: %v", name, err)
	}
	if slices.ContainsFunc(txts, func(t string) bool { return strings.TrimSpace(t) == token }) {
		return ""
	}
	if len(txts) == 0 {
		return fmt.Sprintf("no TXT record %s", name)
	}
	return fmt.Sprintf("TXT record %s holds %s, not this page's token", name, excerpt(txts[0]))
}

// viaHTTP is "" when the challenge file holds token, else what was found.
func (v *DomainVerifier) viaHTTP(ctx context.Context, domain, token string) string {
	u := "http://" + domain + store.DomainChallengePath(token)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Sprintf("bad URL %s", u)
	}
	req.Header.Set("User-Agent", "Pharos domain verification")
	resp, err := v.client.Do(req)
	if err != nil {
		var blocked *probes.BlockedError
		if errors.As(err, &blocked) {
			return fmt.Sprintf("%s resolves to an address Pharos may not fetch (%s)", domain, blocked.Reason)
		}
		if ctx.Err() != nil {
			return fmt.Sprintf("fetching %s timed out", u)
		}
		return fmt.Sprintf("fetching %s failed", u)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("%s answered %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, verifyBodyCap+1))
	if err != nil {
		return fmt.Sprintf("reading %s failed", u)
	}
	if len(body) > verifyBodyCap {
		return fmt.Sprintf("%s is larger than %d bytes", u, verifyBodyCap)
	}
	if strings.TrimSpace(string(body)) != token {
		return fmt.Sprintf("%s does not hold this page's token", u)
	}
	return ""
}

// DomainCheck is the outcome of verifying a page's domain.
type DomainCheck struct {
	Claim store.DomainClaim
	// Method proved the domain just now ("dns", "http"); "" when it was
	// verified before or stays pending.
	Method string
	// Problem says why the domain stays pending; "" once verified.
	Problem string
}

// VerifyPage checks the organisation's page's domain now, unless it is
// verified already, and records the outcome in the audit log as actor; a
// success also marks the domain verified, in the same transaction.
// requestHost is the Host the request came on, one more of the service's
// own names. A page without a domain, or with one of the service's own
// names, is a *store.InvalidError.
func (v *DomainVerifier) VerifyPage(ctx context.Context, st *store.Store, orgID, pageID int64, actor store.Actor, requestHost string) (DomainCheck, error) {
	claim, err := st.DomainClaim(ctx, orgID, pageID)
	if err != nil {
		return DomainCheck{}, err
	}
	switch {
	case claim.Domain == "":
		return DomainCheck{}, &store.InvalidError{Field: "domain", Message: "the page has no custom domain to verify"}
	case store.IsServiceHost(claim.Domain, append(slices.Clone(v.opts.ServiceHosts), store.NormalDomain(hostOnly(requestHost)))):
		return DomainCheck{}, &store.InvalidError{Field: "domain",
			Message: fmt.Sprintf("%s is this service's own host name: no page can have it", claim.Domain)}
	case claim.Verified():
		return DomainCheck{Claim: claim}, nil
	}
	target := fmt.Sprintf("page %q", claim.Slug)
	method, err := v.Verify(ctx, claim.Domain, claim.Token)
	var verr *VerifyError
	if errors.As(err, &verr) {
		detail := map[string]string{"domain": claim.Domain, "result": "pending", "dns": verr.DNS, "http": verr.HTTP}
		if err := st.Audit(ctx, orgID, actor, "page.domain_verify", target, detail); err != nil {
			return DomainCheck{}, err
		}
		return DomainCheck{Claim: claim, Problem: verr.Error()}, nil
	}
	if err != nil {
		return DomainCheck{}, err
	}
	at := time.Now().UTC()
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkDomainVerified(ctx, orgID, pageID, claim.Domain, at); err != nil {
			return err
		}
		return tx.Audit(ctx, orgID, actor, "page.domain_verify", target,
			map[string]string{"domain": claim.Domain, "result": "verified", "method": method})
	})
	if err != nil {
		return DomainCheck{}, err
	}
	claim.VerifiedAt = &at
	if v.opts.Verified != nil {
		v.opts.Verified(ctx, claim.Slug, claim.Domain)
	}
	return DomainCheck{Claim: claim, Method: method}, nil
}

// hostOnly is host without its port.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// excerpt is a short, quoted piece of what a record held.
func excerpt(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}
