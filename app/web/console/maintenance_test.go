package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestMaintenanceFromTheConsole: the next runs show before saving (a
// recurring Berlin window in the page's zone, its UTC time moving with
// daylight saving), a one-off window is saved and reaches the public JSON,
// a bad schedule is refused with its field, and the window can be deleted.
func TestMaintenanceFromTheConsole(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		ed := webtest.NewBrowser(t, composerServer(t, st))
		csrf := ed.Login(a.Editor, webtest.TestPassword)
		comp := "component_" + webtest.ID(a.CompID)

		if res := ed.Get("/admin/maintenance/new?page=" + webtest.ID(a.PageID)); res.Code != http.StatusOK {
			t.Fatalf("maintenance form: got %d", res.Code)
		}
		recurring := url.Values{"csrf_token": {csrf}, "page_id": {webtest.ID(a.PageID)}, "name": {"Weekly"},
			"kind": {"recurring"}, "schedule": {"0 8 * * THU"}, "duration": {"2h"}, "timezone": {"Europe/Berlin"},
			comp: {"1"}, "action": {"preview"}}
		res := ed.Post("/admin/maintenance", recurring)
		if res.Code != http.StatusOK || strings.Count(res.Body, "<li>Thu ") != 5 || !strings.Contains(res.Body, " 08:00 CE") {
			t.Fatalf("next runs: got %d, want five Thursday 08:00 runs in Berlin time:\n%s", res.Code, res.Body)
		}
		bad := url.Values{}
		for k, v := range recurring {
			bad[k] = v
		}
		bad.Set("schedule", "0 8 * * THURSDAYS")
		if res := ed.Post("/admin/maintenance", bad); res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "schedule") {
			t.Errorf("bad schedule: got %d, want 422 naming the schedule", res.Code)
		}

		start := time.Now().Add(24 * time.Hour).UTC()
		once := url.Values{"csrf_token": {csrf}, "page_id": {webtest.ID(a.PageID)}, "name": {"DB <upgrade>"},
			"kind": {"once"}, "start": {start.Format("2006-01-02T15:04")}, "end": {start.Add(time.Hour).Format("2006-01-02T15:04")},
			"timezone": {"UTC"}, comp: {"1"}, "body": {"We upgrade the database."}, "action": {"save"}}
		if res := ed.Post("/admin/maintenance", once); res.Code != http.StatusSeeOther {
			t.Fatalf("save one-off: got %d\n%s", res.Code, res.Body)
		}
		list := ed.Get("/admin/maintenance")
		if !strings.Contains(list.Body, "DB &lt;upgrade&gt;") {
			t.Errorf("maintenance list lacks the escaped window name")
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			doc := ed.Get("/p/a-status/api/v2/scheduled-maintenances/upcoming.json")
			if strings.Contains(doc.Body, `"name":"DB \u003cupgrade\u003e"`) || strings.Contains(doc.Body, `"name":"DB <upgrade>"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("upcoming.json never listed the window:\n%s", doc.Body)
			}
			time.Sleep(10 * time.Millisecond)
		}
		ws, err := st.MaintenanceWindows(t.Context(), a.Org.ID, a.PageID)
		if err != nil || len(ws) != 1 {
			t.Fatalf("stored windows: %v, %v", ws, err)
		}
		del := url.Values{"csrf_token": {csrf}, "page_id": {webtest.ID(a.PageID)}}
		if res := ed.Post("/admin/maintenance/"+webtest.ID(ws[0].ID)+"/delete", del); res.Code != http.StatusSeeOther {
			t.Fatalf("delete: got %d", res.Code)
		}
		if ws, _ := st.MaintenanceWindows(t.Context(), a.Org.ID, a.PageID); len(ws) != 0 {
			t.Errorf("after delete %d windows remain", len(ws))
		}
	})
}
