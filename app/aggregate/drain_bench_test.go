package aggregate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// drainChecks is the drain benchmark's number of checks, each probed from
// the three regions of regions3 every round.
const drainChecks = 10000

// BenchmarkAggregateDrain measures how fast Run empties a backlog: the
// pipeline.Shards result streams are filled with PHAROS_BENCH_ROUNDS rounds
// (default 7) of 10,000 checks × 3 regions (210,000 messages) before the
// aggregator starts, so no producer competes for the CPU; the clock runs
// from Run's start until every result is committed and every entry
// acknowledged. The results are realistic probes.Result JSON (drainResult):
// one node with timings and TLS leaf and chain, most without problems, some
// degraded, a few down in one region, a few down everywhere (incidents).
// A warm round, stored beforehand, makes it the steady state: every check
// has latest rows and a known certificate.
//
//	PHAROS_BENCH_ROUNDS=7 go test -run '^$' -bench AggregateDrain -benchtime 1x ./app/aggregate/
//
// PHAROS_BENCH_BATCH sets Options.BatchSize (default DefaultBatchSize).
// With -benchtime Nx the figures are over all N drains, each also logged.
// PHAROS_BENCH_CPUPROFILE=file writes a CPU profile of the drain alone (the
// fixture and the pre-fill excluded). It reports results/s and, when the
// drain did not finish within PHAROS_BENCH_LIMIT seconds (default 180),
// the backlog left. cpu_µs/result is the process's CPU per result (the
// aggregator's, plus the in-process bus's in memory mode), the figure to
// compare when the box is shared; box_idle_% is how idle the machine's CPUs
// were meanwhile (Linux); alloc_B/result is the heap the process allocated
// per result, which the garbage collector's share follows;
// pg_cpu_µs/result is the CPU of the PostgreSQL backends serving the test
// database per result, where the server runs on this machine (read from
// /proc), the database's own share of the ingest. Redis keys are deleted
// afterwards.
func BenchmarkAggregateDrain(b *testing.B) {
	rounds := envInt(b, "PHAROS_BENCH_ROUNDS", 7)
	limit := time.Duration(envInt(b, "PHAROS_BENCH_LIMIT", 180)) * time.Second
	for _, backend := range benchBackends {
		for _, mode := range []string{"memory", "redis"} {
			b.Run(backend.name+"/"+mode, func(b *testing.B) {
				var sum drainSum
				for range b.N {
					benchDrain(b, backend.open(b), mode, rounds, limit, &sum)
				}
				sum.report(b)
			})
		}
	}
}

// drainSum adds up the drains of one sub-benchmark's iterations.
type drainSum struct {
	stored, total, bytes, backlog int64
	elapsed, cpu                  time.Duration
	boxTicks, boxIdle             int64
	allocated                     uint64        // heap bytes allocated during the drains
	server                        time.Duration // PostgreSQL's backends' CPU, where readable
}

// report reports the figures over all iterations.
func (d *drainSum) report(b *testing.B) {
	b.ReportMetric(float64(d.stored)/d.elapsed.Seconds(), "results/s")
	b.ReportMetric(float64(d.bytes)/float64(max(1, d.total)), "B/msg")
	b.ReportMetric(float64(d.cpu.Microseconds())/float64(max(1, d.stored)), "cpu_µs/result")
	b.ReportMetric(float64(d.allocated)/float64(max(1, d.stored)), "alloc_B/result")
	if d.boxTicks > 0 {
		b.ReportMetric(100*float64(d.boxIdle)/float64(d.boxTicks), "box_idle_%")
	}
	if d.server > 0 {
		b.ReportMetric(float64(d.server.Microseconds())/float64(max(1, d.stored)), "pg_cpu_µs/result")
	}
	if d.backlog > 0 {
		b.ReportMetric(float64(d.backlog), "backlog")
	}
}

func benchDrain(b *testing.B, s *store.Store, mode string, rounds int, limit time.Duration, sum *drainSum) {
	b.StopTimer()
	ctx := context.Background()
	f := newFixture(b, s, drainChecks)
	total := rounds * drainChecks * len(regions3)

	// Warm round, stored directly.
	warm := f.aggregator(Options{RefreshEvery: DefaultRefreshEvery})
	var round0 []pipeline.Result
	for i := range drainChecks {
		for _, region := range regions3 {
			round0 = append(round0, drainResult(f, i, region, 0))
		}
	}
	for start := 0; start < len(round0); start += DefaultBatchSize {
		process(b, warm, round0[start:min(len(round0), start+DefaultBatchSize)])
	}

	opts := Options{Consumer: "bench", RefreshEvery: DefaultRefreshEvery,
		BatchSize:  envInt(b, "PHAROS_BENCH_BATCH", DefaultBatchSize),
		Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	bb := benchBus(b, mode, bus.Options{MaxLen: int64(2 * total)})
	defer bb.Close()
	bytes := prefill(b, f, bb, rounds)

	a, err := New(f.s, bb, opts)
	if err != nil {
		b.Fatal(err)
	}
	var stored atomic.Int64
	a.afterCommit = func(_ context.Context, rs []storedResult) { stored.Add(int64(len(rs))) }
	runtime.GC()
	if path := os.Getenv("PHAROS_BENCH_CPUPROFILE"); path != "" {
		stop := cpuProfile(b, path)
		defer stop()
	}

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	alloc0 := mem.TotalAlloc
	b.StartTimer()
	server0 := backendCPU(s)
	start, cpu0, box0 := time.Now(), processCPU(b), boxCPU()
	go func() { done <- a.Run(rctx) }()
	drained := waitStored(&stored, int64(total), limit) &&
		waitAcked(b, bb, time.Until(start.Add(limit)))
	elapsed, cpu, box1 := time.Since(start), processCPU(b)-cpu0, boxCPU()
	sum.server += serverCPU(server0, backendCPU(s))
	b.StopTimer()
	runtime.ReadMemStats(&mem)
	sum.allocated += mem.TotalAlloc - alloc0
	cancel()
	if err := <-done; err != nil {
		b.Errorf("Run: %v", err)
	}
	n := stored.Load()
	b.Logf("%d results in %v: %.0f/s, %.1f µs CPU each", n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), float64(cpu.Microseconds())/float64(max(1, n)))
	sum.stored, sum.total, sum.bytes = sum.stored+n, sum.total+int64(total), sum.bytes+bytes
	sum.elapsed, sum.cpu = sum.elapsed+elapsed, sum.cpu+cpu
	if box0 != nil && box1 != nil {
		sum.boxTicks, sum.boxIdle = sum.boxTicks+box1[0]-box0[0], sum.boxIdle+box1[1]-box0[1]
	}
	if !drained {
		sum.backlog += int64(total) - n
	}
}

// prefill publishes rounds 1..rounds of every check from every region, in
// round order, one publisher per shard, and returns the payload bytes.
func prefill(b *testing.B, f *fixture, bb bus.Bus, rounds int) int64 {
	byShard := make([][]int, pipeline.Shards)
	for i, c := range f.checks {
		s := pipeline.Shard(c.ID)
		byShard[s] = append(byShard[s], i)
	}
	var bytes atomic.Int64
	var wg sync.WaitGroup
	for shard, mine := range byShard {
		wg.Go(func() {
			stream := pipeline.ResultsStream(shard)
			for round := 1; round <= rounds; round++ {
				for _, i := range mine {
					for _, region := range regions3 {
						payload, err := pipeline.Marshal(drainResult(f, i, region, round))
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := bb.Publish(context.Background(), stream, payload); err != nil {
							b.Error(err)
							return
						}
						bytes.Add(int64(len(payload)))
					}
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return bytes.Load()
}

// waitAcked waits until no result entry is pending, or for at most limit,
// and reports whether none is.
func waitAcked(b *testing.B, bb bus.Bus, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		var pending int64
		for shard := range pipeline.Shards {
			_, p, err := bb.Stats(context.Background(), pipeline.ResultsStream(shard), pipeline.AggregatorsGroup)
			if err != nil {
				b.Fatal(err)
			}
			pending += p
		}
		if pending == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// processCPU is the CPU time (user and system) this process used so far:
// the aggregator's own cost, whatever else the box runs.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// boxCPU returns the machine's total and idle CPU ticks from /proc/stat,
// or nil where there is none.
func boxCPU() []int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return nil
	}
	var total, idle int64
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return []int64{total, idle}
}

// backendCPU returns the CPU time so far of each PostgreSQL backend
// serving s's database, by process id, read from /proc: nil where s is not
// on PostgreSQL or its server is not on this machine.
func backendCPU(s *store.Store) map[int]time.Duration {
	if s.Dialect() != store.Postgres {
		return nil
	}
	rows, err := s.DB().Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return nil
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// utime and stime, in clock ticks (100 a second on Linux), are
		// the 14th and 15th fields; the 2nd, the command, is the only one
		// in parentheses and may hold spaces.
		_, after, _ := strings.Cut(string(stat), ") ")
		fields := strings.Fields(after)
		if len(fields) < 13 {
			return nil
		}
		utime, err1 := strconv.ParseInt(fields[11], 10, 64)
		stime, err2 := strconv.ParseInt(fields[12], 10, 64)
		if err1 != nil || err2 != nil {
			return nil
		}
		out[pid] = time.Duration(utime+stime) * 10 * time.Millisecond
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}

// serverCPU is the CPU the backends used between two backendCPU readings:
// a backend started between them counts whole, one that ended is lost (the
// store's pool keeps its connections open through a drain).
func serverCPU(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

// cpuProfile starts a CPU profile into path and returns its stop.
func cpuProfile(b *testing.B, path string) func() {
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		b.Fatalf("%v (PHAROS_BENCH_CPUPROFILE and -cpuprofile exclude each other)", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := out.Close(); err != nil {
			b.Error(err)
		}
	}
}

// drainResult is check i's result from region in round, as a worker sends
// it: UUIDv7 ids, one node with DNS/connect/TLS/TTFB timings and a Let's
// Encrypt leaf and chain. Most are up without problems; 3% of checks are
// slow in one region (degraded, latency_high), 1% carry an expiring
// certificate (degraded everywhere), 0.5% are down in one region
// (connection refused) and 0.2% are down everywhere from round 2 on, which
// opens incidents.
func drainResult(f *fixture, i int, region string, round int) pipeline.Result {
	c := f.checks[i]
	at := f.base.Add(time.Duration(round)*time.Minute + time.Duration(i%60000)*time.Millisecond)
	host := fmt.Sprintf("t%d.example", i)
	addr := fmt.Sprintf("203.0.%d.%d:443", i/250%256, 1+i%250)
	jitter := int64((i*7 + round*13 + len(region)) % 40)
	t := probes.Timings{DNS: 8 + jitter/4, Connect: 21 + jitter/2, TLS: 38 + jitter, TTFB: 85 + jitter, Total: 97 + jitter}
	node := probes.NodeResult{Address: addr, State: probes.StateUp, StatusCode: 200, Timings: t,
		TLS: drainTLS(f, i, host), Problems: []probes.Problem{}}
	var problems []probes.Problem
	switch {
	case i%500 == 1 && round >= 2, i%200 == 3 && region == "sin":
		p := probes.Problem{Code: probes.CodeConnectionFailed, Severity: probes.SeverityCritical, Node: addr,
			Message: "dial tcp " + addr + ": connect: connection refused"}
		node = probes.NodeResult{Address: addr, State: probes.StateDown, Timings: probes.Timings{DNS: t.DNS, Total: t.DNS + 3},
			Problems: []probes.Problem{p}}
		problems = append(problems, p)
	case i%100 == 5:
		problems = append(problems, probes.Problem{Code: probes.CodeCertExpiring, Severity: probes.SeverityWarning, Node: addr,
			Message: "certificate for " + host + " expires in 12 days"})
	case i%33 == 7 && region == "iad":
		node.Timings.TTFB, node.Timings.Total = 2400+jitter, 2412+jitter
		problems = append(problems, probes.Problem{Code: probes.CodeLatencyHigh, Severity: probes.SeverityWarning, Node: addr,
			Message: "total time 2412ms above 2000ms"})
	}
	if len(problems) == 0 {
		problems = []probes.Problem{}
	} else if node.State == probes.StateUp {
		node.State, node.Problems = probes.StateDegraded, problems
	}
	state := probes.Worst(problems)
	return pipeline.Result{
		ID: uuid.Must(uuid.NewV7()).String(), JobID: uuid.Must(uuid.NewV7()).String(),
		OrgID: f.org, CheckID: c.ID, Region: region, Round: int64(round), Worker: "worker-" + region + "-7f9c",
		Produced: at.Add(time.Duration(t.Total) * time.Millisecond),
		Result: probes.Result{URL: c.URL, State: state, CheckedAt: at, DurationMS: node.Timings.Total,
			Problems: problems, Nodes: []probes.NodeResult{node}},
	}
}

// drainTLS is check i's TLS session: a leaf valid for 90 days, its
// intermediate and root.
func drainTLS(f *fixture, i int, host string) *probes.TLSInfo {
	notBefore := f.base.AddDate(0, 0, -30-i%40)
	notAfter := notBefore.AddDate(0, 0, 90)
	if i%100 == 5 {
		notAfter = f.base.AddDate(0, 0, 12)
	}
	return &probes.TLSInfo{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ChainTrusted: true,
		Leaf: probes.CertInfo{Subject: "CN=" + host, Issuer: "CN=R11,O=Let's Encrypt,C=US",
			Serial: fmt.Sprintf("04%034x", i), SHA256: fmt.Sprintf("%064x", 0x5eed0000+i),
			DNSNames: []string{host, "www." + host}, NotBefore: notBefore, NotAfter: notAfter,
			DaysLeft: int(notAfter.Sub(f.base).Hours() / 24), Source: "presented"},
		Chain: []probes.CertInfo{
			{Subject: "CN=R11,O=Let's Encrypt,C=US", Issuer: "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
				Serial: "8a7d3e13d62f30ef2386bd29076b34f8", SHA256: "591e9ce6c863d3a079e9fabe1478c7339a26b21269dde795211361024ae31a44",
				NotBefore: time.Date(2024, 3, 13, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 3, 12, 23, 59, 59, 0, time.UTC),
				DaysLeft: 700, Source: "presented"},
			{Subject: "CN=ISRG Root X1,O=Internet Security Research Group,C=US", Issuer: "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
				Serial: "8210cfb0d240e3594463e0bb63828b00", SHA256: "96bcec06264976f37460779acf28c5a7cfe8a3c0aae11a8ffcee05c0bddf08c6",
				NotBefore: time.Date(2015, 6, 4, 11, 4, 38, 0, time.UTC), NotAfter: time.Date(2035, 6, 4, 11, 4, 38, 0, time.UTC),
				DaysLeft: 3300, Source: "root"},
		},
	}
}
