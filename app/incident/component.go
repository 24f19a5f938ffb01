package incident

// Component statuses, Statuspage's vocabulary (DESIGN §4).
const (
	Operational         = "operational"
	DegradedPerformance = "degraded_performance"
	PartialOutage       = "partial_outage"
	MajorOutage         = "major_outage"
	UnderMaintenance    = "under_maintenance"
)

// ComponentStatus maps the states of a component's checks to its status:
// under maintenance wins; every check down is a major outage, some down a
// partial outage; any degraded is degraded performance; otherwise
// operational (a component with no judged check is operational: there is no
// evidence against it).
func ComponentStatus(checks []State, inMaintenance bool) string {
	if inMaintenance {
		return UnderMaintenance
	}
	var down, degraded, judged int
	for _, s := range checks {
		switch s {
		case Down:
			down++
			judged++
		case Degraded:
			degraded++
			judged++
		case Up:
			judged++
		}
	}
	switch {
	case down > 0 && down == judged:
		return MajorOutage
	case down > 0:
		return PartialOutage
	case degraded > 0:
		return DegradedPerformance
	}
	return Operational
}

// Indicator is a page's overall status, Statuspage's status.indicator and
// status.description.
type Indicator struct {
	Indicator   string // none, minor, major, critical, maintenance
	Description string
}

// PageIndicator summarises a page's component statuses the way Statuspage
// does: by the worst of them.
func PageIndicator(statuses []string) Indicator {
	worst := Operational
	for _, s := range statuses {
		worst = WorseStatus(worst, s)
	}
	switch worst {
	case MajorOutage:
		return Indicator{"critical", "Major System Outage"}
	case PartialOutage:
		return Indicator{"major", "Partial System Outage"}
	case DegradedPerformance:
		return Indicator{"minor", "Minor Service Outage"}
	case UnderMaintenance:
		return Indicator{"maintenance", "Service Under Maintenance"}
	}
	return Indicator{"none", "All Systems Operational"}
}

// WorseStatus returns the more severe of two component statuses; under
// maintenance outranks only operational, and any outage outranks it.
func WorseStatus(a, b string) string {
	if statusRank(b) > statusRank(a) || (a == Operational && b == UnderMaintenance) {
		return b
	}
	return a
}

func statusRank(s string) int {
	switch s {
	case DegradedPerformance:
		return 1
	case PartialOutage:
		return 2
	case MajorOutage:
		return 3
	}
	return 0
}
