package aggregate

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// BenchmarkAggregateLag drives the whole path: producers publish
// pipeline.Result messages into the pipeline.Shards result shards at a steady
// rate, as workers do, through the in-process bus or Redis; an aggregator
// consumes them with Run (shard leases, batching, ack after commit, latest
// states cached); the lag of each result is from its production to the
// commit of its batch. 10,000 checks × 3 regions, every check up, one node
// with a certificate. Each iteration is one whole run:
//
//	PHAROS_BENCH_RATE=20000 PHAROS_BENCH_SECONDS=10 go test -run '^$' -bench AggregateLag -benchtime 1x ./app/aggregate/
//
// It reports the rate offered and achieved (results committed per second
// of the run, the drain after the producers stopped included), lag
// percentiles, and the backlog left if the run did not drain within a
// minute. Redis keys are deleted afterwards.
func BenchmarkAggregateLag(b *testing.B) {
	rate := envInt(b, "PHAROS_BENCH_RATE", 20000)
	seconds := envInt(b, "PHAROS_BENCH_SECONDS", 10)
	for _, backend := range benchBackends {
		for _, mode := range []string{"memory", "redis"} {
			b.Run(backend.name+"/"+mode, func(b *testing.B) {
				for range b.N {
					benchLag(b, backend.open(b), mode, rate, time.Duration(seconds)*time.Second)
				}
			})
		}
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// benchBus opens the bus a benchmark runs on, Redis or in-process by mode.
func benchBus(b *testing.B, mode string, busOpts bus.Options) bus.Bus {
	if mode != "redis" {
		return bus.NewMemory(busOpts)
	}
	busOpts.Prefix = bustest.Prefix(b)
	rb, err := bus.NewRedis(context.Background(), bustest.RedisURL(b), busOpts)
	if err != nil {
		b.Fatal(err)
	}
	return rb
}

func benchLag(b *testing.B, s *store.Store, mode string, rate int, duration time.Duration) {
	const checks = 10000
	b.StopTimer()
	f := newFixture(b, s, checks)
	opts := Options{Consumer: "bench", RefreshEvery: DefaultRefreshEvery,
		Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b0 := benchBus(b, mode, bus.Options{MaxLen: 1_000_000})
	defer b0.Close()
	a, err := New(f.s, b0, opts)
	if err != nil {
		b.Fatal(err)
	}
	perShard := 1
	if mode == "redis" {
		perShard = 4 // a publish is a round trip: several workers publish at once
	}
	producers, ids := plan(b, f, rate, perShard, duration)
	published := make([]atomic.Int64, len(ids))
	var stored atomic.Int64
	var mu sync.Mutex
	var lags []time.Duration
	measuring := false
	a.afterCommit = func(_ context.Context, rs []storedResult) {
		now := time.Now().UnixNano()
		mu.Lock()
		for _, r := range rs {
			if i, ok := ids[r.ID]; ok && measuring {
				lags = append(lags, time.Duration(now-published[i].Load()))
			}
		}
		mu.Unlock()
		stored.Add(int64(len(rs)))
	}
	// Warm round: every check known, latest rows and certificates exist.
	publishAll(b, b0, f.round(0, all(probes.StateUp), seq(checks)...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
	}()
	if !waitStored(&stored, checks*3, time.Minute) {
		b.Fatal("warm round not stored within a minute")
	}
	mu.Lock()
	measuring = true
	mu.Unlock()
	warm := stored.Load()

	b.StartTimer()
	start := time.Now()
	produced := produce(b, b0, producers, published, duration)
	publishing := time.Since(start)
	drained := waitStored(&stored, warm+produced, time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(float64(produced)/publishing.Seconds(), "published/s")
	b.ReportMetric(float64(stored.Load()-warm)/elapsed.Seconds(), "results/s")
	if !drained {
		b.ReportMetric(float64(warm+produced-stored.Load()), "backlog")
	}
	reportLags(b, lags)
}

// producer is one publishing goroutine's share of the load, encoded
// beforehand so that producing costs the box no more than publishing.
type producer struct {
	stream   string
	payloads [][]byte
	index    []int // into the run's publish times
}

// plan encodes rate × duration results, rounds of every check from each
// region, split among perShard producers per shard. It returns the
// producers and, by result id, the index of its publish time.
func plan(b *testing.B, f *fixture, rate, perShard int, duration time.Duration) ([]*producer, map[string]int) {
	total := int(float64(rate) * duration.Seconds())
	ids := make(map[string]int, total)
	var out []*producer
	for shard := range pipeline.Shards {
		var mine []int
		for i, c := range f.checks {
			if pipeline.Shard(c.ID) == shard {
				mine = append(mine, i)
			}
		}
		ps := make([]*producer, perShard)
		for i := range ps {
			ps[i] = &producer{stream: pipeline.ResultsStream(shard)}
		}
		for k := range total / pipeline.Shards {
			round, j := 1+k/(3*len(mine)), k%(3*len(mine))
			r := f.result(mine[j/3], regions3[j%3], round, probes.StateUp)
			r.Produced = time.Now()
			payload, err := pipeline.Marshal(r)
			if err != nil {
				b.Fatal(err)
			}
			p := ps[k%perShard]
			p.payloads = append(p.payloads, payload)
			p.index = append(p.index, len(ids))
			ids[r.ID] = len(ids)
		}
		out = append(out, ps...)
	}
	return out, ids
}

// produce publishes every producer's payloads at an even pace over
// duration, recording each publish time, and returns how many it published.
func produce(b *testing.B, bb bus.Bus, producers []*producer, published []atomic.Int64, duration time.Duration) int64 {
	const tick = 5 * time.Millisecond
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, p := range producers {
		perTick := float64(len(p.payloads)) / duration.Seconds() * tick.Seconds()
		wg.Go(func() {
			t := time.NewTicker(tick)
			defer t.Stop()
			due, sent := 0.0, 0
			for range t.C {
				for due += perTick; float64(sent) < due && sent < len(p.payloads); sent++ {
					published[p.index[sent]].Store(time.Now().UnixNano())
					if _, err := bb.Publish(context.Background(), p.stream, p.payloads[sent]); err != nil {
						b.Error(err)
						return
					}
					total.Add(1)
				}
				if sent == len(p.payloads) {
					return
				}
			}
		})
	}
	wg.Wait()
	return total.Load()
}

func publishAll(b *testing.B, bb bus.Bus, results []pipeline.Result) {
	for _, r := range results {
		r.Produced = time.Now()
		payload, err := pipeline.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bb.Publish(context.Background(), pipeline.ResultsStream(pipeline.Shard(r.CheckID)), payload); err != nil {
			b.Fatal(err)
		}
	}
}

// waitStored waits until n results are stored, or for at most limit, and
// reports whether they were.
func waitStored(stored *atomic.Int64, n int64, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for stored.Load() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
