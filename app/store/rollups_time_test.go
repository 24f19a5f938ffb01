package store_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// run is one region's results every interval over [from, until), all in
// one state.
type run struct {
	region      string
	from, until time.Time
	state       string
}

// uptimeCheck creates an organisation with one page, component and check
// probing from regions every interval, and returns the ids of the
// organisation, page, component and check.
func uptimeCheck(t *testing.T, s *store.Store, slug string, regions []string, interval time.Duration) (org, page, comp, check int64) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.CreateOrg(ctx, slug, slug)
		if err != nil {
			return err
		}
		p, err := tx.CreatePage(ctx, store.Page{OrgID: o.ID, Slug: slug, Title: slug, TimeZone: "UTC"})
		if err != nil {
			return err
		}
		c, err := tx.CreateComponent(ctx, store.Component{OrgID: o.ID, PageID: p.ID, Name: "API"})
		if err != nil {
			return err
		}
		ch, err := tx.CreateCheck(ctx, store.Check{OrgID: o.ID, PageID: p.ID, ComponentID: c.ID, Name: "api",
			URL: "https://api.example/", Spec: []byte(`{}`), Regions: regions, Interval: interval, ConfirmRounds: 2})
		org, page, comp, check = o.ID, p.ID, c.ID, ch.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return org, page, comp, check
}

// TestUptimeFromResults feeds known sequences of results through the
// housekeeper's rollup and checks the daily and 90-day uptime the public
// page shows: monitored time only, matching the outage minutes.
func TestUptimeFromResults(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	at := func(d, h, m int) time.Time {
		return day.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	tests := []struct {
		name     string
		regions  []string
		interval time.Duration
		runs     []run
		// days are the expected daily uptimes from day on (NaN: no data);
		// overall is the 90-day figure up to the last of them.
		days    []float64
		overall float64
	}{
		{
			// 10 monitored hours; down 12:00–12:30 (31 rounds), of which the
			// first round is unconfirmed: 30 minutes down of 600 → 95%.
			name: "ten monitored hours, thirty minutes down", regions: []string{"local"}, interval: time.Minute,
			runs: []run{
				{"local", at(0, 8, 0), at(0, 12, 0), "up"},
				{"local", at(0, 12, 0), at(0, 12, 31), "down"},
				{"local", at(0, 12, 31), at(0, 18, 0), "up"},
			},
			days: []float64{95}, overall: 95,
		},
		{
			// Only the last two of the 90 days were monitored: the 90-day
			// figure is over those two days (72 of 2880 minutes down).
			name: "only the last two days monitored", regions: []string{"local"}, interval: time.Minute,
			runs: []run{
				{"local", at(0, 0, 0), at(0, 6, 0), "up"},
				{"local", at(0, 6, 0), at(0, 7, 13), "down"}, // 73 rounds, 72 minutes down
				{"local", at(0, 7, 13), at(2, 0, 0), "up"},
			},
			days: []float64{95, 100}, overall: 97.5,
		},
		{
			// Right after a short outage the page must not say 0%.
			name: "a short outage just after monitoring began", regions: []string{"local"}, interval: time.Minute,
			runs: []run{
				{"local", at(0, 9, 0), at(0, 9, 4), "down"}, // down 09:01–09:04
				{"local", at(0, 9, 4), at(0, 10, 0), "up"},
			},
			days: []float64{95}, overall: 95,
		},
		{
			// Down 23:50–00:10: 23:51–24:00 on the first day (9 of 60
			// minutes), 00:00–00:11 on the second (11 of 60).
			name: "an outage across midnight", regions: []string{"local"}, interval: time.Minute,
			runs: []run{
				{"local", at(0, 23, 0), at(0, 23, 50), "up"},
				{"local", at(0, 23, 50), at(1, 0, 11), "down"},
				{"local", at(1, 0, 11), at(1, 1, 0), "up"},
			},
			days: []float64{85, 100 * 49.0 / 60}, overall: 100 * 100.0 / 120,
		},
		{
			// A gap in the data is neither up nor down.
			name: "a day with a gap and a silent day between", regions: []string{"local"}, interval: 5 * time.Minute,
			runs: []run{
				{"local", at(0, 0, 0), at(0, 2, 0), "up"},
				{"local", at(0, 2, 0), at(0, 2, 30), "down"}, // 6 rounds: down 02:05–02:30
				{"local", at(2, 20, 0), at(2, 22, 0), "up"},
			},
			days: []float64{100 * 125.0 / 150, math.NaN(), 100}, overall: 100 * 245.0 / 270,
		},
		{
			// One region of three failing is degraded, which is not down.
			name: "one region of three down", regions: []string{"fra", "iad", "sin"}, interval: time.Minute,
			runs: []run{
				{"fra", at(0, 10, 0), at(0, 11, 0), "down"},
				{"iad", at(0, 10, 0), at(0, 11, 0), "up"},
				{"sin", at(0, 10, 0), at(0, 11, 0), "up"},
			},
			days: []float64{100}, overall: 100,
		},
		{
			// Two of three are a quorum: down once confirmed (59 of 60).
			name: "two regions of three down", regions: []string{"fra", "iad", "sin"}, interval: time.Minute,
			runs: []run{
				{"fra", at(0, 10, 0), at(0, 11, 0), "down"},
				{"iad", at(0, 10, 0), at(0, 11, 0), "down"},
				{"sin", at(0, 10, 0), at(0, 11, 0), "up"},
			},
			days: []float64{100 / 60.0}, overall: 100 / 60.0,
		},
	}
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				org, page, comp, check := uptimeCheck(t, s, fmt.Sprint("u", i), tt.regions, tt.interval)
				var rows []store.ResultRow
				for _, r := range tt.runs {
					for ts := r.from; ts.Before(r.until); ts = ts.Add(tt.interval) {
						rows = append(rows, store.ResultRow{ID: fmt.Sprintf("u%d-%s-%d", i, r.region, ts.Unix()), OrgID: org, CheckID: check,
							Region: r.region, State: r.state, CheckedAt: ts, ReceivedAt: ts})
					}
				}
				insert(t, s, rows)
				last := day.AddDate(0, 0, len(tt.days)-1)
				for d := day; !d.After(last); d = d.AddDate(0, 0, 1) {
					for range 2 { // the housekeeper re-runs today's rollup every hour
						if _, err := s.RollupDay(ctx, org, d); err != nil {
							t.Fatalf("RollupDay %s: %v", d.Format(time.DateOnly), err)
						}
					}
				}
				all, err := s.ComponentDays(ctx, org, page, last.AddDate(0, 0, -89), last)
				if err != nil {
					t.Fatal(err)
				}
				byDay := map[time.Time]store.ComponentDay{}
				for _, d := range all[comp] {
					byDay[d.Day] = d
				}
				for n, want := range tt.days {
					d := byDay[day.AddDate(0, 0, n)]
					if math.IsNaN(want) {
						if d.HasData() {
							t.Errorf("day %d: got %+v, want no data", n, d)
						}
						continue
					}
					if !d.HasData() || math.Abs(d.Uptime()-want) > 1e-9 {
						t.Errorf("day %d uptime: got %v (%+v), want %v", n, d.Uptime(), d.Time, want)
					}
				}
				got, ok := store.UptimeOver(all[comp])
				if !ok || math.Abs(got-tt.overall) > 1e-9 {
					t.Errorf("90-day uptime: got %v, %v; want %v", got, ok, tt.overall)
				}
			})
		}
	})
}

// TestUptimeOfOldRollups: days rolled up before rollups kept time count
// as monitored all day, down for the share of their results that were
// down, and mix with days that kept time.
func TestUptimeOfOldRollups(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, page, comp, check := uptimeCheck(t, s, "old", []string{"local"}, time.Minute)
		day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		if err := s.PutRollups(ctx, []store.Rollup{
			{OrgID: org, CheckID: check, Day: day, Total: 100, Up: 90, Down: 10},
		}); err != nil {
			t.Fatal(err)
		}
		rows := []store.ResultRow{}
		for ts := day.AddDate(0, 0, 1).Add(12 * time.Hour); ts.Before(day.AddDate(0, 0, 1).Add(18 * time.Hour)); ts = ts.Add(time.Minute) {
			rows = append(rows, store.ResultRow{ID: fmt.Sprint("old-", ts.Unix()), OrgID: org, CheckID: check, Region: "local",
				State: "up", CheckedAt: ts, ReceivedAt: ts})
		}
		insert(t, s, rows)
		if _, err := s.RollupDay(ctx, org, day.AddDate(0, 0, 1)); err != nil {
			t.Fatal(err)
		}
		days, err := s.ComponentDays(ctx, org, page, day, day.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		got := days[comp]
		if len(got) != 2 || got[0].Uptime() != 90 || got[1].Uptime() != 100 {
			t.Fatalf("days: got %+v; want 90%% (old counts) then 100%%", got)
		}
		// 24 h at 90% and 6 monitored hours at 100%: 27 of 30 hours up.
		if u, ok := store.UptimeOver(got); !ok || math.Abs(u-90*24/30.0-100*6/30.0) > 1e-9 {
			t.Errorf("over both days: got %v, %v; want 92%%", u, ok)
		}
	})
}

// TestUnjudgedComponents: a component whose checks were never judged is
// listed until one of them is; a component without checks never is.
func TestUnjudgedComponents(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, page, comp, check := uptimeCheck(t, s, "unjudged", []string{"local"}, time.Minute)
		var manual int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: org, PageID: page, Name: "Manual"})
			manual = c.ID
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.UnjudgedComponents(ctx, org, page)
		if err != nil || !got[comp] || got[manual] || len(got) != 1 {
			t.Fatalf("before any verdict: got %v, %v; want only %d", got, err, comp)
		}
		if got, err := s.UnjudgedComponents(ctx, org+1000, page); err != nil || len(got) != 0 {
			t.Errorf("another organisation: got %v, %v; want none", got, err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: org, ID: check, State: "up", At: time.Now()}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.UnjudgedComponents(ctx, org, page); err != nil || len(got) != 0 {
			t.Errorf("after a verdict: got %v, %v; want none", got, err)
		}
	})
}
