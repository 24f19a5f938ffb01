package notify_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestMaintenanceRunReachesWebhooks(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, comps := seedPage(t, s)
		r := newReceiver(t, time.Now)
		r.subscribe(t, s, orgID, pageID, "/hook")
		c := newClock()
		n := webhookNotifier(t, s, c.Now, notify.Options{})
		start := c.Now().Add(2 * time.Hour).Truncate(time.Second)
		end := start.Add(time.Hour)
		w, err := s.CreateMaintenance(ctx, orgID, store.CLIActor(), store.MaintenanceWindow{PageID: pageID, Name: "Disk upgrade",
			Body: "New disks.", StartsAt: &start, EndsAt: &end, TimeZone: "UTC", ComponentIDs: []int64{comps[1]}})
		if err != nil {
			t.Fatal(err)
		}
		for i, at := range []time.Time{c.Now(), start.Add(10 * time.Second), end.Add(5 * time.Second)} {
			if _, err := s.AdvanceMaintenance(ctx, at, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
			drive(t, n, c, time.Second, func() bool { return len(r.accepted()) >= i+1 })
		}
		got := r.accepted()
		wantStatus := []string{"scheduled", "in_progress", "completed"}
		if len(got) != len(wantStatus) {
			t.Fatalf("receiver accepted %d payloads, want %d", len(got), len(wantStatus))
		}
		for i, h := range got {
			in := h.body.Incident
			if in == nil {
				t.Fatalf("payload %d has no incident: %s", i, kindOf(h.body))
			}
			if in.ID != "m"+strconv.FormatInt(w.ID, 10) || in.Name != "Disk upgrade" || in.Status != wantStatus[i] ||
				in.Impact != "maintenance" || in.ScheduledFor == nil || *in.ScheduledFor != start.UTC().Format("2006-01-02T15:04:05.000Z") ||
				len(in.IncidentUpdates) != i+1 || in.IncidentUpdates[0].Status != wantStatus[i] {
				t.Errorf("payload %d: %+v; want the run %s with %d updates", i, in, wantStatus[i], i+1)
			}
		}
	})
}
