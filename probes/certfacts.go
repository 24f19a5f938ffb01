package probes

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"runtime"
	"sync"
	"time"
	"weak"
)

// certFacts holds, per certificate, the parts of its CertInfo that depend
// on the certificate alone: subject and issuer rendered, serial,
// fingerprint and names. crypto/tls gives every connection that receives
// the same certificate the same parsed *x509.Certificate while one is in
// use, so a host probed every round renders them once rather than on every
// probe. Keys are weak: an entry goes with its certificate.
var certFacts sync.Map // weak.Pointer[x509.Certificate] → CertInfo

func certInfo(c *x509.Certificate, now time.Time, source string) CertInfo {
	info := staticCertInfo(c)
	info.DaysLeft = int(c.NotAfter.Sub(now).Hours() / 24) // truncated, as DESIGN §6: 31 hours ago is -1
	info.Source = source
	return info
}

func staticCertInfo(c *x509.Certificate) CertInfo {
	key := weak.Make(c)
	if v, ok := certFacts.Load(key); ok {
		return v.(CertInfo)
	}
	sum := sha256.Sum256(c.Raw)
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
	if _, loaded := certFacts.LoadOrStore(key, info); !loaded {
		runtime.AddCleanup(c, func(k weak.Pointer[x509.Certificate]) { certFacts.Delete(k) }, key)
	}
	return info
}
