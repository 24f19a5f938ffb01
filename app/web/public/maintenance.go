package public

import (
	"sort"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// occurrence is one maintenance as the public sees it: a one-off window, or
// one run of a recurring one.
type occurrence struct {
	window store.MaintenanceWindow
	id     string
	status string // scheduled, in_progress, verifying, completed
	from   time.Time
	until  time.Time
}

// Maintenance statuses (Statuspage's vocabulary).
const (
	maintScheduled  = "scheduled"
	maintInProgress = "in_progress"
	maintVerifying  = "verifying"
	maintCompleted  = "completed"
)

// recentMaintenanceUpdates is how many maintenance updates a snapshot
// reads: the feeds' maintenance entries and the history's past runs.
const recentMaintenanceUpdates = 100

// occurrences lists the snapshot's maintenances at its load time: in
// progress first, then by start; then the past runs of recurring windows
// that the snapshot's updates know of (the history shows them), oldest
// first.
func (sn *snapshot) occurrences() []occurrence {
	out := maintenanceOccurrences(sn.maintenance, sn.loadedAt)
	return append(out, pastRuns(sn.maintenance, sn.maintenanceUpdates, out)...)
}

// pastRuns are the completed runs of recurring windows that updates record
// and current does not already hold.
func pastRuns(ws []store.MaintenanceWindow, updates []store.MaintenanceUpdate, current []occurrence) []occurrence {
	seen := map[string]bool{}
	for _, o := range current {
		seen[o.id] = true
	}
	byID := map[int64]store.MaintenanceWindow{}
	for _, w := range ws {
		byID[w.ID] = w
	}
	var out []occurrence
	for _, u := range updates {
		w, ok := byID[u.MaintenanceID]
		if !ok || w.Schedule == "" || u.Status != maintCompleted {
			continue
		}
		o := recurring(w, u.OccurrenceStart, u.OccurrenceEnd, maintCompleted)
		if !seen[o.id] {
			seen[o.id] = true
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].from.Before(out[j].from) })
	return out
}

// occurrenceID names a run as the public documents do (store.MaintenanceRunID).
func occurrenceID(w store.MaintenanceWindow, start time.Time) string {
	return store.MaintenanceRunID(w.ID, start, w.Schedule != "")
}

// maintenanceOccurrences computes, at now, each one-off window and the
// current (or next) run of each recurring window plus the run after it.
// A one-off window's stored status wins once an operator moved it on
// (verifying, completed); otherwise the clock decides.
func maintenanceOccurrences(ws []store.MaintenanceWindow, now time.Time) []occurrence {
	var out []occurrence
	for _, w := range ws {
		from, until, status, ok := w.RunAt(now)
		if !ok {
			continue
		}
		if w.Schedule == "" {
			out = append(out, occurrence{window: w, id: occurrenceID(w, from), status: status, from: from, until: until})
			continue
		}
		out = append(out, recurring(w, from, until, status))
		rw, err := incident.ParseWindow(w.Schedule, w.Duration, w.TimeZone) // RunAt read it already
		if err != nil {
			continue
		}
		next, nextEnd := rw.Next(until)
		if next.Equal(from) { // Next(end) can return the same run when it is still in progress at end
			next, nextEnd = rw.Next(until.Add(time.Second))
		}
		out = append(out, recurring(w, next, nextEnd, maintScheduled))
	}
	sort.SliceStable(out, func(i, j int) bool {
		ai, aj := out[i].status == maintInProgress || out[i].status == maintVerifying, out[j].status == maintInProgress || out[j].status == maintVerifying
		if ai != aj {
			return ai
		}
		return out[i].from.Before(out[j].from)
	})
	return out
}

func recurring(w store.MaintenanceWindow, from, until time.Time, status string) occurrence {
	return occurrence{window: w, id: occurrenceID(w, from), status: status, from: from, until: until}
}
