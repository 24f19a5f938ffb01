package public_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/store/storetest"
)

// TestBenchSSEFanout measures how long a page event takes to reach every one
// of many open event streams (PHAROS_BENCH_SSE clients; skipped when unset).
// deploy/bench/statuspage.sh runs it; the figures are in the log.
func TestBenchSSEFanout(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PHAROS_BENCH_SSE"))
	if n <= 0 {
		t.Skip("PHAROS_BENCH_SSE is not set: only deploy/bench/statuspage.sh runs this")
	}
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{slug: "bench", components: 20, incidents: 5, days: 90})
	base, b := liveServer(t, st)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var connected, wg sync.WaitGroup
	connected.Add(n)
	wg.Add(n)
	received := make([]time.Time, n)
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/p/bench/events", nil)
			res, err := client.Do(req)
			if err != nil {
				connected.Done()
				errs <- err
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			once := false
			for sc.Scan() {
				line := sc.Text()
				if !once && strings.HasPrefix(line, ": connected") {
					once = true
					connected.Done()
				}
				if strings.HasPrefix(line, "data: ") {
					received[i] = time.Now()
					return
				}
			}
			if !once {
				connected.Done()
			}
		}()
	}
	connected.Wait()
	t.Logf("%d streams open in %s", n, time.Since(start).Round(time.Millisecond))
	close(errs)
	for err := range errs {
		t.Fatalf("open stream: %v", err)
	}
	sent := time.Now()
	publish(t, b, "bench", f.components[0].ID, incident.MajorOutage)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every stream got the event within 10s")
	}
	lat := make([]time.Duration, n)
	for i, at := range received {
		lat[i] = at.Sub(sent)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("RESULT sse clients=%d all_received=%s p50=%s p99=%s", n, lat[n-1].Round(time.Microsecond),
		lat[n/2].Round(time.Microsecond), lat[n*99/100].Round(time.Microsecond))
}
