package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// BenchmarkRollupDay rolls up one day of an organisation with 50 checks
// probed every minute from three regions (216,000 results), as the
// housekeeper does every hour for today and yesterday:
//
//	go test ./app/store -run '^$' -bench RollupDay -benchtime 5x
func BenchmarkRollupDay(b *testing.B) {
	storetest.BenchBackends(b, func(b *testing.B, s *store.Store) {
		ctx := context.Background()
		day := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
		regions := []string{"fra", "iad", "sin"}
		const checks = 50
		var org int64
		var ids []int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			o, err := tx.CreateOrg(ctx, "Bench", "bench")
			if err != nil {
				return err
			}
			p, err := tx.CreatePage(ctx, store.Page{OrgID: o.ID, Slug: "bench", Title: "Bench", TimeZone: "UTC"})
			if err != nil {
				return err
			}
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: o.ID, PageID: p.ID, Name: "API"})
			if err != nil {
				return err
			}
			org = o.ID
			for i := range checks {
				ch, err := tx.CreateCheck(ctx, store.Check{OrgID: o.ID, PageID: p.ID, ComponentID: c.ID, Name: fmt.Sprint("c", i),
					URL: "https://api.example/", Spec: []byte(`{}`), Regions: regions, Interval: time.Minute})
				if err != nil {
					return err
				}
				ids = append(ids, ch.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		rows := make([]store.ResultRow, 0, 10_000)
		flush := func() {
			if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.InsertResults(ctx, rows); return err }); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
		for _, id := range ids {
			for m := range 24 * 60 {
				at := day.Add(time.Duration(m) * time.Minute)
				for _, r := range regions {
					state := "up"
					if m%97 < 3 {
						state = "down"
					}
					rows = append(rows, store.ResultRow{ID: fmt.Sprintf("%d-%d-%s", id, m, r), OrgID: org, CheckID: id,
						Region: r, State: state, CheckedAt: at, ReceivedAt: at, DurationMS: int64(m % 300)})
				}
			}
			if len(rows) > 8_000 {
				flush()
			}
		}
		flush()
		b.ResetTimer()
		for b.Loop() {
			if n, err := s.RollupDay(ctx, org, day); err != nil || n != checks {
				b.Fatalf("RollupDay: got %d, %v; want %d checks", n, err, checks)
			}
		}
		b.ReportMetric(float64(checks*len(regions)*24*60), "results/op")
	})
}
