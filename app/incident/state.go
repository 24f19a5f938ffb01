// Package incident is the pure core of Pharos's judgement: from per-region
// probe states to a check's state (quorum, confirm rounds, region health),
// from checks to a component's Statuspage status, whether a maintenance
// window is active, and what an incident should do on a transition. No I/O:
// everything here is a function over values, tested with tables.
package incident

import "sort"

// State is a probe or check state.
type State string

// The states, from best to worst; Unknown means no usable report.
const (
	Unknown  State = "unknown"
	Up       State = "up"
	Degraded State = "degraded"
	Down     State = "down"
	// Misconfigured is a check the prober may not carry out (the SSRF
	// guard refuses its target): operators see it; it opens no incident
	// and, like Unknown, counts for nothing in its component's status.
	Misconfigured State = "misconfigured"
)

// Report is the latest word of one region on one check.
type Report struct {
	Region string
	State  State
	// Streak is how many consecutive rounds this region has reported State.
	Streak int
}

// Policy is how many regions must agree, for how long.
type Policy struct {
	// Quorum is how many healthy regions must report down; 0 means a
	// majority of the check's regions.
	Quorum int
	// Confirm is how many consecutive rounds a region must report down
	// before its vote counts; 0 means 2.
	Confirm int
}

// DefaultConfirm is the confirm rounds used when a policy leaves it at 0.
const DefaultConfirm = 2

// Evaluation is the verdict on one check.
type Evaluation struct {
	State State
	// DownRegions are the healthy regions whose confirmed down votes counted.
	DownRegions []string
	// Quorum is the number of votes that was needed.
	Quorum int
	// Excluded are regions whose reports were ignored because the region
	// itself is unhealthy.
	Excluded []string
}

// Evaluate judges a check from its regions' reports (DESIGN §4), given the
// state it was in before (prev).
//
// Trouble counts only once confirmed: a region's down or degraded report is
// a vote after it has lasted Confirm consecutive rounds, so one round from
// one region changes nothing the public sees. A check is down when at
// least Quorum healthy regions report down, confirmed; degraded when some
// healthy region's trouble is confirmed — or when the check is already in
// trouble and a healthy region still reports trouble (a region moving from
// degraded to down starts a new streak and must not flip the check up for
// a round); up when healthy regions report and none of that holds; unknown
// when no healthy region has reported.
//
// regions are the check's configured regions, used for the default quorum
// (a majority of them). When fewer healthy regions remain than that quorum,
// the quorum becomes a majority of the healthy ones: the vantage points left
// are the only credible ones, and a check must still be able to go down
// while one region's network is broken.
func Evaluate(prev State, reports []Report, regions []string, healthy func(region string) bool, p Policy) Evaluation {
	confirm := p.Confirm
	if confirm <= 0 {
		confirm = DefaultConfirm
	}
	quorum := p.Quorum
	if quorum <= 0 {
		quorum = majority(len(regions))
	}
	var ev Evaluation
	var usable []Report
	for _, r := range reports {
		if healthy != nil && !healthy(r.Region) {
			ev.Excluded = append(ev.Excluded, r.Region)
			continue
		}
		if r.State == Unknown || r.State == "" {
			continue
		}
		usable = append(usable, r)
	}
	if len(usable) == 0 {
		ev.State = Unknown
		ev.Quorum = quorum
		return ev
	}
	if len(usable) < quorum {
		quorum = majority(len(usable))
	}
	ev.Quorum = quorum
	holding := prev == Degraded || prev == Down
	trouble := false
	for _, r := range usable {
		if r.State != Down && r.State != Degraded {
			continue
		}
		confirmed := r.Streak >= confirm
		trouble = trouble || confirmed || holding
		if r.State == Down && confirmed {
			ev.DownRegions = append(ev.DownRegions, r.Region)
		}
	}
	sort.Strings(ev.DownRegions)
	sort.Strings(ev.Excluded)
	switch {
	case len(ev.DownRegions) >= quorum:
		ev.State = Down
	case trouble:
		ev.State = Degraded
	default:
		ev.State = Up
	}
	return ev
}

func majority(n int) int {
	if n <= 0 {
		return 1
	}
	return n/2 + 1
}

// NextStreak is the streak of a region after a new report: one more when
// the state repeats, 1 when it changes.
func NextStreak(prev State, prevStreak int, now State) int {
	if prev == now && prevStreak > 0 {
		return prevStreak + 1
	}
	return 1
}

// Worst returns the worse of two states (Down > Degraded > Up > Unknown).
func Worst(a, b State) State {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func rank(s State) int {
	switch s {
	case Up:
		return 1
	case Degraded:
		return 2
	case Down:
		return 3
	}
	return 0
}
