package probes

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// One exact reason per fault (issue 10): each function here turns what
// crypto/x509 or crypto/tls reports in general terms ("does not chain to a
// trusted root", "handshake failure") into the fault an operator must fix.

// weakAlgorithms are signature algorithms no current client accepts.
var weakAlgorithms = map[x509.SignatureAlgorithm]string{
	x509.MD2WithRSA:    "MD2",
	x509.MD5WithRSA:    "MD5",
	x509.SHA1WithRSA:   "SHA-1",
	x509.DSAWithSHA1:   "SHA-1",
	x509.ECDSAWithSHA1: "SHA-1",
}

// weakSignature names the hash of c's signature when clients refuse it,
// or "" when it is acceptable. A self-signed root's own signature is never
// checked by clients, so it does not count.
func weakSignature(c *x509.Certificate) string {
	if selfSigned(c) {
		return ""
	}
	return weakAlgorithms[c.SignatureAlgorithm]
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// weakSignatureProblem reports, as cert_untrusted naming the algorithm,
// the presented leaf and intermediates signed with a hash that clients
// refuse. Go, like browsers, then fails to build the chain and says only
// that the issuer is unknown; the signature is the fault. Nil when every
// signature is acceptable.
func weakSignatureProblem(in tlsInput) *Problem {
	var parts []string
	for i, c := range in.certs {
		hash := weakSignature(c)
		if hash == "" {
			continue
		}
		what := "the certificate"
		if i > 0 {
			what = "the intermediate " + quote(c.Subject.String())
		}
		parts = append(parts, fmt.Sprintf("%s is signed with %s (%s)", what, hash, c.SignatureAlgorithm))
	}
	if len(parts) == 0 {
		return nil
	}
	pb := problemf(CodeCertUntrusted, in.node,
		"certificate for %s on %s is not trusted: %s, which browsers and TLS libraries refuse; reissue with a SHA-256 signature",
		in.host, in.node, strings.Join(parts, " and "))
	return &pb
}

// misordered reports whether the server sent a CA certificate first and
// its own certificate later, and returns the chain in the right order.
// Clients take the first certificate as the server's, so the handshake
// fails; judging the reordered chain still names the certificate's own
// faults.
func misordered(certs []*x509.Certificate) ([]*x509.Certificate, int, bool) {
	if len(certs) < 2 || !certs[0].IsCA {
		return certs, 0, false
	}
	for i, c := range certs[1:] {
		if !c.IsCA {
			out := append([]*x509.Certificate{c}, certs[:i+1]...)
			return append(out, certs[i+2:]...), i + 1, true
		}
	}
	return certs, 0, false
}

// untrustedProblem explains why the chain of in does not verify, or
// returns nil when another problem already names the fault: an expired or
// not-yet-valid presented certificate (cert_expired, cert_not_yet_valid) or
// a refused signature algorithm (weakSignatureProblem).
func untrustedProblem(in tlsInput, cc chainCheck, weak bool) *Problem {
	var (
		ua  x509.UnknownAuthorityError
		inv x509.CertificateInvalidError
		pb  Problem
	)
	switch {
	case errors.As(cc.err, &inv) && (inv.Reason == x509.Expired):
		if inv.Cert == nil || contains(in.certs, inv.Cert) {
			return nil
		}
		// A certificate the server does not send (a root from the trust
		// store) is outside its validity: the time checks do not see it.
		pb = problemf(CodeCertExpired, in.node, "the chain of %s on %s ends at %s, which is not valid at %s (valid %s to %s)",
			in.host, in.node, quote(inv.Cert.Subject.String()), in.now.UTC().Format("2006-01-02 15:04 UTC"),
			inv.Cert.NotBefore.UTC().Format("2006-01-02"), inv.Cert.NotAfter.UTC().Format("2006-01-02"))
	case errors.As(cc.err, &ua) && weak:
		return nil
	case errors.As(cc.err, &ua) && missingIntermediate(in):
		top := in.certs[len(in.certs)-1]
		how := "the certificate names no AIA URL to fetch it from"
		switch {
		case cc.fetchErr != nil:
			how = "fetching it failed (" + cc.fetchErr.Error() + ")"
		case len(top.IssuingCertificateURL) > 0:
			how = "it was not fetched from " + top.IssuingCertificateURL[0]
		}
		pb = problemf(CodeCertChainIncomplete, in.node,
			"certificate chain for %s on %s is incomplete: the server does not send the intermediate %s that issued %s, and %s; every client will fail",
			in.host, in.node, quote(top.Issuer.String()), quote(top.Subject.String()), how)
	default:
		pb = problemf(CodeCertUntrusted, in.node, "certificate for %s on %s is not trusted: %s", in.host, in.node, untrustedReason(in.certs[0], cc.err))
	}
	return &pb
}

// missingIntermediate reports whether the last certificate the server
// sends was issued by a CA that is probably an intermediate of a trusted
// root rather than an untrusted root of its own: it is not self-signed, and
// a trusted root (the prober's roots or the check's own CA) belongs to the
// same organisation as that issuer. An internal CA's leaf sent alone (DESIGN
// §1 F2) stays cert_untrusted. This is a judgement from names: a missing
// intermediate of a CA whose root carries another organisation name is
// still reported as cert_untrusted.
func missingIntermediate(in tlsInput) bool {
	top := in.certs[len(in.certs)-1]
	if selfSigned(top) || len(top.Issuer.Organization) == 0 {
		return false
	}
	roots := in.roots
	if roots == nil {
		// Subjects of the system pool are listed where Go loads the roots
		// itself (Linux, BSD); elsewhere this finds nothing and the chain
		// stays cert_untrusted.
		if sys, err := x509.SystemCertPool(); err == nil {
			roots = sys
		}
	}
	for _, pool := range []*x509.CertPool{roots, in.extra} {
		if pool == nil {
			continue
		}
		for _, raw := range pool.Subjects() { //nolint:staticcheck // deprecated only for the system roots of macOS and Windows
			var rdn pkix.RDNSequence
			if _, err := asn1.Unmarshal(raw, &rdn); err != nil {
				continue
			}
			var name pkix.Name
			name.FillFromRDNSequence(&rdn)
			for _, org := range name.Organization {
				if slices.ContainsFunc(top.Issuer.Organization, func(o string) bool { return strings.EqualFold(o, org) }) {
					return true
				}
			}
		}
	}
	return false
}

// firstProblem returns the first of problems with code.
func firstProblem(problems []Problem, code Code) (Problem, bool) {
	if i := slices.IndexFunc(problems, func(p Problem) bool { return p.Code == code }); i >= 0 {
		return problems[i], true
	}
	return Problem{}, false
}
