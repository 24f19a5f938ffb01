package aggregate

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// benchBackends are the databases the benchmarks run on, one sub-benchmark
// each.
var benchBackends = []struct {
	name string
	open func(testing.TB) *store.Store
}{{"postgres", storetest.Postgres}, {"sqlite", storetest.SQLite}}

// BenchmarkAggregate measures results per second stored and judged through
// ProcessBatch in the steady state (every check up, one node with a
// certificate), one round of checks × 3 regions per iteration, the batches
// cut as the consumer sees them: results in arrival order (regions
// interleaved), split into pipeline.Shards shards by pipeline.Shard, at most
// DefaultBatchSize per batch. consumers=1 processes every batch in turn;
// consumers=8 runs one goroutine per shard, as Run does. It also reports
// the lag from a result's production (the start of its round) to its
// commit.
//
//	go test -run '^$' -bench 'Aggregate$' -benchmem ./app/aggregate/
func BenchmarkAggregate(b *testing.B) {
	for _, backend := range benchBackends {
		for _, checks := range []int{1000, 10000} {
			for _, consumers := range []int{1, pipeline.Shards} {
				name := backend.name + "/checks=" + strconv.Itoa(checks) + "/consumers=" + strconv.Itoa(consumers)
				b.Run(name, func(b *testing.B) {
					benchAggregate(b, backend.open(b), checks, consumers)
				})
			}
		}
	}
}

func benchAggregate(b *testing.B, s *store.Store, checks, consumers int) {
	f := newFixture(b, s, checks)
	a := f.aggregator(Options{RefreshEvery: DefaultRefreshEvery})
	ids := make([]int, checks)
	for i := range ids {
		ids[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// shardBatches returns a round's batches per shard, as consumed.
	shardBatches := func(round int) [][][]pipeline.Result {
		rs := f.round(round, all(probes.StateUp), ids...)
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		produced := time.Now()
		shards := make([][]pipeline.Result, pipeline.Shards)
		for _, r := range rs {
			r.Produced = produced
			i := pipeline.Shard(r.CheckID)
			shards[i] = append(shards[i], r)
		}
		out := make([][][]pipeline.Result, pipeline.Shards)
		for i, rs := range shards {
			out[i] = slices.Collect(slices.Chunk(rs, DefaultBatchSize))
		}
		return out
	}
	for _, batches := range shardBatches(0) { // warm: latest rows and certificates exist
		for _, batch := range batches {
			process(b, a, batch)
		}
	}
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
	total := 0
	b.ResetTimer()
	for round := 1; round <= b.N; round++ {
		b.StopTimer()
		shards := shardBatches(round)
		b.StartTimer()
		var wg sync.WaitGroup
		errs := make([]error, consumers)
		for c := range consumers {
			mine := shards
			if consumers > 1 {
				mine = shards[c*len(shards)/consumers : (c+1)*len(shards)/consumers]
			}
			wg.Go(func() {
				for _, batches := range mine {
					for _, batch := range batches {
						if err := a.ProcessBatch(context.Background(), batch); err != nil && errs[c] == nil {
							errs[c] = err
						}
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		total += checks * 3
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "results/s")
	reportLags(b, lags)
}

// reportLags reports the median and 99th percentile of lags.
func reportLags(b *testing.B, lags []time.Duration) {
	if len(lags) == 0 {
		return
	}
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Milliseconds()), "lag_p50_ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Milliseconds()), "lag_p99_ms")
}
