package checkcmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// exampleLab is what the examples of issue 10 share: the CLI fixture's
// PKI, a revocation list of its intermediate served as a CRL and by an
// OCSP responder, and a local ACME directory serving renewalInfo, all on
// a plain-HTTP loopback server; and a source that refuses connections.
type exampleLab struct {
	f          *fixture
	revs       *probetest.Revocations
	base, dead string

	mu      sync.Mutex
	windows map[string]time.Time // ARI window end by certificate id
}

func newExampleLab(t *testing.T) *exampleLab {
	t.Helper()
	lab := &exampleLab{f: newFixture(t), windows: map[string]time.Time{}}
	lns := probetest.Listeners(t, "127.0.0.5", "127.0.0.6")
	lns[1].Close() // a revocation source nobody answers at
	lab.base = "http://127.0.0.5:" + probetest.Port(lns[0])
	lab.dead = "http://127.0.0.6:" + probetest.Port(lns[1])
	lab.revs = probetest.NewRevocations(lab.f.inter)
	mux := http.NewServeMux()
	mux.Handle("GET /r1.crl", lab.revs.CRLHandler())
	mux.Handle("POST /ocsp", lab.revs.OCSPHandler())
	mux.HandleFunc("GET /directory", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"newNonce": lab.base + "/nonce", "renewalInfo": lab.base + "/renewal-info"})
	})
	mux.HandleFunc("GET /renewal-info/{id}", func(w http.ResponseWriter, r *http.Request) {
		lab.mu.Lock()
		end, ok := lab.windows[r.PathValue("id")]
		lab.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Retry-After", "21600")
		json.NewEncoder(w).Encode(map[string]any{
			"suggestedWindow": map[string]time.Time{"start": end.Add(-2 * 24 * time.Hour), "end": end},
			"explanationURL":  "https://ca.example/incident-42",
		})
	})
	probetest.ServeHTTP(t, lns[0], mux)
	return lab
}

// leaf issues a certificate for host from the lab's intermediate.
func (lab *exampleLab) leaf(o probetest.CertOptions) tls.Certificate {
	o.CommonName, o.DNSNames = host, []string{host}
	return lab.f.inter.Leaf(o)
}

// renewalWindowEnded makes the ACME directory say c's renewal window ended
// at end. The id is RFC 9773 §4.1's: base64url(AKI) "." base64url(serial).
func (lab *exampleLab) renewalWindowEnded(t *testing.T, c tls.Certificate, end time.Time) {
	t.Helper()
	if len(c.Leaf.AuthorityKeyId) == 0 {
		t.Fatal("leaf has no authority key id, so no ARI certificate id")
	}
	serial := c.Leaf.SerialNumber.Bytes()
	if serial[0]&0x80 != 0 {
		serial = append([]byte{0}, serial...)
	}
	enc := base64.RawURLEncoding
	lab.mu.Lock()
	defer lab.mu.Unlock()
	lab.windows[enc.EncodeToString(c.Leaf.AuthorityKeyId)+"."+enc.EncodeToString(serial)] = end
}

// TestJSONExamples is the evidence of issue 10's closing note: one
// `pharos check --json` output for each new or changed problem code, each
// against a real TLS server on loopback. Run it with -v to print them.
func TestJSONExamples(t *testing.T) {
	t.Parallel()
	lab := newExampleLab(t)
	now := time.Now()
	day := 24 * time.Hour

	crlRevoked := lab.leaf(probetest.CertOptions{CRL: lab.base + "/r1.crl"})
	lab.revs.Revoke(crlRevoked.Leaf)
	// The responder cannot be reached: only the staple can tell.
	stapled := lab.leaf(probetest.CertOptions{OCSP: lab.dead + "/ocsp"})
	lab.revs.Revoke(stapled.Leaf)
	stapled.OCSPStaple = lab.revs.OCSP(stapled.Leaf)
	ariPassed := lab.leaf(probetest.CertOptions{NotBefore: now.Add(-10 * day)})
	lab.renewalWindowEnded(t, ariPassed, now.Add(-3*day))
	sha1Inter := lab.f.inter.Parent.Intermediate(probetest.CertOptions{CommonName: "Pharos CLI SHA1 R2", Organization: "Pharos Test CA",
		NotBefore: now.Add(-400 * day), SignatureAlgorithm: x509.ECDSAWithSHA1})
	reversed := lab.leaf(probetest.CertOptions{})
	reversed.Certificate = [][]byte{reversed.Certificate[1], reversed.Certificate[0]}
	mismatch := lab.leaf(probetest.CertOptions{})
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mismatch.PrivateKey = otherKey
	rc4Only := func(c *tls.Config) {
		c.MaxVersion = tls.VersionTLS12
		c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA}
	}

	tests := []struct {
		name    string
		cert    tls.Certificate
		mod     func(*tls.Config)
		ipHost  bool     // the URL names the node's IP, not host
		guarded bool     // without --allow-private
		args    []string // more flags
		exit    int
		state   string
		codes   []string // every problem code, in order
		code    string   // the problem the example is about
		sev     string
		msg     []string // its message contains each
		showTLS bool     // keep the leaf in the logged JSON
	}{
		{name: "cert_revoked by CRL", cert: crlRevoked, exit: 2, state: "down",
			codes: []string{"cert_revoked"}, code: "cert_revoked", sev: "critical",
			msg: []string{"was revoked by its CA", "for key compromise", "the CRL at " + lab.base + "/r1.crl"}},
		{name: "cert_revoked by stapled OCSP", cert: stapled, exit: 2, state: "down",
			codes: []string{"cert_revoked"}, code: "cert_revoked", sev: "critical", msg: []string{"the stapled OCSP response"}},
		{name: "cert_revoked note, source unreachable", cert: lab.leaf(probetest.CertOptions{CRL: lab.dead + "/r1.crl"}), exit: 0, state: "up",
			codes: []string{"cert_revoked"}, code: "cert_revoked", sev: "info", msg: []string{"could not be checked", lab.dead + "/r1.crl"}},
		{name: "cert_renewal_due, ARI window passed", cert: ariPassed, args: []string{"--acme-directory", lab.base + "/directory"},
			exit: 1, state: "degraded", codes: []string{"cert_renewal_due"}, code: "cert_renewal_due", sev: "warning",
			msg: []string{"suggested renewal window", "(3 days ago)", "https://ca.example/incident-42"}},
		{name: "cert_expiring, 6-day certificate with 1 day left",
			cert: lab.leaf(probetest.CertOptions{NotBefore: now.Add(-5 * day), NotAfter: now.Add(day)}), exit: 1, state: "degraded",
			codes: []string{"cert_expiring", "cert_renewal_overdue"}, code: "cert_expiring", sev: "warning", msg: []string{"expires", "(in 23 hours)"}, showTLS: true},
		{name: "fresh 6-day certificate is up",
			cert: lab.leaf(probetest.CertOptions{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(6*day - time.Hour)}), exit: 0, state: "up", showTLS: true},
		{name: "cert_renewal_overdue, 45-day certificate with 10 days left",
			cert: lab.leaf(probetest.CertOptions{NotBefore: now.Add(-35 * day), NotAfter: now.Add(10 * day)}), exit: 1, state: "degraded",
			codes: []string{"cert_expiring", "cert_renewal_overdue"}, code: "cert_renewal_overdue", sev: "warning", msg: []string{"45-day"}, showTLS: true},
		{name: "cert_renewal_overdue alone, 45-day certificate with 13 days left",
			cert: lab.leaf(probetest.CertOptions{NotBefore: now.Add(-32 * day), NotAfter: now.Add(13 * day)}), exit: 1, state: "degraded",
			codes: []string{"cert_renewal_overdue"}, code: "cert_renewal_overdue", sev: "warning", msg: []string{"45-day"}, showTLS: true},
		{name: "cert_expired alone", cert: lab.leaf(probetest.CertOptions{NotBefore: now.Add(-90 * day), NotAfter: now.Add(-2 * day)}),
			exit: 2, state: "down", codes: []string{"cert_expired"}, code: "cert_expired", sev: "critical", msg: []string{"expired", "(2 days ago)"}},
		{name: "cert_untrusted, SHA-1 leaf", cert: lab.leaf(probetest.CertOptions{SignatureAlgorithm: x509.ECDSAWithSHA1}), exit: 2, state: "down",
			codes: []string{"cert_untrusted"}, code: "cert_untrusted", sev: "critical", msg: []string{"signed with SHA-1 (ECDSA-SHA1)"}},
		{name: "cert_untrusted, SHA-1 intermediate", cert: sha1Inter.Leaf(probetest.CertOptions{CommonName: host, DNSNames: []string{host}}),
			exit: 2, state: "down", codes: []string{"cert_untrusted"}, code: "cert_untrusted", sev: "critical",
			msg: []string{`the intermediate "CN=Pharos CLI SHA1 R2,O=Pharos Test CA" is signed with SHA-1`}},
		{name: "tls_handshake_failed, chain in the wrong order", cert: reversed, exit: 2, state: "down",
			codes: []string{"tls_handshake_failed"}, code: "tls_handshake_failed", sev: "critical", msg: []string{"wrong order", `"CN=Pharos CLI R1,O=Pharos Test CA" first`}},
		{name: "tls_handshake_failed, key does not match", cert: mismatch, exit: 2, state: "down",
			codes: []string{"tls_handshake_failed"}, code: "tls_handshake_failed", sev: "critical", msg: []string{"private key does not match the certificate"}},
		{name: "tls_handshake_failed, no common cipher suite", cert: lab.leaf(probetest.CertOptions{}), mod: rc4Only, exit: 2, state: "down",
			codes: []string{"tls_handshake_failed"}, code: "tls_handshake_failed", sev: "critical", msg: []string{"no cipher suite in common", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"}},
		{name: "cert_chain_incomplete, no AIA", cert: probetest.WithoutIntermediates(lab.leaf(probetest.CertOptions{})), exit: 2, state: "down",
			codes: []string{"cert_chain_incomplete"}, code: "cert_chain_incomplete", sev: "critical",
			msg: []string{`does not send the intermediate "CN=Pharos CLI R1,O=Pharos Test CA"`, "no AIA URL"}},
		{name: "IP-SAN certificate", cert: lab.f.inter.Leaf(probetest.CertOptions{CommonName: "127.0.0.10", IPs: []net.IP{net.ParseIP("127.0.0.10")}}),
			ipHost: true, exit: 0, state: "up", showTLS: true},
		{name: "blocked_address, target refused by the guard", cert: lab.leaf(probetest.CertOptions{}), guarded: true,
			exit: 3, state: "unknown", codes: []string{"blocked_address"}, code: "blocked_address", sev: "critical",
			msg: []string{"is a loopback address; probes may not reach it"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ip := "127.0.0.2"
			if tc.ipHost {
				ip = "127.0.0.10"
			}
			ln := probetest.Listeners(t, ip)[0]
			probetest.ServeTLS(t, ln, tc.cert, probetest.Text(200, "text/plain", "hello"), tc.mod)
			args := []string{"--json", "--ca-file", lab.f.caFile, "--timeout", "5s"}
			if !tc.guarded {
				args = append(args, "--allow-private")
			}
			args = append(args, tc.args...)
			url := "https://" + host + ":" + probetest.Port(ln) + "/"
			if tc.ipHost {
				url = "https://" + ip + ":" + probetest.Port(ln) + "/"
			} else {
				args = append(args, "--resolve", ip)
			}
			args = append(args, url)

			r := runInProcess(t, nil, args...)
			res := r.result(t)
			if r.code != tc.exit || string(res.State) != tc.state {
				t.Errorf("exit %d, state %s; want %d, %s", r.code, res.State, tc.exit, tc.state)
			}
			var got []string
			for _, p := range res.Problems {
				got = append(got, string(p.Code))
			}
			if !slices.Equal(got, tc.codes) {
				t.Errorf("codes %v, want %v", got, tc.codes)
			}
			if tc.code != "" {
				at := slices.Index(got, tc.code)
				if at < 0 {
					t.Fatalf("no %s problem:\n%s", tc.code, r.stdout)
				}
				p := res.Problems[at]
				if string(p.Severity) != tc.sev {
					t.Errorf("%s severity %s, want %s", p.Code, p.Severity, tc.sev)
				}
				for _, m := range tc.msg {
					if !strings.Contains(p.Message, m) {
						t.Errorf("%s message %q lacks %q", p.Code, p.Message, m)
					}
				}
			}
			if tc.ipHost {
				if len(res.Nodes) != 1 || res.Nodes[0].TLS == nil || !slices.Equal(res.Nodes[0].TLS.Leaf.IPs, []string{ip}) {
					t.Errorf("leaf ip_addresses missing:\n%s", r.stdout)
				}
				if !strings.Contains(r.stdout, `"ip_addresses": [`) {
					t.Errorf("JSON lacks ip_addresses:\n%s", r.stdout)
				}
			}
			t.Logf("example %d, %s:\n$ pharos check %s\nexit %d\n%s", i+1, tc.name, strings.Join(args, " "), r.code, trimmed(t, r.stdout, tc.showTLS))
		})
	}
}

// trimmed keeps the fields of a --json result that the examples are about:
// the verdict and problems, and with showTLS each node's leaf certificate.
func trimmed(t *testing.T, stdout string, showTLS bool) string {
	t.Helper()
	var full map[string]any
	if err := json.Unmarshal([]byte(stdout), &full); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	out := struct {
		URL      any `json:"url"`
		State    any `json:"state"`
		Error    any `json:"error,omitempty"`
		Problems any `json:"problems"`
		Nodes    any `json:"nodes,omitempty"`
	}{URL: full["url"], State: full["state"], Error: full["error"], Problems: full["problems"]}
	if showTLS {
		var nodes []any
		for _, n := range full["nodes"].([]any) {
			n := n.(map[string]any)
			keep := struct {
				Address any `json:"address"`
				State   any `json:"state"`
				TLS     any `json:"tls,omitempty"`
			}{Address: n["address"], State: n["state"]}
			if tl, ok := n["tls"].(map[string]any); ok {
				leaf := tl["leaf"].(map[string]any)
				delete(leaf, "sha256")
				delete(leaf, "serial")
				keep.TLS = map[string]any{"version": tl["version"], "chain_trusted": tl["chain_trusted"], "leaf": leaf}
			}
			nodes = append(nodes, keep)
		}
		out.Nodes = nodes
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
