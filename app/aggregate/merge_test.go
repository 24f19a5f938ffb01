package aggregate

import (
	"testing"
	"testing/synctest"
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

// TestShardBatchesEndTogether: two shards whose first results arrive 300
// ms apart still hand their batches in together, because every shard's
// batch ends when the clock reaches a multiple of BatchWait; they are
// stored as one. In a synctest bubble, whose clock starts on a whole
// second.
func TestShardBatchesEndTogether(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := storetest.SQLite(t)
		b := bus.NewMemory(bus.Options{})
		defer b.Close()
		f := newFixture(t, s, 16)
		var first, second []pipeline.Result
		for i := range 16 {
			rs := f.round(1, all(probes.StateUp), i)
			switch shard := pipeline.Shard(rs[0].CheckID); {
			case first == nil || pipeline.Shard(first[0].CheckID) == shard:
				first = append(first, rs...)
			case second == nil || pipeline.Shard(second[0].CheckID) == shard:
				second = append(second, rs...)
			}
		}
		if second == nil {
			t.Fatal("fixture: all checks on one shard")
		}
		opts := runOpts("agg-1")
		opts.BatchWait = time.Second
		a, err := New(s, b, opts)
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, a)
		defer stop()
		if now := time.Now(); !now.Equal(now.Truncate(time.Second)) {
			t.Fatalf("the bubble's clock starts at %v, not on a whole second", now)
		}
		publish(t, b, first)
		time.Sleep(300 * time.Millisecond)
		publish(t, b, second)
		want := len(first) + len(second)
		waitFor(t, "both shards' results stored", func() bool {
			return f.count(`SELECT COUNT(*) FROM check_results`) == want && pendingTotal(t, b) == 0
		})
		if got := batches(t, a.metrics.batchSize); got != 1 {
			t.Errorf("results of two shards arriving 300 ms apart stored in %d batches, want 1", got)
		}
	})
}
