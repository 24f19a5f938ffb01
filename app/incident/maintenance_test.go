package incident

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustUTC(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func startsOf(os []Occurrence) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.Start.Format(time.RFC3339)+"/"+o.End.Sub(o.Start).String())
	}
	return out
}

func TestNextOccurrencesAcrossDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		schedule string
		from     string
		n        int
		want     []string
	}{
		{"weekly Sunday 08:00 Berlin over the spring change (29 March 2026)", "0 8 * * SUN", "2026-03-20T00:00:00Z", 3,
			[]string{"2026-03-22T07:00:00Z/2h0m0s", "2026-03-29T06:00:00Z/2h0m0s", "2026-04-05T06:00:00Z/2h0m0s"}},
		{"weekly Sunday 08:00 Berlin over the autumn change (25 October 2026)", "0 8 * * SUN", "2026-10-17T00:00:00Z", 3,
			[]string{"2026-10-18T06:00:00Z/2h0m0s", "2026-10-25T07:00:00Z/2h0m0s", "2026-11-01T07:00:00Z/2h0m0s"}},
		{"daily 08:00 Berlin over the spring change", "0 8 * * *", "2026-03-27T12:00:00Z", 3,
			[]string{"2026-03-28T07:00:00Z/2h0m0s", "2026-03-29T06:00:00Z/2h0m0s", "2026-03-30T06:00:00Z/2h0m0s"}},
		{"daily 08:00 Berlin over the autumn change", "0 8 * * *", "2026-10-24T00:00:00Z", 3,
			[]string{"2026-10-24T06:00:00Z/2h0m0s", "2026-10-25T07:00:00Z/2h0m0s", "2026-10-26T07:00:00Z/2h0m0s"}},
		{"a run in progress comes first", "0 8 * * *", "2026-07-16T07:59:00Z", 2,
			[]string{"2026-07-16T06:00:00Z/2h0m0s", "2026-07-17T06:00:00Z/2h0m0s"}},
		{"the console's five", "0 8 * * THU", "2026-10-01T00:00:00Z", 5,
			[]string{"2026-10-01T06:00:00Z/2h0m0s", "2026-10-08T06:00:00Z/2h0m0s", "2026-10-15T06:00:00Z/2h0m0s",
				"2026-10-22T06:00:00Z/2h0m0s", "2026-10-29T07:00:00Z/2h0m0s"}},
		{"none asked", "0 8 * * THU", "2026-10-01T00:00:00Z", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := ParseWindow(tt.schedule, 2*time.Hour, "Europe/Berlin")
			if err != nil {
				t.Fatal(err)
			}
			got := startsOf(NextOccurrences(w, mustUTC(t, tt.from), tt.n))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NextOccurrences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOneOffWindowAcrossDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		start, end string // local times in Europe/Berlin
		at         string
		wantStart  string
		wantEnd    string
		active     bool
		next       int // how many NextOccurrences at `at`
	}{
		{"winter: 08:00 Berlin is 07:00 UTC", "2026-03-28 08:00", "2026-03-28 10:00", "2026-03-28T07:30:00Z",
			"2026-03-28T07:00:00Z", "2026-03-28T09:00:00Z", true, 1},
		{"summer: 08:00 Berlin is 06:00 UTC", "2026-03-29 08:00", "2026-03-29 10:00", "2026-03-29T05:59:59Z",
			"2026-03-29T06:00:00Z", "2026-03-29T08:00:00Z", false, 1},
		{"over the spring change night: 01:00 to 04:00 local is two hours", "2026-03-29 01:00", "2026-03-29 04:00", "2026-03-29T01:30:00Z",
			"2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z", true, 1},
		{"over the autumn change night: 01:00 to 04:00 local is four hours", "2026-10-25 01:00", "2026-10-25 04:00", "2026-10-25T02:59:00Z",
			"2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z", true, 1},
		{"autumn, after the change: 08:00 Berlin is 07:00 UTC again", "2026-10-25 08:00", "2026-10-25 09:00", "2026-10-25T08:00:00Z",
			"2026-10-25T07:00:00Z", "2026-10-25T08:00:00Z", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start, err := ParseWhen(tt.start, "Europe/Berlin")
			if err != nil {
				t.Fatal(err)
			}
			end, err := ParseWhen(tt.end, "Europe/Berlin")
			if err != nil {
				t.Fatal(err)
			}
			w, err := OneOffWindow(start, end, "Europe/Berlin")
			if err != nil {
				t.Fatal(err)
			}
			if w.Recurring() {
				t.Error("Recurring: got true, want false")
			}
			s, e, active := w.Active(mustUTC(t, tt.at))
			if got := s.Format(time.RFC3339); got != tt.wantStart {
				t.Errorf("start: got %s, want %s", got, tt.wantStart)
			}
			if got := e.Format(time.RFC3339); got != tt.wantEnd {
				t.Errorf("end: got %s, want %s", got, tt.wantEnd)
			}
			if active != tt.active {
				t.Errorf("active: got %v, want %v", active, tt.active)
			}
			if got := NextOccurrences(w, mustUTC(t, tt.at), 5); len(got) != tt.next {
				t.Errorf("NextOccurrences: got %d runs (%v), want %d", len(got), startsOf(got), tt.next)
			}
		})
	}
}

func TestParseWhen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, zone string
		want     string // "" = error
	}{
		{"2026-12-01T08:00:00+01:00", "Asia/Tokyo", "2026-12-01T07:00:00Z"}, // an explicit offset wins over the zone
		{"2026-12-01T08:00:00Z", "", "2026-12-01T08:00:00Z"},
		{"2026-12-01 08:00", "Europe/Berlin", "2026-12-01T07:00:00Z"},
		{"2026-07-01 08:00", "Europe/Berlin", "2026-07-01T06:00:00Z"},
		{"2026-07-01T08:00", "Europe/Berlin", "2026-07-01T06:00:00Z"},
		{"2026-07-01 08:00:30", "Europe/Berlin", "2026-07-01T06:00:30Z"},
		{"2026-07-01 08:00", "", "2026-07-01T08:00:00Z"},
		{"2026-03-29 02:30", "Europe/Berlin", ""}, // skipped by the spring change
		{"2026-07-01 08:00", "Mars/Olympus", ""},
		{"1 July 2026", "UTC", ""},
		{"2026-13-01 08:00", "UTC", ""},
	}
	for _, tt := range tests {
		got, err := ParseWhen(tt.in, tt.zone)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseWhen(%q, %q): got %s, want an error", tt.in, tt.zone, got)
		case tt.want != "" && err != nil:
			t.Errorf("ParseWhen(%q, %q): got error %v, want %s", tt.in, tt.zone, err, tt.want)
		case tt.want != "" && got.Format(time.RFC3339) != tt.want:
			t.Errorf("ParseWhen(%q, %q): got %s, want %s", tt.in, tt.zone, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestWindowErrorsNameTheField(t *testing.T) {
	t.Parallel()
	t0 := mustUTC(t, "2026-12-01T08:00:00Z")
	tests := []struct {
		name  string
		err   error
		field string
	}{
		{"end before start", second(OneOffWindow(t0, t0.Add(-time.Hour), "UTC")), "end"},
		{"end equal to start", second(OneOffWindow(t0, t0, "UTC")), "end"},
		{"no start", second(OneOffWindow(time.Time{}, t0, "UTC")), "start"},
		{"no end", second(OneOffWindow(t0, time.Time{}, "UTC")), "end"},
		{"bad zone", second(OneOffWindow(t0, t0.Add(time.Hour), "Mars/Olympus")), "timezone"},
		{"bad schedule", second(ParseWindow("0 8 * * FRIDAYS", time.Hour, "UTC")), "schedule"},
		{"no duration", second(ParseWindow("0 8 * * FRI", 0, "UTC")), "duration"},
	}
	for _, tt := range tests {
		var we *WindowError
		if !errors.As(tt.err, &we) || we.Field != tt.field {
			t.Errorf("%s: got %v, want a *WindowError about %q", tt.name, tt.err, tt.field)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestOccurrencesInRange(t *testing.T) {
	t.Parallel()
	w, err := ParseWindow("0 8 * * *", time.Hour, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from, until := mustUTC(t, "2026-03-28T07:30:00Z"), mustUTC(t, "2026-03-31T00:00:00Z")
	got := startsOf(Occurrences(w, from, until, 10))
	want := []string{"2026-03-28T07:00:00Z/1h0m0s", "2026-03-29T06:00:00Z/1h0m0s", "2026-03-30T06:00:00Z/1h0m0s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Occurrences (-want +got):\n%s", diff)
	}
	if got := Occurrences(w, from, until, 2); len(got) != 2 {
		t.Errorf("Occurrences with limit 2: got %d", len(got))
	}
	one, err := OneOffWindow(from, until, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if got := Occurrences(one, until, until.Add(time.Hour), 10); len(got) != 0 {
		t.Errorf("one-off after its end: got %v, want none", startsOf(got))
	}
	if got := Occurrences(one, from.Add(-time.Hour), from, 10); len(got) != 0 {
		t.Errorf("one-off before its start: got %v, want none", startsOf(got))
	}
}
