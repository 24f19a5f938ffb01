package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// tlsInput is what the TLS judgement of one node needs.
type tlsInput struct {
	host, node string
	now        time.Time
	version    uint16
	cipher     uint16
	certs      []*x509.Certificate                                                 // as presented, leaf first
	roots      *x509.CertPool                                                      // nil: system roots
	extra      *x509.CertPool                                                      // the check's own CA, may be nil
	fetch      fetchFunc                                                           // AIA fetcher, may be nil
	revocation revocationFunc                                                      // revocation checker, may be nil
	stapled    []byte                                                              // the server's OCSP staple, may be nil
	ari        func(ctx context.Context, leaf *x509.Certificate) (ariWindow, bool) // renewal window, may be nil
	plan       *plan
}

// judgeTLS classifies the TLS session of one node. It does no I/O beyond
// in.fetch, so table tests drive it with generated certificates and a clock.
func judgeTLS(ctx context.Context, in tlsInput) (*TLSInfo, []Problem) {
	p := in.plan
	var out []Problem
	add := func(code Code, format string, args ...any) *Problem {
		out = append(out, problemf(code, in.node, format, args...))
		return &out[len(out)-1]
	}
	info := &TLSInfo{Version: tlsVersionName(in.version), Cipher: tls.CipherSuiteName(in.cipher)}
	if len(in.certs) == 0 {
		add(CodeTLSHandshakeFailed, "%s presented no certificate for %s", in.node, in.host)
		return info, out
	}
	if in.version < p.minVersion {
		add(CodeTLSVersionLow, "%s negotiated %s for %s, below the minimum %s",
			in.node, tlsVersionName(in.version), in.host, tlsVersionName(p.minVersion))
	}
	if ordered, at, ok := misordered(in.certs); ok {
		add(CodeTLSHandshakeFailed, "TLS handshake with %s for %s failed: the server sends its certificate chain in the wrong order, "+
			"the CA certificate %s first and its own certificate %s at position %d; clients take the first as the server's and refuse the handshake",
			in.node, in.host, quote(in.certs[0].Subject.String()), quote(ordered[0].Subject.String()), at+1)
		in.certs = ordered
	}
	leaf := in.certs[0]
	cc := buildChain(ctx, in.certs, in.now, in.roots, in.extra, in.fetch)
	info.ChainTrusted = cc.trusted
	info.Leaf = certInfo(leaf, in.now, "presented")
	info.Chain = chainInfo(in, cc)

	switch {
	case cc.incomplete:
		add(CodeCertChainIncomplete, "certificate chain for %s on %s is incomplete: the server does not send the intermediate %s "+
			"(fetched from %s); clients that do not fetch it, most API clients, will fail",
			in.host, in.node, quote(cc.fetched[len(cc.fetched)-1].Subject.String()), cc.fetchURL)
	case !cc.trusted:
		weak := weakSignatureProblem(in)
		if weak != nil {
			out = append(out, *weak)
		}
		if pb := untrustedProblem(in, cc, weak != nil); pb != nil {
			out = append(out, *pb)
		}
	}
	if err := leaf.VerifyHostname(in.host); err != nil {
		add(CodeCertHostnameMismatch, "certificate on %s is not valid for %s: it names %s",
			in.node, in.host, certNames(leaf))
	}
	judged := in.certs
	if cc.chain != nil {
		judged = cc.chain
		out = append(out, revocationProblems(ctx, in, cc.chain)...)
		if !in.now.Before(leaf.NotBefore) && !in.now.After(leaf.NotAfter) {
			out = append(out, renewalDueProblem(ctx, in, leaf)...)
		}
	}
	for i, c := range judged {
		// A self-signed leaf trusted as its own root (--ca-file, tls.ca)
		// ends a one-certificate chain: it is still the site's
		// certificate, which the site must renew.
		isRoot := i > 0 && i == len(judged)-1 && cc.chain != nil
		out = append(out, judgeValidity(in, c, i, isRoot)...)
	}
	if want := p.spec.TLS.Issuer; want != "" && !issuerMatches(leaf, want) {
		add(CodeCertIssuerUnexpected, "certificate for %s on %s is issued by %s, expected an issuer matching %q",
			in.host, in.node, quote(leaf.Issuer.String()), want)
	}
	if prev := p.spec.PreviousIssuer; prev != "" && prev != leaf.Issuer.String() {
		add(CodeCertIssuerChanged, "issuer of the certificate for %s on %s changed from %s to %s",
			in.host, in.node, quote(prev), quote(leaf.Issuer.String()))
	}
	return info, out
}

// certNoun names the i-th certificate of a chain in a problem message. It
// is formatted only when a problem is reported: a sound chain, the common
// case, does not pay for rendering its subjects.
type certNoun struct {
	host        string
	cert        *x509.Certificate
	root, inter bool
}

func (n certNoun) String() string {
	switch {
	case n.root:
		return fmt.Sprintf("root certificate %s in the chain of %s", quote(n.cert.Subject.String()), n.host)
	case n.inter:
		return fmt.Sprintf("intermediate certificate %s in the chain of %s", quote(n.cert.Subject.String()), n.host)
	}
	return "certificate for " + n.host
}

// judgeValidity applies the time checks to the i-th certificate of a chain
// (0 is the leaf). Renewal is judged for the leaf only; expiry warnings for
// the leaf and intermediates, not for roots above the leaf, which the site
// does not renew. isRoot is false for the leaf even when it is its own
// trust anchor.
func judgeValidity(in tlsInput, c *x509.Certificate, i int, isRoot bool) []Problem {
	p, now := in.plan, in.now
	what := certNoun{host: in.host, cert: c, root: isRoot, inter: i > 0}
	switch {
	case now.After(c.NotAfter):
		return []Problem{problemf(CodeCertExpired, in.node, "%s expired %s on %s", what, when(c.NotAfter, now), in.node)}
	case now.Before(c.NotBefore):
		return []Problem{problemf(CodeCertNotYetValid, in.node, "%s is not valid before %s on %s", what, when(c.NotBefore, now), in.node)}
	case isRoot:
		return nil
	}
	var out []Problem
	life := c.NotAfter.Sub(c.NotBefore)
	th := ExpiryThresholds(life, p.spec.TLS.WarnDays, p.spec.TLS.CriticalDays)
	ex := th.Judge(c.NotBefore, c.NotAfter, now)
	if ex.Expiring {
		pr := problemf(CodeCertExpiring, in.node, "%s expires %s on %s", what, when(c.NotAfter, now), in.node)
		if ex.Critical {
			pr.Severity = SeverityCritical
		}
		out = append(out, pr)
	}
	if i == 0 && ex.Overdue {
		used := now.Sub(c.NotBefore)
		out = append(out, problemf(CodeCertRenewalOverdue, in.node,
			"%s on %s has used %d%% of its %s lifetime (expires %s): ACME clients renew it with %s left; check the renewal job",
			what, in.node, int(100*used/life), lifetimeText(life), when(c.NotAfter, now), span(th.Renew)))
	}
	return out
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func untrustedReason(leaf *x509.Certificate, err error) string {
	var ua x509.UnknownAuthorityError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return fmt.Sprintf("issued by %s, which does not chain to a trusted root", quote(leaf.Issuer.String()))
	case errors.As(err, &inv):
		return inv.Error()
	case err != nil:
		return err.Error()
	}
	return "unknown reason"
}

func issuerMatches(c *x509.Certificate, want string) bool {
	want = strings.ToLower(want)
	names := append([]string{c.Issuer.CommonName}, c.Issuer.Organization...)
	for _, n := range names {
		if n != "" && strings.Contains(strings.ToLower(n), want) {
			return true
		}
	}
	return false
}

func certNames(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no DNS names (CN " + quote(c.Subject.CommonName) + ")"
	}
	return strings.Join(names, ", ")
}

func chainInfo(in tlsInput, cc chainCheck) []CertInfo {
	list := cc.chain
	if list == nil {
		list = append(append([]*x509.Certificate{}, in.certs...), cc.fetched...)
	}
	out := make([]CertInfo, 0, len(list))
	for i, c := range list[1:] {
		src := "presented"
		switch {
		case contains(cc.fetched, c):
			src = "fetched"
		case cc.chain != nil && i == len(list)-2 && !contains(in.certs, c):
			src = "root"
		}
		out = append(out, certInfo(c, in.now, src))
	}
	return out
}

func contains(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range list {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("TLS 0x%04x", v)
}

// when formats an instant for a human on call: "2026-11-20 03:07 UTC (1 day ago)".
func when(t, now time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC") + " (" + relative(t.Sub(now)) + ")"
}

func relative(d time.Duration) string {
	ago := d < 0
	if ago {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if ago {
		return s + " ago"
	}
	return "in " + s
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func quote(s string) string { return `"` + s + `"` }

func ipStrings(c *x509.Certificate) []string {
	var out []string
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}
