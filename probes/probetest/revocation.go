package probetest

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Revocations is the list of certificates a CA has revoked, served as a CRL
// and by an OCSP responder. Safe for concurrent use.
type Revocations struct {
	CA *CA
	// Now is the clock of the CRLs served; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	serials map[string]bool
	number  int64
}

// NewRevocations returns an empty revocation list of ca.
func NewRevocations(ca *CA) *Revocations {
	return &Revocations{CA: ca, serials: map[string]bool{}}
}

// Revoke adds c to the list.
func (r *Revocations) Revoke(c *x509.Certificate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serials[c.SerialNumber.String()] = true
}

// RevokeRandom adds n random serials, to give a CRL a realistic size.
func (r *Revocations) RevokeRandom(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range n {
		r.serials[serial().String()] = true
	}
}

func (r *Revocations) revoked(serial *big.Int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.serials[serial.String()]
}

// CRL returns the DER CRL of the list, made an hour before now and valid
// until nextUpdate.
func (r *Revocations) CRL(now, nextUpdate time.Time) []byte {
	r.mu.Lock()
	r.number++
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(r.number),
		ThisUpdate: now.Add(-time.Hour),
		NextUpdate: nextUpdate,
	}
	for s := range r.serials {
		n, _ := new(big.Int).SetString(s, 10)
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: n, RevocationTime: now.Add(-30 * time.Minute), ReasonCode: 1, // key compromise
		})
	}
	r.mu.Unlock()
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, r.CA.Cert, r.CA.Key)
	if err != nil {
		panic(fmt.Sprintf("probetest: CRL: %v", err))
	}
	return der
}

// OCSP returns a DER OCSP response about c, signed by the CA itself, good
// or revoked as the list says, valid for a day.
func (r *Revocations) OCSP(c *x509.Certificate) []byte {
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: c.SerialNumber,
		ThisUpdate:   time.Now().Add(-time.Hour),
		NextUpdate:   time.Now().Add(24 * time.Hour),
	}
	if r.revoked(c.SerialNumber) {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, time.Now().Add(-30*time.Minute), ocsp.KeyCompromise
	}
	der, err := ocsp.CreateResponse(r.CA.Cert, r.CA.Cert, tmpl, r.CA.Key)
	if err != nil {
		panic(fmt.Sprintf("probetest: OCSP response: %v", err))
	}
	return der
}

// CRLHandler serves the CRL, valid for a day, on every GET.
func (r *Revocations) CRLHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/pkix-crl")
		now := time.Now
		if r.Now != nil {
			now = r.Now
		}
		w.Write(r.CRL(now(), now().Add(24*time.Hour)))
	})
}

// OCSPHandler answers OCSP requests (POST, RFC 6960) about the list.
func (r *Revocations) OCSPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q, err := ocsp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(r.OCSP(&x509.Certificate{SerialNumber: q.SerialNumber}))
	})
}
