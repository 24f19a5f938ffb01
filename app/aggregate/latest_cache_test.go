package aggregate

import (
	"context"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/app/bus/bustest"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// latestReader is what the status page reads from either cache.
type latestReader interface {
	LatestCache
	Latest(ctx context.Context, checkID int64) ([]store.Latest, error)
}

// TestLatestCache runs batches through an aggregator with each cache, on
// each backend, and compares what the cache holds with the database's
// latest rows.
func TestLatestCache(t *testing.T) {
	caches := []struct {
		name string
		open func(t *testing.T) latestReader
	}{
		{"memory", func(*testing.T) latestReader { return NewMemoryLatest() }},
		{"redis", func(t *testing.T) latestReader {
			client, prefix := bustest.Client(t), bustest.Prefix(t)
			return NewRedisLatest(client, prefix)
		}},
	}
	for _, c := range caches {
		t.Run(c.name, func(t *testing.T) {
			storetest.Backends(t, func(t *testing.T, s *store.Store) { testLatestCache(t, s, c.open(t)) })
		})
	}
}

func testLatestCache(t *testing.T, s *store.Store, cache latestReader) {
	f := newFixture(t, s, 2)
	a := f.aggregator(Options{LatestCache: cache})
	process(t, a, f.round(1, all(probes.StateUp), 0, 1))
	process(t, a, f.round(2, func(i int, region string) probes.State {
		if i == 1 && region == "iad" {
			return probes.StateDown
		}
		return probes.StateUp
	}, 0, 1))
	process(t, a, f.round(3, all(probes.StateUp), 0))
	for i := range 2 {
		var want []store.Latest
		err := s.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			want, err = tx.LatestForChecks(context.Background(), map[int64][]int64{f.org: {f.checks[i].ID}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := cache.Latest(context.Background(), f.checks[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		sortLatest(want)
		sortLatest(got)
		if len(want) != 6 {
			t.Fatalf("check %d: %d latest rows in the database, want 6", i, len(want))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("check %d: cache differs from the database (-db +cache):\n%s", i, diff)
		}
	}
}

func sortLatest(ls []store.Latest) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].Region != ls[j].Region {
			return ls[i].Region < ls[j].Region
		}
		return ls[i].Node < ls[j].Node
	})
}
