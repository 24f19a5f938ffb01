package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// BenchmarkStatuspageWrite: one incident created through the management
// API with two components, then one update posted to it: the cost of a
// write path (HTTP, auth, one transaction with history, audit and outbox,
// the read-back).
func BenchmarkStatuspageWrite(b *testing.B) {
	storetest.BenchBackends(b, func(b *testing.B, st *store.Store) {
		a := webtest.SeedTenant(b, st, "a")
		br := webtest.NewBrowser(b, webtest.NewServer(b, st, nil).Handler())
		auth := oauth(a.EditTok)
		comp := webtest.ID(a.CompID)
		create, _ := json.Marshal(map[string]any{"incident": map[string]any{"name": "Bench", "body": "b",
			"components": map[string]string{comp: "major_outage"}}})
		update, _ := json.Marshal(map[string]any{"incident": map[string]any{"status": "resolved", "body": "ok",
			"components": map[string]string{comp: "operational"}}})
		b.ResetTimer()
		for b.Loop() {
			res := br.Do(http.MethodPost, "/api/v1/pages/a-status/incidents", string(create), auth)
			var in struct {
				ID string `json:"id"`
			}
			if res.Code != http.StatusCreated || json.Unmarshal([]byte(res.Body), &in) != nil {
				b.Fatalf("create: %d %s", res.Code, res.Body)
			}
			if res := br.Do(http.MethodPatch, "/api/v1/pages/a-status/incidents/"+in.ID, string(update), auth); res.Code != http.StatusOK {
				b.Fatalf("update: %d %s", res.Code, res.Body)
			}
		}
	})
}
