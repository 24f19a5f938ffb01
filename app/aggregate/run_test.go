package aggregate

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// publish sends results to their shards, as workers do.
func publish(t testing.TB, b bus.Bus, results []pipeline.Result) {
	t.Helper()
	for _, r := range results {
		payload, err := pipeline.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Publish(context.Background(), pipeline.ResultsStream(pipeline.Shard(r.CheckID)), payload); err != nil {
			t.Fatal(err)
		}
	}
}

func pendingTotal(t testing.TB, b bus.Bus) int64 {
	t.Helper()
	var total int64
	for shard := range pipeline.Shards {
		_, pending, err := b.Stats(context.Background(), pipeline.ResultsStream(shard), pipeline.AggregatorsGroup)
		if err != nil {
			t.Fatal(err)
		}
		total += pending
	}
	return total
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runOpts(consumer string) Options {
	return Options{Consumer: consumer, BatchWait: 10 * time.Millisecond, LockTTL: time.Second,
		RefreshEvery: -1, Registerer: prometheus.NewRegistry(), Logger: testLogger()}
}

func start(t testing.TB, a *Aggregator) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}

// runPipeline drives results through b into the aggregator and checks that
// every result is stored once, everything is acknowledged, a malformed entry
// is dropped and counted, and the page gets a live event.
func runPipeline(t *testing.T, s *store.Store, b bus.Bus) {
	f := newFixture(t, s, 2)
	events, err := b.Subscribe(t.Context(), pipeline.EventsChannel(f.page.Slug))
	if err != nil {
		t.Fatal(err)
	}
	var results []pipeline.Result
	for round := 1; round <= 3; round++ {
		results = append(results, f.round(round, all(probes.StateDown), 0, 1)...)
	}
	publish(t, b, results)
	if _, err := b.Publish(t.Context(), pipeline.ResultsStream(0), []byte(`{"not":"a result"}`)); err != nil {
		t.Fatal(err)
	}
	a, err := New(s, b, runOpts("agg-1"))
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, a)
	waitFor(t, "all results stored and acknowledged", func() bool {
		return f.count(`SELECT COUNT(*) FROM check_results`) == len(results) && pendingTotal(t, b) == 0
	})
	stop()
	if got := value(t, a.metrics.results.WithLabelValues("malformed")); got != 1 {
		t.Errorf("malformed results counted: got %v, want 1", got)
	}
	if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 1 {
		t.Errorf("incidents: got %d, want 1 (both checks of the component join one)", n)
	}
	select {
	case raw := <-events:
		var e pageEvent
		if err := json.Unmarshal(raw, &e); err != nil || e.Page != f.page.Slug || e.Type != "status" {
			t.Errorf("page event: got %s (%v)", raw, err)
		}
	case <-time.After(5 * time.Second):
		t.Error("no page event published")
	}
}

func TestRunMemoryBus(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		b := bus.NewMemory(bus.Options{})
		defer b.Close()
		runPipeline(t, s, b)
	})
}

func TestRunRedisBus(t *testing.T) {
	t.Parallel()
	b := bustest.Redis(t, bus.Options{}) // skips without Redis; deletes its keys at the end
	runPipeline(t, storetest.SQLite(t), b)
}

// TestCrashBetweenCommitAndAck kills an aggregator after its batch
// committed and before it acknowledged: another aggregator gets the batch
// again, and nothing is stored or announced twice.
func TestCrashBetweenCommitAndAck(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 3)
		b := bus.NewMemory(bus.Options{ClaimIdle: 200 * time.Millisecond})
		defer b.Close()
		var results []pipeline.Result
		for round := 1; round <= 2; round++ {
			results = append(results, f.round(round, all(probes.StateDown), 0, 1, 2)...)
		}
		publish(t, b, results)

		first, err := New(s, b, runOpts("agg-1"))
		if err != nil {
			t.Fatal(err)
		}
		crashed := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		first.beforeAck = func() bool {
			cancel() // the process dies here
			select {
			case <-crashed:
			default:
				close(crashed)
			}
			return false
		}
		done := make(chan error, 1)
		go func() { done <- first.Run(ctx) }()
		<-crashed
		<-done
		stored := f.count(`SELECT COUNT(*) FROM check_results`)
		if stored == 0 || pendingTotal(t, b) == 0 {
			t.Fatalf("after the crash: %d stored, %d pending; want some of each", stored, pendingTotal(t, b))
		}

		second, err := New(s, b, runOpts("agg-2"))
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, second)
		waitFor(t, "redelivery acknowledged", func() bool {
			return f.count(`SELECT COUNT(*) FROM check_results`) == len(results) && pendingTotal(t, b) == 0
		})
		stop()
		if got := value(t, second.metrics.results.WithLabelValues("duplicate")); got == 0 {
			t.Errorf("duplicates seen by the second aggregator: got 0, want the redelivered batch")
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 1 {
			t.Errorf("incidents: got %d, want 1 (one for the component of the three checks)", n)
		}
		if n := f.outbox("incident.opened"); n != 1 {
			t.Errorf("incident.opened events: got %d, want 1", n)
		}
	})
}

func TestShardOwnershipMovesToSurvivor(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	opts := runOpts("agg-1")
	const half = pipeline.Shards / 2
	opts.MaxShards = half
	one, err := New(s, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	stopOne := start(t, one)
	waitFor(t, "first aggregator owns half the shards", func() bool { return value(t, one.metrics.shardsOwned) == half })
	two, err := New(s, b, runOpts("agg-2"))
	if err != nil {
		t.Fatal(err)
	}
	stopTwo := start(t, two)
	waitFor(t, "second aggregator owns the other half", func() bool { return value(t, two.metrics.shardsOwned) == pipeline.Shards-half })
	stopOne()
	waitFor(t, "second aggregator owns all", func() bool { return value(t, two.metrics.shardsOwned) == pipeline.Shards })
	stopTwo()
}

// value reads a counter's or gauge's current value.
func value(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// testLogger discards logs unless PHAROS_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("PHAROS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
