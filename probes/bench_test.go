package probes

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// benchServer serves a small JSON body over TLS 1.3 with an ECDSA P-256
// chain (root → intermediate → leaf), as a typical health endpoint. The
// leaf names a CRL (10,000 entries, about 400 KB) and its CA an ACME
// directory with renewal information, both served on loopback, so probes
// pay for revocation and ARI as they do in production.
func benchServer(b *testing.B) (*pki, string, string) {
	k := newPKI(b)
	revs := probetest.NewRevocations(k.inter)
	revs.RevokeRandom(10000)
	crl := revs.CRL(time.Now(), time.Now().Add(24*time.Hour))
	ln := probetest.Listeners(b, "127.0.0.5")[0]
	base := "http://crl.pharos.test:" + probetest.Port(ln)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /r1.crl", func(w http.ResponseWriter, r *http.Request) { w.Write(crl) })
	mux.HandleFunc("GET /directory", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"renewalInfo": %q}`, base+"/renewal-info")
	})
	window := fmt.Sprintf(`{"suggestedWindow": {"start": %q, "end": %q}}`,
		time.Now().Add(50*24*time.Hour).Format(time.RFC3339), time.Now().Add(52*24*time.Hour).Format(time.RFC3339))
	mux.HandleFunc("GET /renewal-info/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(window)) })
	probetest.ServeHTTP(b, ln, mux)
	leaf := k.leaf(probetest.CertOptions{CRL: base + "/r1.crl"})
	url := serveNodes(b, "/health", node{ip: "127.0.0.2", cert: leaf,
		handler: probetest.Text(200, "application/json", `{"status":"ok","version":"1.2.3"}`)})
	return k, url, base + "/directory"
}

// benchProber is the prober of the benchmarks: it resolves the CRL and
// ACME host and knows the test CA's ACME directory.
func benchProber(k *pki, acme string) *Prober {
	return New(Options{Roots: probetest.Pool(k.root), Allow: allowTestNodes,
		Resolver:        fakeResolver{testHost: {"127.0.0.2"}, "crl.pharos.test": {"127.0.0.5"}},
		ACMEDirectories: map[string]string{"Pharos Test CA": acme}})
}

func benchSpec(url string) Spec {
	return Spec{URL: url, Nodes: Nodes{Addrs: []string{"127.0.0.2"}}, Expect: Expect{
		Status:       StatusSet{{200, 200}},
		BodyContains: []string{"ok"}, BodyNotContains: []string{"maintenance"},
		JSON: map[string]any{"$.status": "ok"},
	}}
}

// BenchmarkProbe is one full probe: fresh connection, handshake, chain
// verification and judgement, revocation (the CRL cached, as it is between
// its updates), request, small body, assertions.
func BenchmarkProbe(b *testing.B) {
	k, url, acme := benchServer(b)
	pr, spec := benchProber(k, acme), benchSpec(url)
	pr.Run(context.Background(), spec) // fills the CRL and ARI caches, outside the timed loop
	b.ReportAllocs()
	cpu := probetest.ProcessCPU()
	for b.Loop() {
		if res := pr.Run(context.Background(), spec); res.State != StateUp {
			b.Fatalf("got %s %v", res.State, res.Problems)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the process's CPU time per operation since start as
// cpu-ms/op: both ends of the loopback connection, so probe and bare
// handshake compare fairly on a machine others load.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(probetest.ProcessCPU()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkProbeParallel keeps about 64 probes in flight.
func BenchmarkProbeParallel(b *testing.B) {
	k, url, acme := benchServer(b)
	pr, spec := benchProber(k, acme), benchSpec(url)
	pr.Run(context.Background(), spec) // fills the CRL and ARI caches, outside the timed loop
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

// BenchmarkProbeCold is BenchmarkProbe with empty revocation and ARI
// caches each time: the difference is the cost of fetching and parsing
// the CRL, the ACME directory and the renewal window.
func BenchmarkProbeCold(b *testing.B) {
	k, url, acme := benchServer(b)
	spec := benchSpec(url)
	b.ReportAllocs()
	for b.Loop() {
		if res := benchProber(k, acme).Run(context.Background(), spec); res.State != StateUp {
			b.Fatalf("got %s %v", res.State, res.Problems)
		}
	}
}

// BenchmarkHandshakeLimit is the floor a probe cannot beat: tls.Dial, a
// full handshake and x509 verification of the presented chain, nothing else.
func BenchmarkHandshakeLimit(b *testing.B) {
	benchLimit(b, func(addr string, roots *x509.CertPool) error {
		return probetest.BareHandshake(addr, testHost, roots)
	})
}

// BenchmarkRequestLimit is BenchmarkHandshakeLimit with one HTTP exchange
// written and read by hand on the connection: what a probe's request costs
// both ends before any of Pharos's own work.
func BenchmarkRequestLimit(b *testing.B) {
	benchLimit(b, func(addr string, roots *x509.CertPool) error {
		return probetest.BareRequest(addr, testHost, "/health", roots)
	})
}

// benchLimit times op against the benchmark server's node, with the
// process's CPU per operation.
func benchLimit(b *testing.B, op func(addr string, roots *x509.CertPool) error) {
	k, url, _ := benchServer(b)
	addr := nodeAddr("127.0.0.2", url)
	roots := probetest.Pool(k.root)
	b.ReportAllocs()
	cpu := probetest.ProcessCPU()
	for b.Loop() {
		if err := op(addr, roots); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkProbeVsLimit alternates one probe and one bare handshake
// against the same server, so that both meet the same machine: on a shared
// machine, two benchmarks run one after the other see different loads, and
// their ratio swung from 0.71 to 0.94 between runs. It reports both times
// per operation and limit/probe, the figure issue 10 asks to keep ≥ 0.8.
func BenchmarkProbeVsLimit(b *testing.B) {
	k, url, acme := benchServer(b)
	pr, spec := benchProber(k, acme), benchSpec(url)
	pr.Run(context.Background(), spec) // fills the CRL and ARI caches, outside the timed loop
	addr := nodeAddr("127.0.0.2", url)
	roots := probetest.Pool(k.root)
	var probe, limit time.Duration
	for b.Loop() {
		start := time.Now()
		if res := pr.Run(context.Background(), spec); res.State != StateUp {
			b.Fatalf("got %s %v", res.State, res.Problems)
		}
		mid := time.Now()
		if err := probetest.BareHandshake(addr, testHost, roots); err != nil {
			b.Fatal(err)
		}
		probe, limit = probe+mid.Sub(start), limit+time.Since(mid)
	}
	b.ReportMetric(float64(probe.Nanoseconds())/float64(b.N)/1e6, "probe-ms/op")
	b.ReportMetric(float64(limit.Nanoseconds())/float64(b.N)/1e6, "limit-ms/op")
	b.ReportMetric(float64(limit)/float64(probe), "limit/probe")
}

// BenchmarkHandshakeLimitParallel is the limit with about 64 handshakes in flight.
func BenchmarkHandshakeLimitParallel(b *testing.B) {
	k, url, _ := benchServer(b)
	addr := nodeAddr("127.0.0.2", url)
	roots := probetest.Pool(k.root)
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtimeProcs()))
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := probetest.BareHandshake(addr, testHost, roots); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
