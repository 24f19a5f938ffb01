package aggregate

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestSmallBatchesOfShardsMerge: at a trickle, the few results each shard
// gathers are stored together in one transaction, not one per shard, and
// every one is stored once and acknowledged.
func TestSmallBatchesOfShardsMerge(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		b := bus.NewMemory(bus.Options{})
		defer b.Close()
		f := newFixture(t, s, 16)
		results := f.round(1, all(probes.StateUp), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
		shards := map[int]bool{}
		for _, r := range results {
			shards[pipeline.Shard(r.CheckID)] = true
		}
		if len(shards) < 4 {
			t.Fatalf("fixture: results on %d shards, want several", len(shards))
		}
		publish(t, b, results)
		opts := runOpts("agg-1")
		opts.BatchWait = time.Second // the linger is a tenth of it
		a, err := New(s, b, opts)
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, a)
		defer stop()
		waitFor(t, "all results stored and acknowledged", func() bool {
			return f.count(`SELECT COUNT(*) FROM check_results`) == len(results) && pendingTotal(t, b) == 0
		})
		if got := batches(t, a.metrics.batchSize); got >= len(shards) {
			t.Errorf("%d results of %d shards stored in %d batches, want fewer batches than shards", len(results), len(shards), got)
		}
	})
}

// batches is how many batches h observed.
func batches(t testing.TB, h prometheus.Histogram) int {
	t.Helper()
	var d dto.Metric
	if err := h.Write(&d); err != nil {
		t.Fatal(err)
	}
	return int(d.Histogram.GetSampleCount())
}
