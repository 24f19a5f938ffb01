package incident

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard five fields, names (THU, JAN) and
// descriptors (@daily, @weekly).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Window is a recurring maintenance window: it starts at every time its
// schedule names in its time zone and lasts Duration.
type Window struct {
	schedule cron.Schedule
	loc      *time.Location
	duration time.Duration
}

// ParseWindow validates a schedule (robfig/cron, five fields), a duration
// and an IANA time zone ("" means UTC).
func ParseWindow(schedule string, duration time.Duration, timeZone string) (Window, error) {
	if timeZone == "" {
		timeZone = "UTC"
	}
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return Window{}, fmt.Errorf("time zone %q: %w", timeZone, err)
	}
	sched, err := cronParser.Parse(schedule)
	if err != nil {
		return Window{}, fmt.Errorf("schedule %q: %w", schedule, err)
	}
	if duration <= 0 {
		return Window{}, fmt.Errorf("duration %s: must be positive", duration)
	}
	return Window{schedule: sched, loc: loc, duration: duration}, nil
}

// Next returns the first window that is in progress at t or starts after
// it. Times are computed in the window's own zone, so "0 8 * * THU" in
// Europe/Berlin is 07:00 UTC in winter and 06:00 UTC in summer.
func (w Window) Next(t time.Time) (start, end time.Time) {
	// A window in progress at t started within the last duration.
	from := t.In(w.loc).Add(-w.duration)
	start = w.schedule.Next(from)
	return start.UTC(), start.Add(w.duration).UTC()
}

// Active reports whether t falls inside a window, and which.
func (w Window) Active(t time.Time) (start, end time.Time, active bool) {
	start, end = w.Next(t)
	return start, end, !start.After(t) && t.Before(end)
}
