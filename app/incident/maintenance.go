package incident

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard five fields, names (THU, JAN) and
// descriptors (@daily, @weekly).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Window is a maintenance window: recurring (it starts at every time its
// schedule names in its time zone and lasts a duration) or one-off (one
// start and end, with the zone it was written in).
type Window struct {
	schedule cron.Schedule // nil for a one-off window
	loc      *time.Location
	duration time.Duration
	start    time.Time // one-off only
	end      time.Time // one-off only
}

// Occurrence is one run of a maintenance window, in UTC.
type Occurrence struct {
	Start time.Time
	End   time.Time
}

// WindowError is a window definition refused by validation; Field names
// the input it is about (schedule, duration, timezone, start, end), so a
// form or a config file can point at it.
type WindowError struct {
	Field   string
	Message string
}

func (e *WindowError) Error() string { return e.Field + ": " + e.Message }

// ParseWindow validates a recurring window: a schedule (robfig/cron, five
// fields), a duration and an IANA time zone ("" means UTC). Errors are
// *WindowError.
func ParseWindow(schedule string, duration time.Duration, timeZone string) (Window, error) {
	loc, err := LoadZone(timeZone)
	if err != nil {
		return Window{}, err
	}
	if err := ParseSchedule(schedule); err != nil {
		return Window{}, &WindowError{"schedule", fmt.Sprintf("%q: %v", schedule, err)}
	}
	sched, err := cronParser.Parse(schedule)
	if err != nil {
		return Window{}, &WindowError{"schedule", fmt.Sprintf("%q: %v", schedule, err)}
	}
	if duration <= 0 {
		return Window{}, &WindowError{"duration", fmt.Sprintf("%s: must be positive", duration)}
	}
	return Window{schedule: sched, loc: loc, duration: duration}, nil
}

// ParseSchedule checks a window's cron line: five fields (minute hour
// day-of-month month day-of-week) with names (THU, JAN), or a descriptor
// (@daily, @weekly). @every and an embedded TZ= are refused: a window is a
// calendar schedule, and its zone has its own field.
func ParseSchedule(schedule string) error {
	switch {
	case strings.HasPrefix(schedule, "@every"):
		return errors.New("use a calendar schedule (a cron line or @daily, @weekly…), not @every")
	case strings.HasPrefix(schedule, "TZ=") || strings.HasPrefix(schedule, "CRON_TZ="):
		return errors.New("set the time zone in its own field, not in the schedule")
	}
	_, err := cronParser.Parse(schedule)
	return err
}

// OneOffWindow validates a one-off window from start to end (end after
// start), written in timeZone ("" means UTC). Errors are *WindowError.
func OneOffWindow(start, end time.Time, timeZone string) (Window, error) {
	loc, err := LoadZone(timeZone)
	if err != nil {
		return Window{}, err
	}
	if start.IsZero() {
		return Window{}, &WindowError{"start", "required"}
	}
	if end.IsZero() {
		return Window{}, &WindowError{"end", "required"}
	}
	if !end.After(start) {
		return Window{}, &WindowError{"end", fmt.Sprintf("%s is not after the start %s",
			end.In(loc).Format(time.RFC3339), start.In(loc).Format(time.RFC3339))}
	}
	return Window{loc: loc, duration: end.Sub(start), start: start.UTC(), end: end.UTC()}, nil
}

// LoadZone loads an IANA time zone ("" means UTC); the error is a
// *WindowError about the field "timezone".
func LoadZone(timeZone string) (*time.Location, error) {
	if timeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return nil, &WindowError{"timezone", fmt.Sprintf("%q: unknown time zone", timeZone)}
	}
	return loc, nil
}

// Recurring reports whether the window follows a schedule.
func (w Window) Recurring() bool { return w.schedule != nil }

// Location is the zone the window is written in.
func (w Window) Location() *time.Location {
	if w.loc == nil {
		return time.UTC
	}
	return w.loc
}

// Duration is how long each run lasts.
func (w Window) Duration() time.Duration { return w.duration }

// Next returns the first run that is in progress at t or starts after it.
// Times are computed in the window's own zone, so "0 8 * * THU" in
// Europe/Berlin is 07:00 UTC in winter and 06:00 UTC in summer. A one-off
// window returns its only run, even when it is over (see NextOccurrences).
func (w Window) Next(t time.Time) (start, end time.Time) {
	if w.schedule == nil {
		return w.start, w.end
	}
	// A run in progress at t started within the last duration.
	from := t.In(w.loc).Add(-w.duration)
	start = w.schedule.Next(from)
	return start.UTC(), start.Add(w.duration).UTC()
}

// Active reports whether t falls inside a run, and which (else the next).
func (w Window) Active(t time.Time) (start, end time.Time, active bool) {
	start, end = w.Next(t)
	return start, end, !start.After(t) && t.Before(end)
}

// NextOccurrences returns up to n runs of w that are in progress at from
// or start after it, in order: the console shows them before a window is
// saved. A one-off window has at most its single run.
func NextOccurrences(w Window, from time.Time, n int) []Occurrence {
	if n <= 0 {
		return nil
	}
	if w.schedule == nil {
		if w.end.After(from) {
			return []Occurrence{{Start: w.start, End: w.end}}
		}
		return nil
	}
	out := make([]Occurrence, 0, n)
	start, end := w.Next(from)
	for len(out) < n && !start.IsZero() {
		out = append(out, Occurrence{Start: start, End: end})
		start = w.schedule.Next(start.In(w.loc)).UTC()
		end = start.Add(w.duration)
	}
	return out
}

// Occurrences returns the runs of w that overlap [from, until), in order,
// at most limit of them (the calendar's expansion, the history's past runs).
func Occurrences(w Window, from, until time.Time, limit int) []Occurrence {
	var out []Occurrence
	if w.schedule == nil {
		if w.end.After(from) && w.start.Before(until) && limit > 0 {
			out = append(out, Occurrence{Start: w.start, End: w.end})
		}
		return out
	}
	start, end := w.Next(from)
	for len(out) < limit && !start.IsZero() && start.Before(until) {
		out = append(out, Occurrence{Start: start, End: end})
		start = w.schedule.Next(start.In(w.loc)).UTC()
		end = start.Add(w.duration)
	}
	return out
}

// localLayouts are the local-time forms a person may write for a one-off
// window's start or end, read in the window's time zone.
var localLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// ParseWhen reads a one-off window's start or end: RFC 3339 ("2026-12-01T08:00:00+01:00"),
// or a local time ("2026-12-01 08:00") in timeZone. A local time that the
// zone skips (the hour lost to daylight saving) is refused rather than moved.
func ParseWhen(s, timeZone string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	loc, err := LoadZone(timeZone)
	if err != nil {
		return time.Time{}, err
	}
	for _, layout := range localLayouts {
		wall, err := time.Parse(layout, s) // the wall clock, read as UTC
		if err != nil {
			continue
		}
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
		if t.Hour() != wall.Hour() || t.Minute() != wall.Minute() || t.Day() != wall.Day() {
			return time.Time{}, fmt.Errorf("%q does not exist in %s (the clocks skip it)", s, loc)
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-12-01T08:00:00+01:00) or a local time (2026-12-01 08:00)", s)
}
