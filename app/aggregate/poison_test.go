package aggregate

import (
	"context"
	"testing"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestPoisonResultIsSetAsideAlone: one result of a batch can never be
// stored (a broken worker's duration beyond PostgreSQL's integer); the
// other results of its batch are stored and
// acknowledged, and that one alone goes to the shard's dead-letter stream,
// counted, instead of holding up the shard until the whole batch is
// dead-lettered.
func TestPoisonResultIsSetAsideAlone(t *testing.T) {
	t.Parallel()
	s := storetest.Postgres(t)
	b := bustest.Redis(t, bus.Options{})
	f := newFixture(t, s, 4)
	var results []pipeline.Result
	for round := 1; round <= 3; round++ {
		results = append(results, f.round(round, all(probes.StateDown), 0, 1, 2, 3)...)
	}
	poison := &results[7]
	poison.Result.DurationMS = 1 << 40
	publish(t, b, results)

	a, err := New(s, b, runOpts("agg-1"))
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, a)
	waitFor(t, "every other result stored and nothing pending", func() bool {
		return f.count(`SELECT COUNT(*) FROM check_results`) == len(results)-1 && pendingTotal(t, b) == 0
	})
	stop()
	if n := f.count(`SELECT COUNT(*) FROM check_results WHERE id = ?`, poison.ID); n != 0 {
		t.Errorf("the poisoned result was stored")
	}
	if got := value(t, a.metrics.results.WithLabelValues("set_aside")); got != 1 {
		t.Errorf("results set aside: %v, want 1", got)
	}
	dead := bus.DeadLetterStream(pipeline.ResultsStream(pipeline.Shard(poison.CheckID)))
	msgs, err := b.Consume(context.Background(), dead, "inspect", "me", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("dead-letter entries: %d, want 1", len(msgs))
	}
	if r, err := pipeline.DecodeResult(msgs[0].Payload); err != nil || r.ID != poison.ID {
		t.Errorf("dead letter: %+v (%v), want result %s", r, err, poison.ID)
	}
}

// TestDatabaseOutageSetsNothingAside: when the database does not answer,
// a failing batch is a database outage, not a poisoned result: nothing is
// set aside and everything stays pending for redelivery.
func TestDatabaseOutageSetsNothingAside(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	f := newFixture(t, s, 2)
	results := f.round(1, all(probes.StateUp), 0, 1)
	a, err := New(s, b, runOpts("agg-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries := make([]entry, len(results))
	for i, r := range results {
		entries[i] = entry{stream: pipeline.ResultsStream(0), id: r.ID, result: r}
	}
	done, err := a.storeEntries(context.Background(), entries)
	if err == nil || len(done) != 0 {
		t.Errorf("with the database gone: done %v, err %v; want nothing done and an error", done, err)
	}
	if got := value(t, a.metrics.results.WithLabelValues("set_aside")); got != 0 {
		t.Errorf("results set aside during an outage: %v, want 0", got)
	}
}
