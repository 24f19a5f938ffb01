// Command handshakefloor measures the client-side cost floor of a probe:
// a loop of TCP dial, TLS handshake and x509 verification of the presented
// chain against one target, nothing else (no request). It prints the
// process's CPU time (user + system) and the wall time per handshake, so
// deploy/bench/soak.sh can set Pharos's CPU per check beside the least a
// check could cost on the same machine and target.
//
//	handshakefloor -ca ca.pem -addr 127.0.0.2:PORT [-n 2000]
//
// Output, one line: "handshakes N cpu_ms_per_handshake X wall_ms_per_handshake Y".
package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"pharos/probes/probetest"
)

func main() {
	caFile := flag.String("ca", "", "PEM file of the root CA that issued the target's certificate")
	addr := flag.String("addr", "", "the target, IP:port")
	n := flag.Int("n", 2000, "handshakes to time")
	flag.Parse()
	if err := run(*caFile, *addr, *n); err != nil {
		log.Fatalf("handshakefloor: %v", err)
	}
}

func run(caFile, addr string, n int) error {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return errors.New("no certificate in " + caFile)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	for range 50 { // warm up: connection setup, key schedules, the GC's pace
		if err := probetest.BareHandshake(addr, host, roots); err != nil {
			return err
		}
	}
	cpu0, wall0 := probetest.ProcessCPU(), time.Now()
	for range n {
		if err := probetest.BareHandshake(addr, host, roots); err != nil {
			return err
		}
	}
	cpu, wall := probetest.ProcessCPU()-cpu0, time.Since(wall0)
	fmt.Printf("handshakes %d cpu_ms_per_handshake %.3f wall_ms_per_handshake %.3f\n",
		n, float64(cpu)/float64(n)/1e6, float64(wall)/float64(n)/1e6)
	return nil
}
