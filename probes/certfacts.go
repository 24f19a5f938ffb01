package probes

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// certFacts holds, per certificate (by the SHA-256 of its DER encoding,
// which is also its fingerprint), the parts of its CertInfo that depend on
// the certificate alone: subject and issuer rendered, serial, fingerprint
// and names. A host probed every round renders them once rather than on
// every probe. Up to 4,096 certificates; past that, those idle for 10
// minutes go.
var certFacts = newDigestCache[CertInfo](4096, 10*time.Minute)

func certInfo(c *x509.Certificate, now time.Time, source string) CertInfo {
	info := staticCertInfo(c)
	info.DaysLeft = int(c.NotAfter.Sub(now).Hours() / 24) // truncated, as DESIGN §6: 31 hours ago is -1
	info.Source = source
	return info
}

func staticCertInfo(c *x509.Certificate) CertInfo {
	sum := sha256.Sum256(c.Raw)
	if info, ok := certFacts.get(sum); ok {
		return info
	}
	names := c.DNSNames
	if names == nil {
		names = []string{} // JSON [] rather than null, as for a leaf
	}
	info := CertInfo{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		Serial:    hex.EncodeToString(c.SerialNumber.Bytes()),
		SHA256:    hex.EncodeToString(sum[:]),
		DNSNames:  names,
		IPs:       ipStrings(c),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
	}
	certFacts.put(sum, info)
	return info
}
