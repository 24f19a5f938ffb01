package incident

import (
	"fmt"
	"sort"
	"strings"
)

// maxTechnicalLines bounds the problem lines of one check's technical
// detail: four CDN nodes × three regions × a few codes stay readable.
const maxTechnicalLines = 20

// technicalDetail is the console's view of a component's trouble
// (Markdown): per check its name, full URL, state and regions, then each
// distinct problem with its code, severity, node, the regions reporting it
// and the probe's own message.
func technicalDetail(t Trouble) string {
	var b strings.Builder
	checks := append([]CheckTrouble(nil), t.Checks...)
	sort.Slice(checks, func(i, j int) bool { return checks[i].ID < checks[j].ID })
	for i, c := range checks {
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "**%s** (%s) is %s", c.Name, c.URL, c.State)
		if len(c.Regions) > 0 {
			fmt.Fprintf(&b, " from %s", strings.Join(c.Regions, ", "))
		}
		b.WriteString(".")
		for _, line := range problemLines(c.Problems) {
			b.WriteString("\n- " + line)
		}
	}
	if len(t.Excluded) > 0 {
		fmt.Fprintf(&b, "\n\nNot counted (probe region unhealthy): %s.", strings.Join(t.Excluded, ", "))
	}
	return b.String()
}

// problemLines merges the regions of identical problems: "`cert_expired`
// [critical] on 203.0.113.7:443 (fra, iad): certificate … expired …".
func problemLines(problems []Finding) []string {
	type key struct{ code, severity, node, message string }
	regions := map[key][]string{}
	var order []key
	for _, p := range problems {
		k := key{p.Code, p.Severity, p.Node, p.Message}
		if _, ok := regions[k]; !ok {
			order = append(order, k)
		}
		regions[k] = append(regions[k], p.Region)
	}
	var lines []string
	for _, k := range order {
		if len(lines) == maxTechnicalLines {
			lines = append(lines, fmt.Sprintf("… and %d more", len(order)-maxTechnicalLines))
			break
		}
		line := "`" + k.code + "` [" + k.severity + "]"
		if k.node != "" {
			line += " on " + k.node
		}
		rs := regions[k]
		sort.Strings(rs)
		lines = append(lines, line+" ("+strings.Join(rs, ", ")+"): "+k.message)
	}
	return lines
}

// Update words an update of an open automatic incident: what happened
// (worse, better, different) before the current description.
func Update(action Action, now Text) string {
	switch action {
	case Worsen:
		return "The problem has become worse. " + now.Body
	case Improve:
		return "The problem is partly resolved. " + now.Body
	}
	return "The problem has changed. " + now.Body
}

// Recovered is the public text of an automatic incident's resolution.
func Recovered(component string) string {
	return component + " is working normally again."
}

// SameKinds reports whether two wordings tell of the same kinds of trouble.
func SameKinds(a, b []Kind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// StatusImpact is the Statuspage impact that agrees with a component
// status (issue 8): a major outage is critical, a partial outage major,
// degraded performance minor.
func StatusImpact(status string) string {
	switch status {
	case MajorOutage:
		return "critical"
	case PartialOutage:
		return "major"
	case DegradedPerformance:
		return "minor"
	}
	return "none"
}
