package public

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestTTLReloadReadsRecentDays: a reload on the TTL alone re-reads today
// and yesterday (what the daily rollup rewrites) and keeps the older days
// it had; a reload after an event, or once daysReread has passed, reads
// every day again.
func TestTTLReloadReadsRecentDays(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := seedDays(t, st, 3, 6)
		s := &Site{st: st, cache: newPublicCache()}
		first, err := s.loadSnapshot(ctx, fx.slug, nil)
		if err != nil {
			t.Fatal(err)
		}
		today, yesterday, old := first.today, first.today.AddDate(0, 0, -1), first.today.AddDate(0, 0, -3)
		err = st.PutRollups(ctx, []store.Rollup{
			{OrgID: fx.org, CheckID: fx.checks[0], Day: today, Total: 1440, Up: 1000, Down: 440},
			{OrgID: fx.org, CheckID: fx.checks[0], Day: old, Total: 1440, Down: 1440},
		})
		if err != nil {
			t.Fatal(err)
		}
		full, err := s.loadSnapshot(ctx, fx.slug, nil) // after an event
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := s.loadSnapshot(ctx, fx.slug, first)
		if err != nil {
			t.Fatal(err)
		}
		changed := 0
		for id, days := range full.days {
			if len(ttl.days[id]) != len(days) {
				t.Fatalf("component %d: %d days after the TTL reload, %d read whole", id, len(ttl.days[id]), len(days))
			}
			for i, d := range days {
				want := d // today and yesterday: read again
				if d.Day.Before(yesterday) {
					want = first.days[id][i] // older: kept
				}
				if diff := cmp.Diff(want, ttl.days[id][i]); diff != "" {
					t.Errorf("component %d, %s (-want +got):\n%s", id, d.Day.Format("2006-01-02"), diff)
				}
				if !cmp.Equal(first.days[id][i], d) {
					changed++
				}
			}
		}
		if changed != 2 {
			t.Errorf("%d days differ between the first read and the whole re-read, want 2 (today and the old day)", changed)
		}
		if !ttl.daysReadAt.Equal(first.daysReadAt) {
			t.Errorf("the TTL reload moved daysReadAt to %v; only a whole read does", ttl.daysReadAt)
		}

		aged := *first
		aged.daysReadAt = first.daysReadAt.Add(-daysReread)
		again, err := s.loadSnapshot(ctx, fx.slug, &aged)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(full.days, again.days); diff != "" {
			t.Errorf("after daysReread, days differ from a whole read (-want +got):\n%s", diff)
		}
	})
}

type daysFixture struct {
	org    int64
	slug   string
	checks []int64
}

// seedDays makes a page of n components, one check each, with days of
// all-up rollups up to today.
func seedDays(t *testing.T, st *store.Store, n, days int) daysFixture {
	t.Helper()
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Org days", "org-days")
	if err != nil {
		t.Fatal(err)
	}
	f := daysFixture{org: org.ID, slug: "days"}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: f.slug, Title: "Days", TimeZone: "UTC"})
		if err != nil {
			return err
		}
		for i := range n {
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: page.ID, Name: fmt.Sprintf("C%d", i), Position: i})
			if err != nil {
				return err
			}
			chk, err := tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: page.ID, ComponentID: c.ID, Name: c.Name,
				URL: "https://example.invalid/" + fmt.Sprint(i), Spec: []byte(`{}`), Regions: []string{"local"}, Interval: time.Minute, ConfirmRounds: 2})
			if err != nil {
				return err
			}
			f.checks = append(f.checks, chk.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var rollups []store.Rollup
	for _, id := range f.checks {
		for d := range days {
			rollups = append(rollups, store.Rollup{OrgID: org.ID, CheckID: id, Day: today.AddDate(0, 0, -d), Total: 1440, Up: 1440})
		}
	}
	if err := st.PutRollups(ctx, rollups); err != nil {
		t.Fatal(err)
	}
	return f
}
