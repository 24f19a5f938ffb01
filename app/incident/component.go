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
// does.
func PageIndicator(statuses []string) Indicator {
	worst := 0
	maintenance := false
	for _, s := range statuses {
		switch s {
		case DegradedPerformance:
			worst = max(worst, 1)
		case PartialOutage:
			worst = max(worst, 2)
		case MajorOutage:
			worst = max(worst, 3)
		case UnderMaintenance:
			maintenance = true
		}
	}
	switch worst {
	case 3:
		return Indicator{"critical", "Major System Outage"}
	case 2:
		return Indicator{"major", "Partial System Outage"}
	case 1:
		return Indicator{"minor", "Minor Service Outage"}
	}
	if maintenance {
		return Indicator{"maintenance", "Service Under Maintenance"}
	}
	return Indicator{"none", "All Systems Operational"}
}
