package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"runtime"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// benchServer serves a small JSON body over TLS 1.3 with an ECDSA P-256
// chain (root → intermediate → leaf), as a typical health endpoint.
func benchServer(b *testing.B) (*pki, string) {
	k := newPKI(b)
	url := serveNodes(b, "/health", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}),
		handler: probetest.Text(200, "application/json", `{"status":"ok","version":"1.2.3"}`)})
	return k, url
}

func benchSpec(url string) Spec {
	return Spec{URL: url, Nodes: Nodes{Addrs: []string{"127.0.0.2"}}, Expect: Expect{
		Status:       StatusSet{{200, 200}},
		BodyContains: []string{"ok"}, BodyNotContains: []string{"maintenance"},
		JSON: map[string]any{"$.status": "ok"},
	}}
}

// BenchmarkProbe is one full probe: fresh connection, handshake, chain
// verification and judgement, request, small body, assertions.
func BenchmarkProbe(b *testing.B) {
	k, url := benchServer(b)
	pr, spec := k.prober(nil, nil), benchSpec(url)
	b.ReportAllocs()
	for b.Loop() {
		if res := pr.Run(context.Background(), spec); res.State != StateUp {
			b.Fatalf("got %s %v", res.State, res.Problems)
		}
	}
}

// BenchmarkProbeParallel keeps about 64 probes in flight.
func BenchmarkProbeParallel(b *testing.B) {
	k, url := benchServer(b)
	pr, spec := k.prober(nil, nil), benchSpec(url)
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtimeProcs()))
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := pr.Run(context.Background(), spec); res.State != StateUp {
				b.Errorf("got %s %v", res.State, res.Problems)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "probes/s")
}

// BenchmarkHandshakeLimit is the floor a probe cannot beat: tls.Dial, a
// full handshake and x509 verification of the presented chain, nothing else.
func BenchmarkHandshakeLimit(b *testing.B) {
	k, url := benchServer(b)
	addr := nodeAddr("127.0.0.2", url)
	roots := probetest.Pool(k.root)
	b.ReportAllocs()
	for b.Loop() {
		if err := bareHandshake(addr, roots); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshakeLimitParallel is the limit with about 64 handshakes in flight.
func BenchmarkHandshakeLimitParallel(b *testing.B) {
	k, url := benchServer(b)
	addr := nodeAddr("127.0.0.2", url)
	roots := probetest.Pool(k.root)
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtimeProcs()))
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bareHandshake(addr, roots); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

func bareHandshake(addr string, roots *x509.CertPool) error {
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: testHost, InsecureSkipVerify: true})
	if err != nil {
		return err
	}
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err = certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: testHost})
	return err
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
