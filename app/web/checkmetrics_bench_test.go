package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// BenchmarkCheckMetrics measures, with 1,000 checks in 3 regions (21,000
// per-check series) on each database, one whole /metrics scrape with
// PHAROS_METRICS_CHECKS on ("scrape") and the store read it starts with
// ("read"):
//
//	go test -run '^$' -bench CheckMetrics -benchtime 20x ./app/web/
func BenchmarkCheckMetrics(b *testing.B) {
	storetest.BenchBackends(b, func(b *testing.B, st *store.Store) {
		seedChecks(b, st, "acme", "", 1000, []string{"fra", "iad", "sin"})
		h := newMetricsShell(b, st, true).Handler()
		b.Run("scrape", func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("/metrics: %d", rec.Code)
				}
			}
		})
		b.Run("read", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rows, err := st.CheckRegionStates(context.Background())
				if err != nil || len(rows) != 3000 {
					b.Fatalf("got %d rows, %v; want 3000", len(rows), err)
				}
			}
		})
	})
}
