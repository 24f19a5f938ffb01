package public_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestMaintenanceDocumentsCarryRecordedSteps: a run the housekeeper has
// moved to in_progress shows that recorded step in the Statuspage
// documents, with what it did to its component — not a made-up update
// without affected components.
func TestMaintenanceDocumentsCarryRecordedSteps(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, days: 1})
	ctx := t.Context()
	now := time.Now().UTC()
	start, end := now.Add(-time.Minute), now.Add(time.Hour)
	if _, err := st.CreateMaintenance(ctx, f.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: f.page.ID,
		Name: "Network work", Body: "Switch upgrade.", TimeZone: "UTC", StartsAt: &start, EndsAt: &end,
		ComponentIDs: []int64{f.components[1].ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AdvanceMaintenance(ctx, now, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	br, _ := newPublicServer(t, st)
	res := br.Get("/p/acme/api/v2/scheduled-maintenances/active.json")
	if res.Code != http.StatusOK {
		t.Fatalf("active.json: got %d", res.Code)
	}
	var doc struct {
		ScheduledMaintenances []struct {
			Name            string `json:"name"`
			Status          string `json:"status"`
			IncidentUpdates []struct {
				Status             string `json:"status"`
				AffectedComponents []struct {
					Code      string `json:"code"`
					Name      string `json:"name"`
					OldStatus string `json:"old_status"`
					NewStatus string `json:"new_status"`
				} `json:"affected_components"`
			} `json:"incident_updates"`
		} `json:"scheduled_maintenances"`
	}
	if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range doc.ScheduledMaintenances {
		if m.Name != "Network work" {
			continue
		}
		found = true
		if len(m.IncidentUpdates) == 0 || m.IncidentUpdates[0].Status != "in_progress" {
			t.Fatalf("updates %+v, want the recorded in_progress step first", m.IncidentUpdates)
		}
		a := m.IncidentUpdates[0].AffectedComponents
		if len(a) != 1 || a[0].Name != f.components[1].Name || a[0].NewStatus != "under_maintenance" {
			t.Errorf("affected components %+v, want %s → under_maintenance", a, f.components[1].Name)
		}
	}
	if !found {
		t.Fatalf("active.json lacks the running window:\n%s", res.Body)
	}
}
