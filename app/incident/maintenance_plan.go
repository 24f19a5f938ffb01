package incident

import "time"

// Maintenance statuses (Statuspage's vocabulary).
const (
	MaintenanceScheduled  = "scheduled"
	MaintenanceInProgress = "in_progress"
	MaintenanceVerifying  = "verifying"
	MaintenanceCompleted  = "completed"
)

// Effect is what a maintenance step does to the window's components.
type Effect int

// The effects of a step.
const (
	// NoEffect leaves the components alone (an announcement, or a run the
	// tick only learned of after it ended).
	NoEffect Effect = iota
	// EnterMaintenance puts the components under maintenance.
	EnterMaintenance
	// LeaveMaintenance gives the components back to their checks.
	LeaveMaintenance
)

// MaintenanceStep is one public update the maintenance tick writes: the
// run it is about, its status, when it is shown, and its effect.
type MaintenanceStep struct {
	Run       Occurrence
	Status    string
	DisplayAt time.Time
	Effect    Effect
}

// MaintenanceRuns is what the tick knows of one window.
type MaintenanceRuns struct {
	Window Window
	// Status is the stored status. For a one-off window an operator may
	// have set verifying (still running) or completed (finished early, or
	// cancelled before it began); the clock never moves a window backwards.
	Status string
	// Since is when the window was created: runs over by then get no
	// updates (nobody was told of them in time).
	Since time.Time
	// Done reports whether the update (run start, status) exists already.
	Done func(start time.Time, status string) bool
}

// maxRunsPerTick bounds the past runs one tick looks at: a window whose
// schedule fires more often than that within the lookback is caught up
// from its most recent runs only.
const maxRunsPerTick = 50

// PlanMaintenance decides, at now, the updates a window is missing and the
// status it should have. Each run that has begun gets an in_progress
// update (shown at its start) and, once over, a completed one (shown at
// its end, or now when an operator completed it early); the next run not
// yet begun gets a scheduled announcement (shown now); an operator's
// verifying gets its update (shown now) while the run lasts. Only a step written
// while its run is in progress enters maintenance, and only a completed
// step whose in_progress was written before leaves it, so a run the tick
// missed entirely changes no component. Runs that began before now-lookback
// are left alone. Status is "" when the stored one is right.
func PlanMaintenance(m MaintenanceRuns, now time.Time, lookback time.Duration) (steps []MaintenanceStep, status string) {
	w := m.Window
	done := m.Done
	if done == nil {
		done = func(time.Time, string) bool { return false }
	}
	oneOffOver := !w.Recurring() && m.Status == MaintenanceCompleted
	from := now.Add(-lookback)
	if m.Since.After(from) {
		from = m.Since
	}
	runs := Occurrences(w, from, now.Add(time.Nanosecond), 1<<20)
	if len(runs) > maxRunsPerTick {
		runs = runs[len(runs)-maxRunsPerTick:]
	}
	running := false
	for _, r := range runs {
		inProgress := now.Before(r.End) && !oneOffOver
		running = running || inProgress
		began := done(r.Start, MaintenanceInProgress)
		if !began {
			if oneOffOver {
				continue // cancelled before it began: nothing to tell
			}
			effect := NoEffect
			if inProgress {
				effect = EnterMaintenance
			}
			at := r.Start
			if at.Before(m.Since) {
				at = m.Since
			}
			steps = append(steps, MaintenanceStep{Run: r, Status: MaintenanceInProgress, DisplayAt: at, Effect: effect})
		}
		if inProgress && m.Status == MaintenanceVerifying && !done(r.Start, MaintenanceVerifying) {
			steps = append(steps, MaintenanceStep{Run: r, Status: MaintenanceVerifying, DisplayAt: now})
		}
		if !inProgress && !done(r.Start, MaintenanceCompleted) {
			effect, at := NoEffect, r.End
			if began {
				effect = LeaveMaintenance
			}
			if at.After(now) {
				at = now
			}
			steps = append(steps, MaintenanceStep{Run: r, Status: MaintenanceCompleted, DisplayAt: at, Effect: effect})
		}
	}
	if !oneOffOver {
		for _, r := range NextOccurrences(w, now, 2) {
			if r.Start.After(now) {
				if !done(r.Start, MaintenanceScheduled) {
					steps = append(steps, MaintenanceStep{Run: r, Status: MaintenanceScheduled, DisplayAt: now})
				}
				break
			}
		}
	}
	return steps, maintenanceStatus(w, m.Status, running, now)
}

// maintenanceStatus is the window's status after the tick, "" when the
// stored one stays.
func maintenanceStatus(w Window, stored string, running bool, now time.Time) string {
	want := stored
	switch {
	case w.Recurring() && running:
		if stored != MaintenanceVerifying {
			want = MaintenanceInProgress
		}
	case w.Recurring():
		want = MaintenanceScheduled
	case stored == MaintenanceCompleted:
	case running:
		if stored != MaintenanceVerifying {
			want = MaintenanceInProgress
		}
	case !now.Before(w.end):
		want = MaintenanceCompleted
	default:
		want = MaintenanceScheduled
	}
	if want == stored {
		return ""
	}
	return want
}

// MaintenanceUpdateBody is the public text of an automatic maintenance
// update (Statuspage's wording); a scheduled announcement carries the
// window's own body when it has one.
func MaintenanceUpdateBody(status, windowBody string) string {
	switch status {
	case MaintenanceInProgress:
		return "Scheduled maintenance is currently in progress. We will provide updates as necessary."
	case MaintenanceVerifying:
		return "Verification is currently underway for the maintenance items."
	case MaintenanceCompleted:
		return "The scheduled maintenance has been completed."
	}
	if windowBody != "" {
		return windowBody
	}
	return "Maintenance is scheduled."
}

// MaintenanceActive reports whether a window with this stored status
// covers t: a recurring window follows its schedule; a one-off window runs
// from its start to its end unless an operator completed it.
func MaintenanceActive(w Window, status string, t time.Time) bool {
	if !w.Recurring() && status == MaintenanceCompleted {
		return false
	}
	_, _, active := w.Active(t)
	return active
}
