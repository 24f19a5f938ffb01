package apply

import (
	"strings"
	"testing"
	"time"
)

// oneOffHead is a valid start of a file with one component; cases append a
// maintenance list, whose first window starts on line 7.
const oneOffHead = `page:
  slug: acme
  title: ACME status
components:
  - name: Media
maintenance:
`

func TestParseOneOffWindowMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		window   string
		wantLine int
		wantMsg  string
	}{
		{"end before start", "  - name: w\n    components: [Media]\n    start: 2026-12-01 10:00\n    end: 2026-12-01 08:00\n", 10,
			`maintenance[0].end: 2026-12-01 08:00 is not after the start 2026-12-01 10:00`},
		{"end equal to start", "  - {name: w, components: [Media], start: '2026-12-01T08:00:00Z', end: '2026-12-01 09:00', timezone: Europe/Berlin}\n", 7,
			"is not after the start"},
		{"both forms", "  - name: w\n    components: [Media]\n    schedule: '@daily'\n    duration: 1h\n    start: 2026-12-01 08:00\n    end: 2026-12-01 10:00\n", 11,
			"not both"},
		{"no form", "  - name: w\n    components: [Media]\n", 7,
			"missing: schedule and duration (a recurring window) or start and end (a one-off window)"},
		{"start without end", "  - name: w\n    components: [Media]\n    start: 2026-12-01 08:00\n", 7, "maintenance[0].end: missing"},
		{"duration without schedule", "  - name: w\n    components: [Media]\n    duration: 1h\n", 7, "maintenance[0].schedule: missing"},
		{"bad start", "  - name: w\n    components: [Media]\n    start: next Tuesday\n    end: 2026-12-01 08:00\n", 9,
			"want RFC 3339"},
		{"start the clocks skip", "  - name: w\n    components: [Media]\n    timezone: Europe/Berlin\n    start: 2026-03-29 02:30\n    end: 2026-03-29 04:00\n", 10,
			"does not exist in Europe/Berlin"},
		{"too long", "  - name: w\n    components: [Media]\n    start: 2026-12-01 08:00\n    end: 2027-02-01 08:00\n", 10,
			"longer than"},
		{"bad zone is reported once", "  - name: w\n    components: [Media]\n    timezone: Europe/Atlantis\n    start: 2026-12-01 08:00\n    end: 2026-12-01 09:00\n", 9,
			"is not a time zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs := parseConfig([]byte(oneOffHead+tt.window), "", Limits{})
			for _, e := range errs {
				if e.Line == tt.wantLine && strings.Contains(e.Error(), tt.wantMsg) {
					if tt.name == "bad zone is reported once" && len(errs) != 1 {
						t.Errorf("got %v, want only the time zone refused", errs)
					}
					return
				}
			}
			t.Errorf("got %v, want an error on line %d containing %q", errs, tt.wantLine, tt.wantMsg)
		})
	}
}

func TestParseOneOffWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, window, start, end string
	}{
		{"local winter time in Berlin", "{name: w, components: [Media], timezone: Europe/Berlin, start: '2026-12-01 08:00', end: '2026-12-01 10:00'}",
			"2026-12-01T07:00:00Z", "2026-12-01T09:00:00Z"},
		{"local summer time in Berlin", "{name: w, components: [Media], timezone: Europe/Berlin, start: 2026-07-01 08:00, end: 2026-07-01 10:00}",
			"2026-07-01T06:00:00Z", "2026-07-01T08:00:00Z"},
		{"over the spring change night", "{name: w, components: [Media], timezone: Europe/Berlin, start: 2026-03-29 01:00, end: 2026-03-29 04:00}",
			"2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z"},
		{"over the autumn change night", "{name: w, components: [Media], timezone: Europe/Berlin, start: 2026-10-25 01:00, end: 2026-10-25 04:00}",
			"2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"},
		{"RFC 3339, unquoted", "{name: w, components: [Media], start: 2026-12-01T08:00:00+01:00, end: 2026-12-01T10:00:00Z}",
			"2026-12-01T07:00:00Z", "2026-12-01T10:00:00Z"},
		{"timezone after the times", "{name: w, components: [Media], start: 2026-12-01 08:00, end: 2026-12-01 09:00, timezone: America/New_York}",
			"2026-12-01T13:00:00Z", "2026-12-01T14:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, oneOffHead+"  - "+tt.window+"\n")
			m := c.maintenance[0]
			if m.schedule != "" || m.duration != 0 || m.start == nil || m.end == nil {
				t.Fatalf("got %+v, want a one-off window", m)
			}
			if got := m.start.Format(time.RFC3339); got != tt.start {
				t.Errorf("start: got %s, want %s", got, tt.start)
			}
			if got := m.end.Format(time.RFC3339); got != tt.end {
				t.Errorf("end: got %s, want %s", got, tt.end)
			}
		})
	}
}
