package aggregate

import (
	"context"
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestLatestCacheKeepsOwnedShards: rows are kept only for owned shards,
// handed out as copies and only to their organisation, dropped with the
// shard and past latestCacheTTL.
func TestLatestCacheKeepsOwnedShards(t *testing.T) {
	t.Parallel()
	var owned, other int64 = 1, 2
	for pipeline.Shard(other) == pipeline.Shard(owned) {
		other++
	}
	c := newLatestCache()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	rows := func(id int64) []store.Latest {
		return []store.Latest{{OrgID: 7, CheckID: id, Region: "fra", State: "up", Streak: 3}}
	}
	ids := map[int64][]int64{7: {owned, other}}
	c.put(map[int64][]store.Latest{owned: rows(owned)}, now)
	if got := c.get(ids, now); len(got) != 0 {
		t.Fatalf("kept rows before any shard was owned: %v", got)
	}
	c.own(pipeline.Shard(owned))
	c.put(map[int64][]store.Latest{owned: rows(owned), other: rows(other)}, now)
	got := c.get(ids, now.Add(time.Minute))
	if len(got) != 1 || len(got[owned]) != 1 || got[owned][0].Streak != 3 {
		t.Fatalf("get = %v, want the owned shard's check alone", got)
	}
	got[owned][0].Streak = 99
	if again := c.get(ids, now); again[owned][0].Streak != 3 {
		t.Error("a change to the rows handed out reached the cache")
	}
	if got := c.get(map[int64][]int64{8: {owned}}, now); len(got) != 0 {
		t.Errorf("rows handed to another organisation: %v", got)
	}
	if got := c.get(ids, now.Add(latestCacheTTL)); len(got) != 0 {
		t.Errorf("rows handed out %s after their batch: %v", latestCacheTTL, got)
	}
	c.disown(pipeline.Shard(owned))
	c.own(pipeline.Shard(owned))
	if got := c.get(ids, now); len(got) != 0 {
		t.Errorf("rows kept across the shard's loss: %v", got)
	}
}

// TestShardTakenBackIsReadAfresh: an aggregator judges a check from its
// shard's kept rows; the shard moves to another aggregator, which stores
// a down round; taken back, the first must judge the next down round on
// what the other left (the second down round in a row confirms the
// outage), not on the up round it kept.
func TestShardTakenBackIsReadAfresh(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		a, b := f.aggregator(Options{}), f.aggregator(Options{})
		shard := pipeline.Shard(f.checks[0].ID)
		a.latest.own(shard)
		process(t, a, f.round(1, all(probes.StateUp), 0))
		process(t, a, f.round(2, all(probes.StateUp), 0))
		a.latest.disown(shard) // lost: b takes it
		process(t, b, f.round(3, all(probes.StateDown), 0))
		if got := f.checkState(0); got != string(incident.Up) {
			t.Fatalf("after one down round the check is %s, want up (confirm_rounds 2)", got)
		}
		a.latest.own(shard) // taken back
		process(t, a, f.round(4, all(probes.StateDown), 0))
		if got := f.checkState(0); got != string(incident.Down) {
			t.Errorf("after two down rounds, the second judged by the aggregator that took the shard back: %s, want down", got)
		}
		err := s.InTx(context.Background(), func(tx *store.Tx) error {
			rows, err := tx.WholeLatestForChecks(context.Background(), map[int64][]int64{f.org: {f.checks[0].ID}})
			for _, l := range rows {
				if l.Streak != 2 || l.State != string(probes.StateDown) {
					t.Errorf("%s: %s streak %d, want down streak 2", l.Region, l.State, l.Streak)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
