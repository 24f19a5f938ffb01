package checkcmd

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// TestRevokedAndRenewalDue runs `pharos check` against a certificate its CA
// revoked (CRL) and one whose ACME renewal window has passed, both served
// with their CRL and ACME directory on loopback.
func TestRevokedAndRenewalDue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	ln := probetest.Listeners(t, "127.0.0.11")[0]
	base := "http://127.0.0.11:" + probetest.Port(ln)
	revs := probetest.NewRevocations(f.inter)
	revoked := f.inter.Leaf(probetest.CertOptions{CommonName: host, DNSNames: []string{host}, CRL: base + "/r1.crl"})
	revs.Revoke(revoked.Leaf)
	due := f.inter.Leaf(probetest.CertOptions{CommonName: host, DNSNames: []string{host}, NotBefore: now.Add(-30 * 24 * time.Hour)})
	serial := due.Leaf.SerialNumber.Bytes()
	if serial[0]&0x80 != 0 { // RFC 9773 uses the DER integer, kept positive
		serial = append([]byte{0}, serial...)
	}
	dueID := base64.RawURLEncoding.EncodeToString(due.Leaf.AuthorityKeyId) + "." + base64.RawURLEncoding.EncodeToString(serial)
	mux := http.NewServeMux()
	mux.Handle("GET /r1.crl", revs.CRLHandler())
	mux.HandleFunc("GET /directory", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"renewalInfo": base + "/renewal-info"})
	})
	mux.HandleFunc("GET /renewal-info/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != dueID {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"suggestedWindow": map[string]time.Time{
			"start": now.Add(-4 * 24 * time.Hour), "end": now.Add(-2 * 24 * time.Hour)}})
	})
	probetest.ServeHTTP(t, ln, mux)
	serve := func(ip string, cert tls.Certificate) string {
		l := probetest.Listeners(t, ip)[0]
		probetest.ServeTLS(t, l, cert, probetest.Text(200, "text/plain", "hello"), nil)
		return "https://" + host + ":" + probetest.Port(l) + "/"
	}
	revokedURL, dueURL := serve("127.0.0.12", revoked), serve("127.0.0.13", due)
	base2 := []string{"--json", "--allow-private", "--ca-file", f.caFile}
	tests := []struct {
		name, state, codes, msg string
		code                    int
		args                    []string
	}{
		{"revoked", "down", "cert_revoked", "was revoked by its CA", 2, append(base2, "--resolve", "127.0.0.12", revokedURL)},
		{"renewal due", "degraded", "cert_renewal_due", "suggested renewal window", 1,
			append(base2, "--resolve", "127.0.0.13", "--acme-directory", base+"/directory", dueURL)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runInProcess(t, nil, tc.args...)
			res := r.result(t)
			if r.code != tc.code || string(res.State) != tc.state || codesOf(res) != tc.codes || !strings.Contains(res.Problems[0].Message, tc.msg) {
				t.Errorf("exit %d %s [%s], want %d %s [%s] saying %q\n%s", r.code, res.State, codesOf(res), tc.code, tc.state, tc.codes, tc.msg, r.stdout)
			}
		})
	}
}
