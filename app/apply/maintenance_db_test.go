package apply_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

const oneOffFile = `page: {slug: acme, title: ACME, timezone: Europe/Berlin}
components:
  - name: API
  - name: Media
maintenance:
  - name: database upgrade
    components: [API, Media]
    timezone: Europe/Berlin
    start: 2026-03-29 01:00
    end: 2026-03-29 04:00
    body: We move the database to new disks.
  - name: weekly window
    components: [API]
    schedule: "0 8 * * THU"
    duration: 2h
    timezone: Europe/Berlin
`

func TestApplyOneOffWindowsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org := newOrg(t, st, "acme-inc")
		rep := mustApply(t, st, org, oneOffFile, false)
		wantCounts(t, rep, 5, 0, 0) // page, 2 components, 2 windows
		before := dump(t, st, org)
		rep = mustApply(t, st, org, oneOffFile, false)
		wantCounts(t, rep, 0, 0, 0)
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("the second apply wrote (-before +after):\n%s", diff)
		}

		page, err := st.PageBySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		ws, err := st.MaintenanceWindows(ctx, org, page.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) != 2 || ws[0].Name != "database upgrade" {
			t.Fatalf("got %+v, want the two windows", ws)
		}
		w := ws[0]
		// 01:00 CET to 04:00 CEST on the night of the spring change: two hours.
		if w.StartsAt == nil || w.EndsAt == nil || !w.StartsAt.Equal(time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)) ||
			!w.EndsAt.Equal(time.Date(2026, 3, 29, 2, 0, 0, 0, time.UTC)) || w.Schedule != "" || w.TimeZone != "Europe/Berlin" ||
			len(w.ComponentIDs) != 2 || w.Body != "We move the database to new disks." {
			t.Errorf("one-off window as stored: got %+v", w)
		}

		// The same instants written as RFC 3339 change nothing.
		same := strings.Replace(oneOffFile, "start: 2026-03-29 01:00", "start: 2026-03-29T00:00:00Z", 1)
		same = strings.Replace(same, "end: 2026-03-29 04:00", "end: '2026-03-29T04:00:00+02:00'", 1)
		wantCounts(t, mustApply(t, st, org, same, false), 0, 0, 0)

		// A completed window moved to a new date runs again.
		if _, err := st.DB().ExecContext(ctx, `UPDATE maintenance_windows SET status = 'completed' WHERE id = `+strconv.FormatInt(w.ID, 10)); err != nil {
			t.Fatal(err)
		}
		moved := strings.Replace(oneOffFile, "end: 2026-03-29 04:00", "end: 2026-03-29 05:00", 1)
		rep = mustApply(t, st, org, moved, false)
		want := []string{`~ maintenance "database upgrade" (end 2026-03-29T02:00:00Z → 2026-03-29T03:00:00Z)`}
		if diff := cmp.Diff(want, rep.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if got, err := st.MaintenanceWindow(ctx, org, page.ID, w.ID); err != nil || got.Status != store.MaintenanceScheduled {
			t.Errorf("moved window: got status %q (%v), want scheduled", got.Status, err)
		}
		wantCounts(t, mustApply(t, st, org, moved, false), 0, 0, 0)

		// Switching forms is a change of the same window, both ways.
		recurring := strings.Replace(moved, "    start: 2026-03-29 01:00\n    end: 2026-03-29 05:00\n", "    schedule: '@daily'\n    duration: 1h\n", 1)
		rep = mustApply(t, st, org, recurring, false)
		if len(rep.Lines) != 1 || !strings.HasPrefix(rep.Lines[0], `~ maintenance "database upgrade" (one-off → recurring, schedule "" → "@daily"`) {
			t.Errorf("got %q, want the window changed to recurring", rep.Lines)
		}
		wantCounts(t, mustApply(t, st, org, recurring, false), 0, 0, 0)
		rep = mustApply(t, st, org, moved, false)
		if len(rep.Lines) != 1 || !strings.HasPrefix(rep.Lines[0], `~ maintenance "database upgrade" (recurring → one-off, schedule "@daily" → ""`) {
			t.Errorf("got %q, want the window changed back to one-off", rep.Lines)
		}
		wantCounts(t, mustApply(t, st, org, moved, false), 0, 0, 0)
	})
}
