package public_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBenchSSEHold is the client of deploy/bench/sse-streams.sh: against
// a running `pharos serve` (PHAROS_BENCH_BASE, its pid PHAROS_BENCH_PID)
// it opens PHAROS_BENCH_HOLD event streams on the bench page, then
// PHAROS_BENCH_EXTRA more, and reports how many were held and refused,
// the server's resident memory and Go heap before and while holding them,
// and whether the page and /login still answer. Skipped when unset.
func TestBenchSSEHold(t *testing.T) {
	base := os.Getenv("PHAROS_BENCH_BASE")
	n, _ := strconv.Atoi(os.Getenv("PHAROS_BENCH_HOLD"))
	extra, _ := strconv.Atoi(os.Getenv("PHAROS_BENCH_EXTRA"))
	pid := os.Getenv("PHAROS_BENCH_PID")
	if base == "" || n <= 0 || pid == "" {
		t.Skip("PHAROS_BENCH_BASE, _HOLD and _PID are not set: only deploy/bench/sse-streams.sh runs this")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	rssBefore, heapBefore, goBefore := rss(t, pid), metric(t, client, base, "go_memstats_heap_inuse_bytes"), metric(t, client, base, "go_goroutines")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var held, refused, failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256) // connections being opened at once (the listen backlog is finite)
	start := time.Now()
	open := func() {
		defer wg.Done()
		sem <- struct{}{}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/p/bench/events", nil)
		res, err := client.Do(req)
		if err != nil {
			<-sem
			failed.Add(1)
			return
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "" {
			<-sem
			refused.Add(1)
			return
		}
		line, err := bufio.NewReader(res.Body).ReadString('\n')
		<-sem
		if res.StatusCode != http.StatusOK || err != nil || !strings.HasPrefix(line, ": connected") {
			failed.Add(1)
			return
		}
		held.Add(1)
		_, _ = io.Copy(io.Discard, res.Body) // hold until the test cancels
	}
	wg.Add(n)
	for range n {
		go open()
	}
	waitOpened := func(want int64) {
		deadline := time.Now().Add(2 * time.Minute)
		for held.Load()+refused.Load()+failed.Load() < want && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitOpened(int64(n))
	opened := time.Since(start)
	time.Sleep(2 * time.Second) // let the server's memory settle
	rssHeld, heapHeld, goHeld := rss(t, pid), metric(t, client, base, "go_memstats_heap_inuse_bytes"), metric(t, client, base, "go_goroutines")
	h := held.Load()
	t.Logf("RESULT streams_held=%d refused=%d failed=%d opened_in=%s", h, refused.Load(), failed.Load(), opened.Round(time.Millisecond))
	if h > 0 {
		t.Logf("RESULT rss_before=%.1fMiB rss_held=%.1fMiB rss_per_stream=%.1fKiB", rssBefore/(1<<20), rssHeld/(1<<20), (rssHeld-rssBefore)/float64(h)/1024)
		t.Logf("RESULT heap_before=%.1fMiB heap_held=%.1fMiB heap_per_stream=%.1fKiB goroutines_per_stream=%.2f",
			heapBefore/(1<<20), heapHeld/(1<<20), (heapHeld-heapBefore)/float64(h)/1024, (goHeld-goBefore)/float64(h))
	}

	if extra > 0 {
		before := refused.Load()
		wg.Add(extra)
		for range extra {
			go open()
		}
		waitOpened(int64(n + extra))
		t.Logf("RESULT extra=%d refused_503=%d (held now %d)", extra, refused.Load()-before, held.Load())
	}
	for _, path := range []string{"/p/bench/", "/p/bench/api/v2/summary.json", "/login"} {
		began := time.Now()
		res, err := client.Get(base + path)
		if err != nil {
			t.Errorf("%s while holding the streams: %v", path, err)
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		t.Logf("RESULT %s status=%d in %s while holding the streams", path, res.StatusCode, time.Since(began).Round(time.Microsecond))
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s while holding the streams: got %d", path, res.StatusCode)
		}
	}
	cancel()
	wg.Wait()
}

// rss is a process's resident memory in bytes (Linux).
func rss(t *testing.T, pid string) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	t.Fatal("no VmRSS in /proc/" + pid + "/status")
	return 0
}

// metric reads one unlabelled series from the server's /metrics.
func metric(t *testing.T, client *http.Client, base, name string) float64 {
	t.Helper()
	res, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
