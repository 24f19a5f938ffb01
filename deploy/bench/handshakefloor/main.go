// Command handshakefloor measures the client-side cost floor of a probe:
// a loop of TCP dial, TLS handshake and x509 verification of the presented
// chain against one target, nothing else (no request). It prints the
// process's CPU time (user + system) and the wall time per handshake, so
// deploy/bench/soak.sh can set Pharos's CPU per check beside the least a
// check could cost on the same machine and target.
//
//	handshakefloor -ca ca.pem -addr 127.0.0.2:PORT [-n 2000] [-rate 1000/30s [-tick 1s]]
//
// By default the handshakes run back to back, the CPU never idle between
// them. With -rate they arrive as a scheduler sends checks: every tick,
// the handshakes that fell due since the last (rate × tick of them) start
// together, and the process idles until the next tick. The tick is the
// one Pharos's scheduler takes for that rate and interval
// (schedule.TickFor) unless -tick sets it. On a virtual
// machine that costs far more CPU per handshake than the back-to-back loop
// (on one machine 0.83 ms back to back; 2.2 ms at 33 a second one at a
// time, 1.3 ms with those due starting together every 100 ms), as every
// wake-up from idle pays for cold caches, the kernel's wake-up path and
// the Go scheduler's spinning: it is the floor of a check at the rate and
// in the rhythm it actually runs.
//
// Output, one line: "handshakes N cpu_ms_per_handshake X wall_ms_per_handshake Y",
// paced ones followed by "tick_ms T".
package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"pharos/app/schedule"
	"pharos/probes/probetest"
)

func main() {
	caFile := flag.String("ca", "", "PEM file of the root CA that issued the target's certificate")
	addr := flag.String("addr", "", "the target, IP:port")
	n := flag.Int("n", 2000, "handshakes to time")
	rate := flag.String("rate", "", "COUNT/DURATION, e.g. 1000/30s: pace the handshakes at that rate instead of back to back")
	tick := flag.Duration("tick", 0, "with -rate, how often the due handshakes start (default: the scheduler's tick for that rate and interval)")
	flag.Parse()
	perSecond, interval, err := parseRate(*rate)
	switch {
	case err != nil:
	case *tick < 0:
		err = errors.New("-tick must not be negative (0: the scheduler's tick)")
	case *tick == 0:
		*tick = schedule.TickFor(perSecond, interval)
	}
	if err != nil {
		log.Fatalf("handshakefloor: %v", err)
	}
	if err := run(*caFile, *addr, *n, perSecond, *tick); err != nil {
		log.Fatalf("handshakefloor: %v", err)
	}
}

// parseRate reads COUNT/DURATION as handshakes per second and the
// duration (the checks' interval); "" is 0, back to back.
func parseRate(s string) (float64, time.Duration, error) {
	if s == "" {
		return 0, 0, nil
	}
	count, per, ok := strings.Cut(s, "/")
	c, err := strconv.Atoi(count)
	if err != nil || c <= 0 || !ok {
		return 0, 0, fmt.Errorf("-rate %q: want COUNT/DURATION, e.g. 1000/30s", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("-rate %q: want COUNT/DURATION, e.g. 1000/30s", s)
	}
	return float64(c) / d.Seconds(), d, nil
}

func run(caFile, addr string, n int, perSecond float64, tick time.Duration) error {
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
	one := func() error { return probetest.BareHandshake(addr, host, roots) }
	for range 50 { // warm up: connection setup, key schedules, the GC's pace
		if err := one(); err != nil {
			return err
		}
	}
	cpu0, wall0 := probetest.ProcessCPU(), time.Now()
	if perSecond > 0 {
		err = paced(one, n, perSecond, tick)
	} else {
		for range n {
			if err = one(); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	cpu, wall := probetest.ProcessCPU()-cpu0, time.Since(wall0)
	fmt.Printf("handshakes %d cpu_ms_per_handshake %.3f wall_ms_per_handshake %.3f",
		n, float64(cpu)/float64(n)/1e6, float64(wall)/float64(n)/1e6)
	if perSecond > 0 {
		fmt.Printf(" tick_ms %d", tick.Milliseconds())
	}
	fmt.Println()
	return nil
}

// paced runs n handshakes at perSecond: at every tick those due by then
// start together, and it waits for them before the next tick.
func paced(one func() error, n int, perSecond float64, tick time.Duration) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	for done := 0; done < n; {
		now := <-t.C
		// done is the last tick's total, and totals only grow: due >= 0.
		due := min(n, int(math.Floor(perSecond*now.Sub(start).Seconds()))) - done
		var wg sync.WaitGroup
		errs := make([]error, due)
		for i := range due {
			wg.Go(func() { errs[i] = one() })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		done += due
	}
	return nil
}
