package aggregate

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// BenchmarkAggregate measures results per second stored and judged through
// ProcessBatch (steady state: every check up, one node with a certificate),
// 3,000 results per round (1,000 checks × 3 regions), either as one batch or
// split into four shards' batches processed in parallel, as Run does. It
// also reports the lag from a result's production to its commit.
//
//	go test -run '^$' -bench Aggregate -benchmem ./app/aggregate/
func BenchmarkAggregate(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"postgres", storetest.Postgres}, {"sqlite", storetest.SQLite}} {
		for _, parallel := range []int{1, 4} {
			b.Run(backend.name+"/shards="+itoa(parallel), func(b *testing.B) {
				benchAggregate(b, backend.open(b), parallel)
			})
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func benchAggregate(b *testing.B, s *store.Store, parallel int) {
	const checks = 1000
	f := newFixture(b, s, checks)
	a := f.aggregator(Options{RefreshEvery: 10 * time.Second})
	ids := make([]int, checks)
	for i := range ids {
		ids[i] = i
	}
	// One batch per shard per iteration, results split as pipeline.Shard does.
	round := 0
	next := func() [][]pipeline.Result {
		round++
		rs := f.round(round, all(probes.StateUp), ids...)
		produced := time.Now()
		shards := make([][]pipeline.Result, parallel)
		for _, r := range rs {
			r.Produced = produced
			i := pipeline.Shard(r.CheckID, parallel)
			shards[i] = append(shards[i], r)
		}
		return shards
	}
	process(b, a, f.round(0, all(probes.StateUp), ids...)) // warm: checks known, latest rows exist
	var lags []time.Duration
	var mu sync.Mutex
	a.afterCommit = func(_ context.Context, stored []storedResult) {
		now := time.Now()
		mu.Lock()
		for _, r := range stored {
			lags = append(lags, now.Sub(r.Produced))
		}
		mu.Unlock()
	}
	b.ResetTimer()
	total := 0
	for range b.N {
		b.StopTimer()
		shards := next()
		b.StartTimer()
		var wg sync.WaitGroup
		errs := make([]error, len(shards))
		for i, batch := range shards {
			total += len(batch)
			wg.Go(func() { errs[i] = a.ProcessBatch(context.Background(), batch) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	elapsed := b.Elapsed()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "results/s")
	if len(lags) > 0 {
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		b.ReportMetric(float64(lags[len(lags)/2].Milliseconds()), "lag_p50_ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Milliseconds()), "lag_p99_ms")
	}
}
