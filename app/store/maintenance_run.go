package store

import (
	"strconv"
	"time"

	"pharos/app/incident"
)

// The one rule for what the public sees of a maintenance window at a given
// moment, shared by the status page, the management API and the notifier.

// RunAt returns the window's run to show at now and its status: a one-off
// window's stored status wins once an operator moved it on (verifying,
// completed), otherwise the clock decides; a recurring window's current
// run, or its next one. ok is false for a window that cannot be read (the
// config file and the console validate windows, so this shows nothing
// rather than breaking a page).
func (w MaintenanceWindow) RunAt(now time.Time) (from, until time.Time, status string, ok bool) {
	if w.Schedule == "" {
		if w.StartsAt == nil || w.EndsAt == nil {
			return time.Time{}, time.Time{}, "", false
		}
		from, until, status = *w.StartsAt, *w.EndsAt, w.Status
		if status == MaintenanceScheduled || status == MaintenanceInProgress || status == "" {
			switch {
			case !now.Before(until):
				status = MaintenanceCompleted
			case !now.Before(from):
				status = MaintenanceInProgress
			default:
				status = MaintenanceScheduled
			}
		}
		return from, until, status, true
	}
	rw, err := incident.ParseWindow(w.Schedule, w.Duration, w.TimeZone)
	if err != nil {
		return time.Time{}, time.Time{}, "", false
	}
	from, until, active := rw.Active(now)
	status = MaintenanceScheduled
	if active {
		status = MaintenanceInProgress
	}
	return from, until, status, true
}

// MaintenanceRunID names a run as every public surface does: "m<id>" for a
// one-off window, "m<id>-<unix start>" for a run of a recurring one.
func MaintenanceRunID(windowID int64, start time.Time, recurring bool) string {
	id := "m" + strconv.FormatInt(windowID, 10)
	if recurring {
		id += "-" + strconv.FormatInt(start.Unix(), 10)
	}
	return id
}
