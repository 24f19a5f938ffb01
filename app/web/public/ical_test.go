package public_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestMaintenanceCalendar fetches /p/acme/maintenance.ics twice and reads
// it back with an independent parser: a one-off window, a weekly window in
// Europe/Berlin as an RRULE with its TZID and VTIMEZONE, and a window whose
// schedule no rule expresses, expanded over 90 days.
func TestMaintenanceCalendar(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := seedPublicPage(t, st, fixtureOptions{components: 2})
		longName := "Weekly upgrade of the database, cache and CDN nodes; expect short interruptions, retries and — sometimes — slow pages"
		weekly, err := st.CreateMaintenance(ctx, f.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: f.page.ID, Name: longName,
			Body: "We patch **everything**.\n\nSee <b>notes</b>; ask us, please.", Schedule: "0 8 * * THU", Duration: 2 * time.Hour,
			TimeZone: "Europe/Berlin", ComponentIDs: []int64{f.components[0].ID, f.components[1].ID}})
		if err != nil {
			t.Fatal(err)
		}
		odd, err := st.CreateMaintenance(ctx, f.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: f.page.ID, Name: "odd",
			Schedule: "0 3 1 * MON", Duration: time.Hour, TimeZone: "Europe/Berlin"}) // the 1st or any Monday: no RRULE says that
		if err != nil {
			t.Fatal(err)
		}
		br, _ := newPublicServer(t, st)

		res := br.Get("/p/acme/maintenance.ics")
		if res.Code != http.StatusOK {
			t.Fatalf("GET maintenance.ics: got %d %.200s", res.Code, res.Body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
			t.Errorf("Content-Type: got %q, want text/calendar; charset=utf-8", ct)
		}
		if res.Header.Get("ETag") == "" {
			t.Error("no ETag: the calendar is not served through the page cache")
		}
		checkContentLines(t, res.Body)
		again := br.Get("/p/acme/maintenance.ics")
		if again.Body != res.Body {
			t.Error("two fetches of an unchanged page differ")
		}

		cal, err := ics.ParseCalendar(strings.NewReader(res.Body))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		for prop, want := range map[ics.Property]string{ics.PropertyVersion: "2.0", ics.PropertyProductId: "-//Pharos//Maintenance calendar//EN"} {
			if got := calendarProperty(cal, prop); got != want {
				t.Errorf("%s: got %q, want %q", prop, got, want)
			}
		}
		events := map[string]*ics.VEvent{}
		for _, e := range cal.Events() {
			if events[e.Id()] != nil {
				t.Errorf("UID %s twice", e.Id())
			}
			events[e.Id()] = e
		}
		id := func(w int64) string { return "m" + strconv.FormatInt(w, 10) }

		// The fixture's one-off window, in UTC.
		var oneOff store.MaintenanceWindow
		ws, err := st.MaintenanceWindows(ctx, f.org.ID, f.page.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if w.Name == "Database upgrade" {
				oneOff = w
			}
		}
		e := events[id(oneOff.ID)+"@acme.pharos"]
		if e == nil {
			t.Fatalf("no event for the one-off window; UIDs %v", keys(events))
		}
		if got := prop(e, ics.ComponentPropertyDtStart); got != oneOff.StartsAt.UTC().Format("20060102T150405Z") {
			t.Errorf("one-off DTSTART: got %q, want %s", got, oneOff.StartsAt)
		}
		if got := prop(e, ics.ComponentPropertyDtEnd); got != oneOff.EndsAt.UTC().Format("20060102T150405Z") {
			t.Errorf("one-off DTEND: got %q, want %s", got, oneOff.EndsAt)
		}
		if got := prop(e, ics.ComponentPropertyDescription); !strings.Contains(got, "We upgrade the database.") || strings.Contains(got, "<") {
			t.Errorf("one-off DESCRIPTION: got %q, want the body as plain text", got)
		}

		// The weekly window: one event with a rule in Berlin time.
		e = events[id(weekly.ID)+"@acme.pharos"]
		if e == nil {
			t.Fatalf("no event for the weekly window; UIDs %v", keys(events))
		}
		if got := prop(e, ics.ComponentPropertyRrule); got != "FREQ=WEEKLY;BYDAY=TH" {
			t.Errorf("RRULE: got %q, want FREQ=WEEKLY;BYDAY=TH", got)
		}
		start := e.GetProperty(ics.ComponentPropertyDtStart)
		if tzid := start.ICalParameters["TZID"]; len(tzid) != 1 || tzid[0] != "Europe/Berlin" {
			t.Errorf("DTSTART TZID: got %v, want Europe/Berlin", tzid)
		}
		berlin, _ := time.LoadLocation("Europe/Berlin")
		local, err := time.ParseInLocation("20060102T150405", start.Value, berlin)
		if err != nil {
			t.Fatalf("DTSTART %q: %v", start.Value, err)
		}
		pw, _ := weekly.Window()
		if first := incident.NextOccurrences(pw, weekly.CreatedAt, 1); len(first) != 1 || !first[0].Start.Equal(local) ||
			local.Weekday() != time.Thursday || local.Hour() != 8 {
			t.Errorf("DTSTART: got %s, want the first Thursday 08:00 Berlin after the window was created", local)
		}
		if got := prop(e, ics.ComponentPropertyDuration); got != "PT2H" {
			t.Errorf("DURATION: got %q, want PT2H", got)
		}
		if got := prop(e, ics.ComponentPropertySummary); got != "ACME status maintenance: "+longName {
			t.Errorf("SUMMARY after folding and escaping: got %q", got)
		}
		desc := prop(e, ics.ComponentPropertyDescription)
		for _, want := range []string{"We patch everything.", "See notes; ask us, please.", "Affected: Media, Component 02", "Status page: "} {
			if !strings.Contains(desc, want) {
				t.Errorf("DESCRIPTION %q lacks %q", desc, want)
			}
		}
		if !strings.Contains(res.Body, "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n") ||
			!strings.Contains(res.Body, "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU") || !strings.Contains(res.Body, "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU") {
			t.Errorf("no VTIMEZONE for Europe/Berlin with its yearly changes:\n%s", res.Body)
		}

		// The odd window: its runs of the next 90 days, one event each.
		ow, _ := odd.Window()
		now := time.Now()
		want := incident.Occurrences(ow, now, now.Add(90*24*time.Hour), 1000)
		if len(want) < 12 {
			t.Fatalf("expected at least 12 runs of %q in 90 days, got %d", odd.Schedule, len(want))
		}
		got := 0
		for uid, e := range events {
			if !strings.HasPrefix(uid, id(odd.ID)+"-") {
				continue
			}
			got++
			unix, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(uid, id(odd.ID)+"-"), "@acme.pharos"), 10, 64)
			if err != nil {
				t.Errorf("UID %q: %v", uid, err)
				continue
			}
			s := e.GetProperty(ics.ComponentPropertyDtStart)
			local, err := time.ParseInLocation("20060102T150405", s.Value, berlin)
			if err != nil || local.Unix() != unix || local.Hour() != 3 || e.GetProperty(ics.ComponentPropertyRrule) != nil {
				t.Errorf("run %s: DTSTART %q (%v), want 03:00 Berlin at the UID's instant, no RRULE", uid, s.Value, err)
			}
		}
		// A run may begin or end between the test's clock and the server's.
		if got < len(want)-1 || got > len(want)+1 {
			t.Errorf("expanded runs: got %d, want %d", got, len(want))
		}
	})
}

// checkContentLines checks RFC 5545's line rules on a raw document: CRLF
// everywhere, at most 75 octets a line, continuation lines start with a
// space, and folding never splits a UTF-8 character.
func checkContentLines(t *testing.T, body string) {
	t.Helper()
	if !strings.HasSuffix(body, "END:VCALENDAR\r\n") || !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") {
		t.Errorf("document is not one VCALENDAR ending in CRLF")
	}
	folded := 0
	for i, l := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d has %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, l)
		}
		if strings.HasPrefix(l, " ") {
			folded++
		}
	}
	if folded == 0 {
		t.Error("no folded line, though the long summary needs folding")
	}
}

func prop(e *ics.VEvent, p ics.ComponentProperty) string {
	if v := e.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func calendarProperty(cal *ics.Calendar, p ics.Property) string {
	for _, cp := range cal.CalendarProperties {
		if cp.IANAToken == string(p) {
			return cp.Value
		}
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
