package housekeep

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestMaintenanceMovesWindowsOn drives one one-off window through its run
// with an injected clock: one update per step (a replayed tick writes
// nothing), the component under maintenance during the run and back to
// operational after, and a page event on the bus after each change.
func TestMaintenanceMovesWindowsOn(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		orgID, _ := storetest.SeedCheck(t, s) // page "acme", component "API" with one (unjudged) check
		page, err := s.PageBySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		comps, err := s.Components(ctx, orgID, page.ID)
		if err != nil || len(comps) != 1 {
			t.Fatalf("components: %v, %v", comps, err)
		}
		api := comps[0]
		// 25 October 2026, the day summer time ends: 08:00–09:00 in Berlin
		// is 07:00–08:00 UTC.
		start, end := time.Date(2026, 10, 25, 7, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 8, 0, 0, 0, time.UTC)
		w, err := s.CreateMaintenance(ctx, orgID, store.CLIActor(), store.MaintenanceWindow{PageID: page.ID, Name: "upgrade",
			StartsAt: &start, EndsAt: &end, TimeZone: "Europe/Berlin", ComponentIDs: []int64{api.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE maintenance_windows SET created_at = ? WHERE id = ?`),
			time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), w.ID); err != nil {
			t.Fatal(err)
		}

		b := bus.NewMemory(bus.Options{})
		t.Cleanup(func() { b.Close() })
		sub, err := b.Subscribe(ctx, pipeline.EventsChannel("acme"))
		if err != nil {
			t.Fatal(err)
		}
		var now time.Time
		h, err := New(s, Options{Now: func() time.Time { return now }, Events: b, Registerer: prometheus.NewRegistry(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}

		steps := []struct {
			at         time.Time
			status     string // the window's, after the tick
			component  string
			event      string // the page event, "" for none
			allUpdates int
		}{
			{start.Add(-time.Hour), "scheduled", "operational", `{"type":"status","page":"acme"}`, 1},
			{start.Add(15 * time.Second), "in_progress", "under_maintenance",
				`{"type":"status","page":"acme","components":[{"id":` + itoa(api.ID) + `,"status":"under_maintenance"}]}`, 2},
			{start.Add(30 * time.Minute), "in_progress", "under_maintenance", "", 2},
			{end.Add(15 * time.Second), "completed", "operational",
				`{"type":"status","page":"acme","components":[{"id":` + itoa(api.ID) + `,"status":"operational"}]}`, 3},
			{end.Add(time.Hour), "completed", "operational", "", 3},
		}
		for i, st := range steps {
			now = st.at
			for range 2 { // a replayed tick changes nothing
				if err := h.Maintenance(ctx); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			got, err := s.MaintenanceWindow(ctx, orgID, page.ID, w.ID)
			if err != nil {
				t.Fatal(err)
			}
			comps, err := s.Components(ctx, orgID, page.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != st.status || comps[0].Status != st.component {
				t.Errorf("step %d: window %s, component %s; want %s, %s", i, got.Status, comps[0].Status, st.status, st.component)
			}
			ups, err := s.MaintenanceUpdates(ctx, orgID, page.ID, w.ID, 0)
			if err != nil || len(ups) != st.allUpdates {
				t.Errorf("step %d: %d updates (%v), want %d", i, len(ups), err, st.allUpdates)
			}
			// Publishing is synchronous on the in-process bus: what the tick
			// sent is already buffered.
			var events []string
			for len(sub) > 0 {
				events = append(events, string(<-sub))
			}
			switch {
			case st.event == "" && len(events) != 0:
				t.Errorf("step %d: events %q, want none", i, events)
			case st.event != "" && (len(events) != 1 || !sameJSON(events[0], st.event)):
				t.Errorf("step %d: events %q, want exactly %s", i, events, st.event)
			}
		}
	})
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// rebind turns '?' placeholders into PostgreSQL's $n for raw test queries.
func rebind(s *store.Store, q string) string {
	if s.Dialect() != store.Postgres {
		return q
	}
	out, n := "", 0
	for _, r := range q {
		if r == '?' {
			n++
			out += "$" + itoa(int64(n))
			continue
		}
		out += string(r)
	}
	return out
}

// TestMaintenanceTickRuns: Run ticks the maintenance job on its own.
func TestMaintenanceTickRuns(t *testing.T) {
	s := storetest.SQLite(t)
	orgID, _ := storetest.SeedCheck(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	page, err := s.PageBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(time.Hour)
	end := start.Add(time.Hour)
	w, err := s.CreateMaintenance(ctx, orgID, store.CLIActor(), store.MaintenanceWindow{PageID: page.ID, Name: "soon",
		StartsAt: &start, EndsAt: &end})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(s, Options{MaintenanceTick: time.Second, Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ups, err := s.MaintenanceUpdates(ctx, orgID, page.ID, w.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ups) == 1 && ups[0].Status == "scheduled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no announcement within 10s: got %+v", ups)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
