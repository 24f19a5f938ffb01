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

// TestOwnedCacheKeepsOwnedShards: rows are kept only for owned shards,
// handed out only to their organisation, dropped with the shard and past
// ownedCacheTTL.
func TestOwnedCacheKeepsOwnedShards(t *testing.T) {
	t.Parallel()
	var owned, other int64 = 1, 2
	for pipeline.Shard(other) == pipeline.Shard(owned) {
		other++
	}
	c := newOwnedCache()
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
	if got := c.get(map[int64][]int64{8: {owned}}, now); len(got) != 0 {
		t.Errorf("rows handed to another organisation: %v", got)
	}
	if got := c.get(ids, now.Add(ownedCacheTTL)); len(got) != 0 {
		t.Errorf("rows handed out %s after their batch: %v", ownedCacheTTL, got)
	}
	c.disown(pipeline.Shard(owned))
	c.own(pipeline.Shard(owned))
	if got := c.get(ids, now); len(got) != 0 {
		t.Errorf("rows kept across the shard's loss: %v", got)
	}
}

// shardHandover is a fixture of one check and two aggregators, the first
// owning the check's shard, as Run makes it: the second takes the shard
// when the test disowns it in the first.
func shardHandover(t *testing.T, s *store.Store) (f *fixture, a, b *Aggregator, shard int) {
	f = newFixture(t, s, 1)
	a, b = f.aggregator(Options{}), f.aggregator(Options{})
	shard = pipeline.Shard(f.checks[0].ID)
	a.owned.own(shard)
	return f, a, b, shard
}

// TestShardTakenBackIsReadAfresh: an aggregator judges a check from its
// shard's kept rows; the shard moves to another aggregator, which stores
// a down round; taken back, the first must judge the next down round on
// what the other left (the second down round in a row confirms the
// outage), not on the up round it kept.
func TestShardTakenBackIsReadAfresh(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f, a, b, shard := shardHandover(t, s)
		process(t, a, f.round(1, all(probes.StateUp), 0))
		process(t, a, f.round(2, all(probes.StateUp), 0))
		a.owned.disown(shard) // lost: b takes it
		process(t, b, f.round(3, all(probes.StateDown), 0))
		if got := f.checkState(0); got != string(incident.Up) {
			t.Fatalf("after one down round the check is %s, want up (confirm_rounds 2)", got)
		}
		a.owned.own(shard) // taken back
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

// reissued is round of check i from every region, up, its node serving a
// certificate of issuer.
func (f *fixture) reissued(round, i int, issuer string) []pipeline.Result {
	rs := f.round(round, all(probes.StateUp), i)
	for j := range rs {
		leaf := &rs[j].Result.Nodes[0].TLS.Leaf
		leaf.Issuer, leaf.SHA256 = issuer, "sha-"+issuer
	}
	return rs
}

// TestOwnedCacheCertsFollowOwnership: with the shard's certificates
// kept, a new issuer on a node is reported once; after another aggregator
// held the shard and saw the next change, the first, taking it back,
// compares with what the other recorded, not with what it kept.
func TestOwnedCacheCertsFollowOwnership(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f, a, b, shard := shardHandover(t, s)
		process(t, a, f.reissued(1, 0, "CN=R11"))
		process(t, a, f.reissued(2, 0, "CN=R11"))
		process(t, a, f.reissued(3, 0, "CN=E5"))
		process(t, a, f.reissued(4, 0, "CN=E5"))
		if n := f.outbox("cert.issuer_changed"); n != len(regions3) {
			t.Fatalf("issuer change events after R11 → E5 on one node, seen from %d regions: %d", len(regions3), n)
		}
		a.owned.disown(shard) // lost: b takes it and sees the next change
		process(t, b, f.reissued(5, 0, "CN=Internal CA"))
		a.owned.own(shard) // taken back
		process(t, a, f.reissued(6, 0, "CN=Internal CA"))
		if n := f.outbox("cert.issuer_changed"); n != 2*len(regions3) {
			t.Errorf("issuer change events after E5 → Internal CA, seen by the other aggregator: %d, want %d", n, 2*len(regions3))
		}
	})
}

// TestOwnedCacheCertsPerPlace: certificates are kept per check × region
// for owned shards and their organisation, every node's last one, a newer
// sighting recorded taking over from what the batch read and an older one
// not.
func TestOwnedCacheCertsPerPlace(t *testing.T) {
	t.Parallel()
	c := newOwnedCache()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const check = 5
	c.own(pipeline.Shard(check))
	fra, sin := store.CheckRegion{CheckID: check, Region: "fra"}, store.CheckRegion{CheckID: check, Region: "sin"}
	places := map[int64][]store.CheckRegion{7: {fra, sin}}
	n1, n2 := store.CertKey{CheckID: check, Region: "fra", Node: "n1"}, store.CertKey{CheckID: check, Region: "fra", Node: "n2"}
	read := store.CertSeen{SHA256: "ab", Issuer: "CN=R11", LastSeen: now.Add(-time.Hour)}
	c.putCerts(places, map[store.CertKey]store.CertSeen{n1: read, n2: read}, []store.CertSighting{
		{OrgID: 7, CheckID: check, Region: "fra", Node: "n1", SHA256: "cd", Issuer: "CN=E5", Seen: now},
		{OrgID: 7, CheckID: check, Region: "fra", Node: "n2", SHA256: "ef", Issuer: "CN=E6", Seen: now.Add(-2 * time.Hour)},
	}, now)
	known, missing := c.getCerts(places, now.Add(time.Minute))
	want := map[store.CertKey]store.CertSeen{n1: {SHA256: "cd", Issuer: "CN=E5", LastSeen: now}, n2: read}
	if len(missing) != 0 || len(known) != 2 || known[n1] != want[n1] || known[n2] != want[n2] {
		t.Errorf("known %v, missing %v: want %v, sin known to have none", known, missing, want)
	}
	if _, missing := c.getCerts(map[int64][]store.CheckRegion{8: {fra}}, now); len(missing[8]) != 1 {
		t.Error("another organisation was handed the places' certificates")
	}
	if _, missing := c.getCerts(places, now.Add(ownedCacheTTL)); len(missing[7]) != 2 {
		t.Errorf("certificates handed out %s after their batch", ownedCacheTTL)
	}
	c.disown(pipeline.Shard(check))
	if known, missing := c.getCerts(places, now); len(known) != 0 || len(missing[7]) != 2 {
		t.Errorf("after the shard was lost: known %v, missing %v", known, missing)
	}
}
