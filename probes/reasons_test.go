package probes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

// TestOneReasonPerFault serves each fault of issue 10 on a real TLS
// listener and checks that exactly one problem names it.
func TestOneReasonPerFault(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	now := time.Now()
	// An intermediate re-issued after the leaf expired: no instant exists
	// at which the whole chain is valid, so Go's verifier reports expiry.
	reissued := k.root.Intermediate(probetest.CertOptions{CommonName: "Pharos R1", Organization: "Pharos Test CA", NotBefore: now.Add(-day)})
	sha1Inter := k.root.Intermediate(probetest.CertOptions{CommonName: "Pharos SHA1 R2", Organization: "Pharos Test CA",
		NotBefore: now.Add(-400 * day), SignatureAlgorithm: x509.ECDSAWithSHA1})
	reversed := k.leaf(probetest.CertOptions{})
	reversed.Certificate = [][]byte{reversed.Certificate[1], reversed.Certificate[0]}
	mismatch := k.leaf(probetest.CertOptions{})
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mismatch.PrivateKey = otherKey

	tests := []struct {
		name string
		cert tls.Certificate
		mod  func(*tls.Config)
		want string
		msg  []string
	}{
		{name: "expired leaf, no common validity window", cert: reissued.Leaf(probetest.CertOptions{DNSNames: []string{testHost},
			NotBefore: now.Add(-100 * day), NotAfter: now.Add(-2 * day)}), want: "cert_expired", msg: []string{"expired", "(2 days ago)"}},
		{name: "SHA-1 leaf", cert: k.leaf(probetest.CertOptions{SignatureAlgorithm: x509.ECDSAWithSHA1}),
			want: "cert_untrusted", msg: []string{"the certificate is signed with SHA-1 (ECDSA-SHA1)", "reissue"}},
		{name: "SHA-1 intermediate", cert: sha1Inter.Leaf(probetest.CertOptions{DNSNames: []string{testHost}}),
			want: "cert_untrusted", msg: []string{`the intermediate "CN=Pharos SHA1 R2,O=Pharos Test CA" is signed with SHA-1`}},
		{name: "chain in the wrong order", cert: reversed,
			want: "tls_handshake_failed", msg: []string{"wrong order", `CA certificate "CN=Pharos R1,O=Pharos Test CA" first`, "position 2"}},
		{name: "key does not match the certificate", cert: mismatch,
			want: "tls_handshake_failed", msg: []string{"private key does not match the certificate", "CN=" + testHost}},
		{name: "RC4 only", cert: k.leaf(probetest.CertOptions{}), mod: func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA}
		}, want: "tls_handshake_failed", msg: []string{"no cipher suite in common", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS 1.2"}},
		{name: "missing intermediate without AIA", cert: probetest.WithoutIntermediates(k.leaf(probetest.CertOptions{})),
			want: "cert_chain_incomplete", msg: []string{`does not send the intermediate "CN=Pharos R1,O=Pharos Test CA"`, "no AIA URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: tc.cert, mod: tc.mod})
			res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Nodes: Nodes{Addrs: []string{"127.0.0.2"}}, Timeout: Duration(5 * time.Second)})
			if diff := cmp.Diff([]string{tc.want}, codes(res.Problems), cmp.Transformer("code", func(s string) string { c, _, _ := strings.Cut(s, "@"); return c })); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\n%v", diff, res.Problems)
			}
			wantMessage(t, res.Problems[0], tc.msg...)
		})
	}
}

// TestNoProtocolInCommon: a server that answers every ClientHello with a
// protocol_version alert, as an SSL 3.0-only server does.
func TestNoProtocolInCommon(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	ln := probetest.Listeners(t, "127.0.0.2")[0]
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.Read(buf)                                               // the ClientHello
			c.Write([]byte{0x15, 0x03, 0x00, 0x00, 0x02, 0x02, 0x46}) // fatal protocol_version
			c.Close()
		}
	}()
	url := "https://" + net.JoinHostPort(testHost, probetest.Port(ln)) + "/"
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Nodes: Nodes{Addrs: []string{"127.0.0.2"}}, Timeout: Duration(5 * time.Second)})
	if diff := cmp.Diff([]string{"tls_handshake_failed"}, onlyCodes(res.Problems)); diff != "" {
		t.Fatalf("(-want +got):\n%s\n%v", diff, res.Problems)
	}
	wantMessage(t, res.Problems[0], "no TLS version in common", "TLS 1.0 to 1.3")
}

// TestIPAddressSANs: a certificate naming only IP addresses shows them in
// the result (leaf.ip_addresses in --json).
func TestIPAddressSANs(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	cert := k.inter.Leaf(probetest.CertOptions{CommonName: "127.0.0.2", IPs: []net.IP{net.ParseIP("127.0.0.2")}})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert})
	url = strings.Replace(url, testHost, "127.0.0.2", 1)
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url})
	if res.State != StateUp {
		t.Fatalf("got %s %v, want up", res.State, res.Problems)
	}
	leaf := res.Nodes[0].TLS.Leaf
	if diff := cmp.Diff([]string{"127.0.0.2"}, leaf.IPs); diff != "" {
		t.Errorf("ip_addresses (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"ip_addresses":["127.0.0.2"]`) {
		t.Errorf("leaf JSON %s lacks ip_addresses", b)
	}
}

func TestWeakSignature(t *testing.T) {
	t.Parallel()
	tests := []struct {
		algo x509.SignatureAlgorithm
		want string
	}{
		{x509.SHA256WithRSA, ""},
		{x509.ECDSAWithSHA256, ""},
		{x509.SHA1WithRSA, "SHA-1"},
		{x509.ECDSAWithSHA1, "SHA-1"},
		{x509.MD5WithRSA, "MD5"},
		{x509.MD2WithRSA, "MD2"},
	}
	for _, tc := range tests {
		c := &x509.Certificate{SignatureAlgorithm: tc.algo, RawIssuer: []byte("issuer"), RawSubject: []byte("subject")}
		if got := weakSignature(c); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.algo, got, tc.want)
		}
	}
}
