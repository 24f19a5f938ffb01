// Package probetest builds throw-away certificate hierarchies and loopback
// TLS servers for testing the probe engine and the `pharos check` command.
//
// Nothing here touches the file system or the network beyond loopback: keys
// are ECDSA P-256 (fast, and what most public CAs issue today), generated in
// memory for each test run.
package probetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a certificate authority able to issue intermediates and leaves.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// Parent is the issuing CA, nil for a root.
	Parent *CA
}

// CertOptions shapes an issued certificate. Zero values give a certificate
// valid from an hour ago for 90 days.
type CertOptions struct {
	CommonName   string
	Organization string
	DNSNames     []string
	IPs          []net.IP
	NotBefore    time.Time
	NotAfter     time.Time
	// AIA is the caIssuers URL written into the certificate.
	AIA string
	// SignatureAlgorithm is how the issuer signs it; zero is the issuer
	// key's default (ECDSA with SHA-256). x509.ECDSAWithSHA1 makes the
	// SHA-1 certificates clients refuse.
	SignatureAlgorithm x509.SignatureAlgorithm
	// CRL is the CRL distribution point written into the certificate.
	CRL string
	// OCSP is the OCSP responder URL written into the certificate.
	OCSP string
}

func (o CertOptions) apply(t *x509.Certificate) {
	if o.Organization != "" {
		t.Subject.Organization = []string{o.Organization}
	}
	if o.AIA != "" {
		t.IssuingCertificateURL = []string{o.AIA}
	}
	if o.CRL != "" {
		t.CRLDistributionPoints = []string{o.CRL}
	}
	if o.OCSP != "" {
		t.OCSPServer = []string{o.OCSP}
	}
}

func (o CertOptions) window() (time.Time, time.Time) {
	nb, na := o.NotBefore, o.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = nb.Add(90 * 24 * time.Hour)
	}
	return nb, na
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(fmt.Sprintf("probetest: serial: %v", err))
	}
	return n
}

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("probetest: key: %v", err))
	}
	return k
}

func (ca *CA) sign(tmpl *x509.Certificate, pub any) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		panic(fmt.Sprintf("probetest: create certificate %q: %v", tmpl.Subject.CommonName, err))
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("probetest: parse certificate: %v", err))
	}
	return c
}

func caTemplate(o CertOptions) *x509.Certificate {
	nb, na := o.window()
	if o.NotAfter.IsZero() {
		na = nb.Add(10 * 365 * 24 * time.Hour)
	}
	t := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: o.CommonName},
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    o.SignatureAlgorithm,
	}
	o.apply(t)
	return t
}

// NewRoot returns a self-signed root CA, valid for ten years unless o says otherwise.
func NewRoot(o CertOptions) *CA {
	key := newKey()
	t := caTemplate(o)
	der, err := x509.CreateCertificate(rand.Reader, t, t, &key.PublicKey, key)
	if err != nil {
		panic(fmt.Sprintf("probetest: root: %v", err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("probetest: root: %v", err))
	}
	return &CA{Cert: cert, Key: key}
}

// Intermediate issues a subordinate CA.
func (ca *CA) Intermediate(o CertOptions) *CA {
	key := newKey()
	return &CA{Cert: ca.sign(caTemplate(o), &key.PublicKey), Key: key, Parent: ca}
}

// Leaf issues a server certificate and returns it as a tls.Certificate whose
// chain holds the leaf followed by every intermediate up to (not including)
// the root. Use WithoutIntermediates to drop them.
func (ca *CA) Leaf(o CertOptions) tls.Certificate {
	key := newKey()
	leaf := ca.sign(leafTemplate(o), &key.PublicKey)
	tc := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	for p := ca; p != nil && p.Parent != nil; p = p.Parent {
		tc.Certificate = append(tc.Certificate, p.Cert.Raw)
	}
	return tc
}

// leafTemplate is a server certificate's template from o.
func leafTemplate(o CertOptions) *x509.Certificate {
	nb, na := o.window()
	t := &x509.Certificate{
		SerialNumber:       serial(),
		Subject:            pkix.Name{CommonName: o.CommonName},
		DNSNames:           o.DNSNames,
		IPAddresses:        o.IPs,
		NotBefore:          nb,
		NotAfter:           na,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: o.SignatureAlgorithm,
	}
	o.apply(t)
	return t
}

// SelfSigned returns a server certificate signed by its own key, as an
// internal service with no CA serves; trust it with CertPEM(c.Leaf).
func SelfSigned(o CertOptions) tls.Certificate {
	key := newKey()
	t := leafTemplate(o)
	t.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, t, t, &key.PublicKey, key)
	if err != nil {
		panic(fmt.Sprintf("probetest: self-signed %q: %v", o.CommonName, err))
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("probetest: self-signed: %v", err))
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// WithoutIntermediates returns c serving only its leaf, as a misconfigured
// server that forgot the chain file does.
func WithoutIntermediates(c tls.Certificate) tls.Certificate {
	c.Certificate = c.Certificate[:1]
	return c
}

// Pool returns a pool holding the given CAs' certificates.
func Pool(cas ...*CA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}

// PEM returns the CA certificate in PEM form, as a --ca-file holds it.
func (ca *CA) PEM() string { return CertPEM(ca.Cert) }

// CertPEM returns c in PEM form, as a --ca-file holds it.
func CertPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
