package public

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/views"
)

// Building the view models of the public pages from a snapshot: pure, no I/O.

// noDataText is a component's status on the page while none of its checks
// has ever been judged (the Statuspage JSON keeps its stored status).
const noDataText = "No data yet"

// componentStatusText words a component status for people.
func componentStatusText(status string) string {
	switch status {
	case incident.Operational:
		return "Operational"
	case incident.DegradedPerformance:
		return "Degraded performance"
	case incident.PartialOutage:
		return "Partial outage"
	case incident.MajorOutage:
		return "Major outage"
	case incident.UnderMaintenance:
		return "Under maintenance"
	}
	return status
}

// incidentStatusText words an incident or maintenance status for people.
func incidentStatusText(status string) string {
	switch status {
	case "in_progress":
		return "In progress"
	case "":
		return ""
	}
	return strings.ToUpper(status[:1]) + status[1:]
}

// impactStatus is the component status whose page indicator matches an
// unresolved incident's impact, so incident.PageIndicator words both.
func impactStatus(impact string) (string, bool) {
	switch impact {
	case "minor":
		return incident.DegradedPerformance, true
	case "major":
		return incident.PartialOutage, true
	case "critical":
		return incident.MajorOutage, true
	}
	return "", false
}

// overallStatus is Statuspage's page status: the worst of the components'
// statuses and the unresolved incidents' impacts.
func (sn *snapshot) overallStatus() incident.Indicator {
	statuses := make([]string, 0, len(sn.components))
	for _, c := range sn.components {
		statuses = append(statuses, c.Status)
	}
	for _, in := range sn.unresolved() {
		if s, ok := impactStatus(in.Impact); ok {
			statuses = append(statuses, s)
		}
	}
	return incident.PageIndicator(statuses)
}

// pageView builds the status page.
func (s *Site) pageView(sn *snapshot, base string, stale bool) views.PublicPage {
	ind := sn.overallStatus()
	p := views.PublicPage{
		Frame:  s.frame(sn, base, sn.page.Title, stale),
		Status: views.StatusView{Indicator: ind.Indicator, Description: ind.Description},
		Days:   barDays,
	}
	for _, in := range sn.unresolved() {
		p.Incidents = append(p.Incidents, s.incidentView(sn, in, base))
	}
	for _, o := range sn.occurrences() {
		if o.status == maintCompleted || (o.status == maintScheduled && o.from.After(sn.loadedAt.Add(7*24*time.Hour))) {
			continue
		}
		p.Maintenance = append(p.Maintenance, s.maintenanceView(sn, o))
	}
	perComponent := sn.incidentsByComponent()
	byGroup := map[int64][]views.ComponentView{}
	var ungrouped []views.ComponentView
	for _, c := range sn.components {
		if c.OnlyShowIfDegraded && c.Status == incident.Operational {
			continue
		}
		cv := sn.componentView(c, perComponent[c.ID])
		if c.GroupID == nil {
			ungrouped = append(ungrouped, cv)
		} else {
			byGroup[*c.GroupID] = append(byGroup[*c.GroupID], cv)
		}
	}
	if len(ungrouped) > 0 {
		p.Groups = append(p.Groups, views.GroupView{Components: ungrouped})
	}
	for _, g := range sn.groups {
		cs := byGroup[g.ID]
		if len(cs) == 0 {
			continue
		}
		worst, noData := incident.Operational, true
		for _, c := range cs {
			worst, noData = incident.WorseStatus(worst, c.Status), noData && c.NoData
		}
		gv := views.GroupView{Name: g.Name, Status: worst, StatusText: componentStatusText(worst), Components: cs}
		if noData {
			gv.Status, gv.StatusText = "no_data", noDataText
		}
		p.Groups = append(p.Groups, gv)
	}
	return p
}

func (s *Site) frame(sn *snapshot, base, title string, stale bool) views.PublicFrame {
	return views.PublicFrame{PageTitle: sn.page.Title, Title: title, Base: base, Live: s.bus != nil,
		Stale: stale, UpdatedAt: sn.local(sn.updatedAt()), Now: sn.local(sn.loadedAt)}
}

// local is t in the page's time zone, in which the HTML shows every time.
func (sn *snapshot) local(t time.Time) time.Time {
	if sn.loc == nil {
		return t.UTC()
	}
	return t.In(sn.loc)
}

// incidentsByComponent lists, per component, the incidents that affected it.
func (sn *snapshot) incidentsByComponent() map[int64][]store.PublicIncident {
	out := map[int64][]store.PublicIncident{}
	for _, in := range sn.incidents {
		for _, c := range in.Components {
			out[c.ComponentID] = append(out[c.ComponentID], in)
		}
	}
	return out
}

// componentView builds a component row with its uptime bar. The uptime
// is over the monitored time of the bar's days (store.UptimeOver): days
// without data count neither way. A component whose checks were never
// judged and that has no uptime data says "No data yet" instead of its
// initial status.
func (sn *snapshot) componentView(c store.PublicComponent, incidents []store.PublicIncident) views.ComponentView {
	cv := views.ComponentView{ID: c.ID, Name: c.Name, Description: c.Description, Status: c.Status,
		StatusText: componentStatusText(c.Status), ShowBar: c.Showcase}
	uptime, hasData := store.UptimeOver(sn.days[c.ID])
	if sn.unjudged[c.ID] && !hasData && c.Status == incident.Operational {
		cv.NoData, cv.StatusText = true, noDataText
	}
	if !c.Showcase {
		return cv
	}
	byDay := map[time.Time]store.ComponentDay{}
	for _, d := range sn.days[c.ID] {
		byDay[d.Day] = d
	}
	first := sn.today.AddDate(0, 0, -(barDays - 1))
	cv.Days = make([]views.DayView, 0, barDays)
	for day := first; !day.After(sn.today); day = day.AddDate(0, 0, 1) {
		cv.Days = append(cv.Days, dayView(day, byDay[day], incidentsOn(day, incidents, sn.loadedAt), sn.loc))
	}
	if !hasData {
		cv.UptimeText = noDataText
	} else {
		cv.UptimeText = percent(uptime) + " uptime over the last " + strconv.Itoa(barDays) + " days"
	}
	return cv
}

// incidentsOn returns the incidents that were open during day.
func incidentsOn(day time.Time, incidents []store.PublicIncident, now time.Time) []store.PublicIncident {
	end := day.AddDate(0, 0, 1)
	var out []store.PublicIncident
	for _, in := range incidents {
		until := now
		if in.ResolvedAt != nil {
			until = *in.ResolvedAt
		}
		if in.StartedAt.Before(end) && !until.Before(day) {
			out = append(out, in)
		}
	}
	return out
}

// impactLevel is the bar level of a day with an incident of this impact.
func impactLevel(impact string) string {
	switch impact {
	case "minor":
		return "w"
	case "major":
		return "p"
	case "critical":
		return "m"
	}
	return ""
}

// levelRank orders bar levels by severity.
func levelRank(level string) int {
	switch level {
	case "w":
		return 1
	case "p":
		return 2
	case "m":
		return 3
	}
	return 0
}

// dayView is one day (UTC) of a bar: its level and its tooltip text, which
// names each incident with its start in the page's zone loc.
func dayView(day time.Time, d store.ComponentDay, incidents []store.PublicIncident, loc *time.Location) views.DayView {
	var v views.DayView
	var b strings.Builder
	b.WriteString(day.Format("2 Jan"))
	if !d.HasData() {
		v.Level = "n"
		b.WriteString(" no data")
	} else {
		u := d.Uptime()
		switch {
		case u >= 100:
		case u >= 99:
			v.Level = "w"
		case u >= 95:
			v.Level = "p"
		default:
			v.Level = "m"
		}
		b.WriteByte(' ')
		b.WriteString(percent(u))
	}
	for _, in := range incidents {
		if l := impactLevel(in.Impact); l != "" && levelRank(l) > levelRank(v.Level) {
			v.Level = l
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	names := make([]string, 0, len(incidents))
	for _, in := range incidents {
		names = append(names, in.Name+" (started "+views.Stamp(in.StartedAt.In(loc))+")")
	}
	switch len(incidents) {
	case 0:
	case 1:
		fmt.Fprintf(&b, ", 1 incident: %s", names[0])
	default:
		fmt.Fprintf(&b, ", %d incidents: %s", len(incidents), strings.Join(names, "; "))
	}
	v.Text = b.String()
	return v
}

// percent formats an uptime without ever rounding a bad day up to 100%.
func percent(u float64) string {
	if u >= 100 {
		return "100%"
	}
	s := strconv.FormatFloat(u, 'f', 2, 64)
	if s == "100.00" {
		s = "99.99"
	}
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// incidentView builds an incident with its whole timeline, its times in
// the page's zone.
func (s *Site) incidentView(sn *snapshot, in store.PublicIncident, base string) views.IncidentView {
	v := views.IncidentView{ID: in.ID, URL: base + "/incidents/" + strconv.FormatInt(in.ID, 10), Name: in.Name,
		Status: in.Status, StatusText: incidentStatusText(in.Status), Impact: in.Impact,
		StartedAt: sn.local(in.StartedAt), Postmortem: s.md.HTML(in.Postmortem)}
	if in.ResolvedAt != nil {
		resolved := sn.local(*in.ResolvedAt)
		v.ResolvedAt = &resolved
	}
	for _, u := range in.Updates {
		v.Updates = append(v.Updates, views.UpdateView{Status: u.Status, StatusText: incidentStatusText(u.Status),
			BodyHTML: s.md.HTML(u.Body), At: sn.local(u.DisplayAt), Edited: u.EditedAt != nil})
	}
	for _, c := range in.Components {
		v.Components = append(v.Components, c.Name)
	}
	return v
}

func (s *Site) maintenanceView(sn *snapshot, o occurrence) views.MaintenanceView {
	v := views.MaintenanceView{Name: o.window.Name, Status: o.status, StatusText: incidentStatusText(o.status),
		From: sn.local(o.from), Until: sn.local(o.until), BodyHTML: s.md.HTML(o.window.Body)}
	for _, c := range sn.componentsByID(o.window.ComponentIDs) {
		v.Components = append(v.Components, c.Name)
	}
	return v
}

func (sn *snapshot) componentsByID(ids []int64) []store.PublicComponent {
	var out []store.PublicComponent
	for _, id := range ids {
		for _, c := range sn.components {
			if c.ID == id {
				out = append(out, c)
			}
		}
	}
	return out
}
