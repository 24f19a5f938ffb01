package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestStatuspageShortlinkIgnoresHost sends the management API a Host
// header of the client's choosing: the shortlinks of incidents and
// maintenances must come from PHAROS_BASE_URL (a path alone without one),
// as every absolute URL Pharos hands out does, never from that header.
func TestStatuspageShortlinkIgnoresHost(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		for i, base := range []string{"https://status.example.net/", ""} {
			h := webtest.NewServer(t, st, func(o *web.Options) { o.BaseURL = base }).Handler()
			post := func(incident map[string]any) spIncident {
				t.Helper()
				body, err := json.Marshal(map[string]any{"incident": incident})
				if err != nil {
					t.Fatal(err)
				}
				req := httptest.NewRequest(http.MethodPost, "/api/v1/pages/a-status/incidents", strings.NewReader(string(body)))
				req.Host = "evil.example"
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+a.EditTok)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				var out spIncident
				if rec.Code != http.StatusCreated {
					t.Fatalf("POST incident: %d %s", rec.Code, rec.Body)
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			root := strings.TrimSuffix(base, "/") + "/p/a-status"
			in := post(map[string]any{"name": "Images fail", "status": "investigating", "body": "Looking into it."})
			if want := root + "/incidents/" + in.ID; in.Shortlink != want {
				t.Errorf("base %q: incident shortlink %q, want %q", base, in.Shortlink, want)
			}
			from := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
			m := post(map[string]any{"name": fmt.Sprintf("Upgrade %d", i), "status": "scheduled", "body": "Brief pause.",
				"scheduled_for": from.Format(time.RFC3339), "scheduled_until": from.Add(time.Hour).Format(time.RFC3339)})
			if want := root + "/"; m.Shortlink != want {
				t.Errorf("base %q: maintenance shortlink %q, want %q", base, m.Shortlink, want)
			}
		}
	})
}
