package worker_test

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
	"pharos/probes/probetest"
)

// peakRSS is the process's high-water resident set (VmHWM), in bytes.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkWorker10kJobsRedis runs 10,000 jobs (10,000 checks' worth of one
// round) through one worker on Redis against a fast loopback target and
// reports throughput, Go heap and the process's peak RSS (which also holds
// the test's own target server).
//
//	go test ./app/worker -run '^$' -bench 10k -benchtime 1x
func BenchmarkWorker10kJobsRedis(b *testing.B) {
	const jobs = 10_000
	ln := probetest.Listeners(b, "127.0.0.1")[0]
	probetest.ServeHTTP(b, ln, probetest.Text(200, "application/json", `{"status":"ok"}`))
	url := "http://127.0.0.1:" + probetest.Port(ln) + "/health"
	bs := bustest.Redis(b, bus.Options{})
	ctx := context.Background()
	for b.Loop() {
		for i := range jobs {
			p, err := pipeline.Marshal(pipeline.Job{ID: strconv.Itoa(i), OrgID: 1, CheckID: int64(i + 1), Region: "fra",
				Due: time.Now(), Deadline: time.Now().Add(time.Hour),
				Spec: probes.Spec{URL: url, Expect: probes.Expect{JSON: map[string]any{"$.status": "ok"}}}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := bs.Publish(ctx, pipeline.JobsStream("fra"), p); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		w, err := worker.New(bs, worker.Options{Region: "fra", Prober: loopbackProber()})
		if err != nil {
			b.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- w.Run(wctx) }()
		var heapPeak uint64
		for {
			var n int64
			for shard := range pipeline.Shards {
				l, _, err := bs.Stats(ctx, pipeline.ResultsStream(shard), "none")
				if err != nil {
					b.Fatal(err)
				}
				n += l
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heapPeak = max(heapPeak, ms.HeapInuse)
			if n >= jobs {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		took := time.Since(start)
		cancel()
		<-done
		b.ReportMetric(jobs/took.Seconds(), "jobs/s")
		b.ReportMetric(float64(heapPeak)/(1<<20), "heap-peak-MiB")
		b.ReportMetric(peakRSS()/(1<<20), "rss-peak-MiB")
	}
}
