package incident

import "time"

// Action is what the aggregator must do about a check's incident after a
// new evaluation.
type Action string

// The actions.
const (
	None    Action = ""
	Open    Action = "open"    // open an incident and alert
	Worsen  Action = "worsen"  // the open incident got worse (degraded → down): update and alert
	Improve Action = "improve" // better but not fixed (down → degraded): update, no alert
	Resolve Action = "resolve" // the check recovered: resolve the incident and tell subscribers
	Repeat  Action = "repeat"  // still broken and the repeat interval passed: alert again
	Change  Action = "change"  // as broken as before but in another way (other problems, impact): update, no alert
)

// Situation is what the aggregator knows when a check's evaluation arrives.
type Situation struct {
	Prev, Now     State
	InMaintenance bool
	// IncidentOpen reports whether an automatic incident for this check is open.
	IncidentOpen bool
	// Acknowledged: an operator acknowledged the open incident; repeats stop.
	Acknowledged bool
	// LastAlert is when the last alert for the open incident was sent.
	LastAlert time.Time
	// RepeatEvery is the operator's repeat schedule for a firing alert (0: never).
	RepeatEvery time.Duration
	// At is the time of the evaluation.
	At time.Time
	// Changed: the open incident's wording or impact no longer matches
	// what the probes report (other kinds of trouble, another component
	// status), so its text would go stale without an update.
	Changed bool
}

// Decide returns what to do (DESIGN §4): incidents open when a check turns
// down (or degraded) outside maintenance, change with it, resolve when it is
// up again; an alert that keeps firing is repeated on the operator's
// schedule, not every round, until acknowledged or resolved. During a
// maintenance window nothing opens and nothing alerts; an incident already
// open still resolves.
func Decide(s Situation) Action {
	broken := s.Now == Down || s.Now == Degraded
	switch {
	case !s.IncidentOpen && broken && !s.InMaintenance:
		return Open
	case s.IncidentOpen && s.Now == Up:
		return Resolve
	case !s.IncidentOpen:
		return None
	case s.InMaintenance:
		return None
	case rank(s.Now) > rank(s.Prev) && s.Prev != Unknown:
		return Worsen
	case rank(s.Now) < rank(s.Prev) && broken:
		return Improve
	case broken && s.Changed:
		return Change
	case broken && !s.Acknowledged && s.RepeatEvery > 0 && !s.LastAlert.IsZero() &&
		!s.At.Before(s.LastAlert.Add(s.RepeatEvery)):
		return Repeat
	}
	return None
}

// Impact is the Statuspage impact of an automatic incident in state s.
func Impact(s State) string {
	switch s {
	case Down:
		return "major"
	case Degraded:
		return "minor"
	}
	return "none"
}

// ImpactState is the inverse of Impact: the check state an automatic
// incident of that impact stands for (an open incident's previous state).
func ImpactState(impact string) State {
	switch impact {
	case "major", "critical":
		return Down
	case "minor":
		return Degraded
	}
	return Up
}
