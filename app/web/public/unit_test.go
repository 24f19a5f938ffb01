package public

import (
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

func TestMaintenanceOccurrences(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ptr := func(s string) *time.Time { v := at(s); return &v }
	oneOff := store.MaintenanceWindow{ID: 1, Name: "one-off", Status: "scheduled",
		StartsAt: ptr("2026-11-21T10:00:00Z"), EndsAt: ptr("2026-11-21T12:00:00Z")}
	weekly := store.MaintenanceWindow{ID: 2, Name: "weekly", Status: "scheduled", Schedule: "0 8 * * THU",
		Duration: 2 * time.Hour, TimeZone: "Europe/Berlin"}
	cases := []struct {
		name   string
		w      store.MaintenanceWindow
		now    string
		status []string
		from   []string
	}{
		{"one-off before", oneOff, "2026-11-21T09:00:00Z", []string{"scheduled"}, []string{"2026-11-21T10:00:00Z"}},
		{"one-off during", oneOff, "2026-11-21T10:00:00Z", []string{"in_progress"}, []string{"2026-11-21T10:00:00Z"}},
		{"one-off after", oneOff, "2026-11-21T12:00:00Z", []string{"completed"}, []string{"2026-11-21T10:00:00Z"}},
		{"one-off verifying stays", func() store.MaintenanceWindow { w := oneOff; w.Status = "verifying"; return w }(),
			"2026-11-21T13:00:00Z", []string{"verifying"}, []string{"2026-11-21T10:00:00Z"}},
		// Thursday 08:00 Berlin is 07:00 UTC in winter, 06:00 UTC in summer.
		{"weekly winter, in progress", weekly, "2026-11-26T07:30:00Z", []string{"in_progress", "scheduled"},
			[]string{"2026-11-26T07:00:00Z", "2026-12-03T07:00:00Z"}},
		{"weekly summer, upcoming", weekly, "2026-07-01T00:00:00Z", []string{"scheduled", "scheduled"},
			[]string{"2026-07-02T06:00:00Z", "2026-07-09T06:00:00Z"}},
		{"bad schedule shows nothing", store.MaintenanceWindow{ID: 3, Schedule: "nonsense", Duration: time.Hour}, "2026-07-01T00:00:00Z", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := maintenanceOccurrences([]store.MaintenanceWindow{tc.w}, at(tc.now))
			if len(got) != len(tc.status) {
				t.Fatalf("got %d occurrences, want %d", len(got), len(tc.status))
			}
			for i, o := range got {
				if o.status != tc.status[i] || !o.from.Equal(at(tc.from[i])) {
					t.Errorf("occurrence %d: got %s from %s, want %s from %s", i, o.status, o.from, tc.status[i], tc.from[i])
				}
			}
		})
	}
}

func TestPercentNeverRoundsUpToFull(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{100: "100%", 99.999: "99.99%", 99.5: "99.5%", 97.25: "97.25%", 0: "0%"} {
		if got := percent(in); got != want {
			t.Errorf("percent(%v): got %q, want %q", in, got, want)
		}
	}
}

func TestPickEncodingAndETags(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "gzip": "gzip", "br;q=1.0, gzip": "br", "br;q=0, gzip;q=0.5": "gzip",
		"gzip;q=0": "", "identity": "", "deflate, BR": "br"} {
		if got := pickEncoding(in); got != want {
			t.Errorf("pickEncoding(%q): got %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		header string
		want   bool
	}{{`"abc"`, true}, {`W/"abc"`, true}, {`"x", "abc-br"`, true}, {`"abc-gz"`, true}, {`*`, true}, {`"abd"`, false}, {``, false}} {
		if got := etagMatches(tc.header, `"abc"`); got != tc.want {
			t.Errorf("etagMatches(%q): got %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestDayViewLevels(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	monitored := func(hours int, down time.Duration) store.ComponentDay {
		return store.ComponentDay{Total: 1, Time: incident.Span{Monitored: time.Duration(hours) * time.Hour, Down: down}}
	}
	cdn := store.PublicIncident{Name: "CDN", Impact: "critical", StartedAt: day.Add(13*time.Hour + 5*time.Minute)}
	cases := []struct {
		name      string
		d         store.ComponentDay
		incidents []store.PublicIncident
		level     string
		text      string
	}{
		{"perfect", monitored(24, 0), nil, "", "21 Nov 100%"},
		{"no data", store.ComponentDay{}, nil, "n", "21 Nov no data"},
		{"results but no monitored time", store.ComponentDay{Total: 3}, nil, "n", "21 Nov no data"},
		{"degraded", monitored(20, 6*time.Minute), nil, "w", "21 Nov 99.5%"},
		{"partial", monitored(10, 18*time.Minute), nil, "p", "21 Nov 97%"},
		{"10 monitored hours, 30 minutes down", monitored(10, 30*time.Minute), nil, "p", "21 Nov 95%"},
		{"major", monitored(2, time.Hour), nil, "m", "21 Nov 50%"},
		{"incident raises the level, named with its start in the page zone", monitored(24, 0), []store.PublicIncident{cdn}, "m",
			"21 Nov 100%, 1 incident: CDN (started 21 Nov 2026, 14:05 CET)"},
	}
	for _, tc := range cases {
		v := dayView(day, tc.d, tc.incidents, berlin)
		if v.Level != tc.level || v.Text != tc.text {
			t.Errorf("%s: got %q %q, want %q %q", tc.name, v.Level, v.Text, tc.level, tc.text)
		}
	}
}
