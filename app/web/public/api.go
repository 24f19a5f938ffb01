package public

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/store"
)

// The Statuspage v2-compatible API (DESIGN §8, a contract): the same field
// names, status values and nulls as Statuspage, so existing clients and
// aggregators read Pharos pages unchanged. Ids are strings, as there.

// Documents lists the documents under /api/v2/.
func Documents() []string {
	return []string{
		"summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
		"scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json",
	}
}

// statuspageTime is Statuspage's timestamp format: RFC 3339 with
// milliseconds, here always in UTC.
const statuspageTime = "2006-01-02T15:04:05.000Z07:00"

type spPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type spStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type spComponent struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Status             string   `json:"status"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          string   `json:"updated_at"`
	Position           int      `json:"position"`
	Description        *string  `json:"description"`
	Showcase           bool     `json:"showcase"`
	StartDate          *string  `json:"start_date"`
	GroupID            *string  `json:"group_id"`
	PageID             string   `json:"page_id"`
	Group              bool     `json:"group"`
	OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
	Components         []string `json:"components,omitempty"` // a group's members, as on Statuspage
}

type spIncident struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Status          string        `json:"status"`
	CreatedAt       string        `json:"created_at"`
	UpdatedAt       string        `json:"updated_at"`
	MonitoringAt    *string       `json:"monitoring_at"`
	ResolvedAt      *string       `json:"resolved_at"`
	Impact          string        `json:"impact"`
	Shortlink       string        `json:"shortlink"`
	StartedAt       string        `json:"started_at"`
	PageID          string        `json:"page_id"`
	IncidentUpdates []spUpdate    `json:"incident_updates"`
	Components      []spComponent `json:"components"`
	ScheduledFor    *string       `json:"scheduled_for,omitempty"`
	ScheduledUntil  *string       `json:"scheduled_until,omitempty"`
	// ReminderIntervals is Statuspage's maintenance reminder schedule:
	// always null here (Pharos sends no reminders); absent on incidents.
	ReminderIntervals json.RawMessage `json:"reminder_intervals,omitempty"`
}

type spUpdate struct {
	ID                   string       `json:"id"`
	Status               string       `json:"status"`
	Body                 string       `json:"body"`
	IncidentID           string       `json:"incident_id"`
	CreatedAt            string       `json:"created_at"`
	UpdatedAt            string       `json:"updated_at"`
	DisplayAt            string       `json:"display_at"`
	AffectedComponents   []spAffected `json:"affected_components"`
	DeliverNotifications bool         `json:"deliver_notifications"`
	// Statuspage's tweet fields, always null: clients that read them
	// find the key.
	CustomTweet *string `json:"custom_tweet"`
	TweetID     *string `json:"tweet_id"`
}

type spAffected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

func apiTime(t time.Time) string { return t.UTC().Format(statuspageTime) }

func apiTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := apiTime(*t)
	return &s
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// groupID keeps group ids apart from component ids: Statuspage lists both
// in one array.
func groupID(id int64) string { return "g" + strconv.FormatInt(id, 10) }

// API serves one Statuspage v2 document (see Documents).
func (s *Site) API(name string) echo.HandlerFunc {
	key := "api:" + name
	return func(c echo.Context) error {
		return s.servePublic(c, key, func(_ context.Context, st *pageState, pr publicReq) (*rendered, error) {
			body, err := json.Marshal(apiDocument(st.snap, pr, name))
			if err != nil {
				return nil, err
			}
			return newRendered(body, "application/json", pageCacheControl(st.stale)), nil
		})
	}
}

// apiDocument builds one endpoint's document; key order follows Statuspage.
func apiDocument(sn *snapshot, pr publicReq, name string) any {
	page := spPage{ID: idString(sn.page.ID), Name: sn.page.Title, URL: pr.root, TimeZone: sn.page.TimeZone,
		UpdatedAt: apiTime(sn.updatedAt())}
	ind := sn.overallStatus()
	status := spStatus{Indicator: ind.Indicator, Description: ind.Description}
	type pageOnly struct {
		Page spPage `json:"page"`
	}
	switch name {
	case "summary.json":
		return struct {
			Page                  spPage        `json:"page"`
			Components            []spComponent `json:"components"`
			Incidents             []spIncident  `json:"incidents"`
			ScheduledMaintenances []spIncident  `json:"scheduled_maintenances"`
			Status                spStatus      `json:"status"`
		}{page, sn.apiComponents(), sn.apiIncidents(sn.unresolved(), pr), sn.apiMaintenances(pr, upcomingOrActive), status}
	case "status.json":
		return struct {
			Page   spPage   `json:"page"`
			Status spStatus `json:"status"`
		}{page, status}
	case "components.json":
		return struct {
			Page       spPage        `json:"page"`
			Components []spComponent `json:"components"`
		}{page, sn.apiComponents()}
	case "incidents.json":
		return incidentsDoc(page, sn.apiIncidents(sn.recent(), pr))
	case "incidents/unresolved.json":
		return incidentsDoc(page, sn.apiIncidents(sn.unresolved(), pr))
	case "scheduled-maintenances.json":
		return maintenanceDoc(page, sn.apiMaintenances(pr, func(string) bool { return true }))
	case "scheduled-maintenances/upcoming.json":
		return maintenanceDoc(page, sn.apiMaintenances(pr, func(s string) bool { return s == maintScheduled }))
	case "scheduled-maintenances/active.json":
		return maintenanceDoc(page, sn.apiMaintenances(pr, func(s string) bool { return s == maintInProgress || s == maintVerifying }))
	}
	return pageOnly{page}
}

func upcomingOrActive(s string) bool { return s != maintCompleted }

func incidentsDoc(page spPage, in []spIncident) any {
	return struct {
		Page      spPage       `json:"page"`
		Incidents []spIncident `json:"incidents"`
	}{page, in}
}

func maintenanceDoc(page spPage, m []spIncident) any {
	return struct {
		Page                  spPage       `json:"page"`
		ScheduledMaintenances []spIncident `json:"scheduled_maintenances"`
	}{page, m}
}

func (sn *snapshot) apiComponent(c store.PublicComponent, position int) spComponent {
	a := spComponent{ID: idString(c.ID), Name: c.Name, Status: c.Status, CreatedAt: apiTime(c.CreatedAt),
		UpdatedAt: apiTime(c.UpdatedAt), Position: position, Showcase: c.Showcase, PageID: idString(c.PageID),
		OnlyShowIfDegraded: c.OnlyShowIfDegraded}
	if c.Description != "" {
		a.Description = &c.Description
	}
	if c.StartDate != nil {
		d := c.StartDate.Format("2006-01-02")
		a.StartDate = &d
	}
	if c.GroupID != nil {
		g := groupID(*c.GroupID)
		a.GroupID = &g
	}
	return a
}

// apiComponents lists groups (group: true, with their members' ids) and
// components, each group followed by its members, in display order.
// Positions are Statuspage's: 1-based and page-wide, so no two entries
// share one.
func (sn *snapshot) apiComponents() []spComponent {
	out := make([]spComponent, 0, len(sn.components)+len(sn.groups))
	members := map[int64][]store.PublicComponent{}
	next := func() int { return len(out) + 1 }
	for _, c := range sn.components {
		if c.GroupID == nil {
			out = append(out, sn.apiComponent(c, next()))
		} else {
			members[*c.GroupID] = append(members[*c.GroupID], c)
		}
	}
	for _, g := range sn.groups {
		cs := members[g.ID]
		worst := incident.Operational
		ids := make([]string, 0, len(cs))
		for _, c := range cs {
			ids = append(ids, idString(c.ID))
			worst = incident.WorseStatus(worst, c.Status)
		}
		out = append(out, spComponent{ID: groupID(g.ID), Name: g.Name, Status: worst, CreatedAt: apiTime(g.CreatedAt),
			UpdatedAt: apiTime(g.UpdatedAt), Position: next(), PageID: idString(g.PageID), Group: true, Components: ids})
		for _, c := range cs {
			out = append(out, sn.apiComponent(c, next()))
		}
	}
	return out
}

// apiComponentsByID lists the components with these ids as apiComponents
// shows them (same positions).
func (sn *snapshot) apiComponentsByID(ids []int64) []spComponent {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[idString(id)] = true
	}
	out := []spComponent{}
	for _, c := range sn.apiComponents() {
		if !c.Group && want[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

func (sn *snapshot) apiIncidents(list []store.PublicIncident, pr publicReq) []spIncident {
	out := make([]spIncident, 0, len(list))
	for _, in := range list {
		a := spIncident{ID: idString(in.ID), Name: in.Name, Status: in.Status, CreatedAt: apiTime(in.CreatedAt),
			UpdatedAt: apiTime(in.UpdatedAt), MonitoringAt: apiTimePtr(in.MonitoringAt), ResolvedAt: apiTimePtr(in.ResolvedAt),
			Impact: in.Impact, Shortlink: pr.root + "/incidents/" + idString(in.ID), StartedAt: apiTime(in.StartedAt),
			PageID: idString(in.PageID), IncidentUpdates: make([]spUpdate, 0, len(in.Updates)), Components: []spComponent{}}
		for _, u := range in.Updates {
			au := spUpdate{ID: idString(u.ID), Status: u.Status, Body: u.Body, IncidentID: idString(in.ID),
				CreatedAt: apiTime(u.CreatedAt), UpdatedAt: apiTime(u.UpdatedAt), DisplayAt: apiTime(u.DisplayAt),
				DeliverNotifications: u.DeliverNotifications}
			for _, c := range u.Affected {
				au.AffectedComponents = append(au.AffectedComponents, spAffected{Code: idString(c.ComponentID), Name: c.Name,
					OldStatus: c.OldStatus, NewStatus: c.NewStatus})
			}
			a.IncidentUpdates = append(a.IncidentUpdates, au)
		}
		ids := make([]int64, 0, len(in.Components))
		for _, c := range in.Components {
			ids = append(ids, c.ComponentID)
		}
		a.Components = sn.apiComponentsByID(ids)
		out = append(out, a)
	}
	return out
}

// apiMaintenances lists maintenances whose status keep accepts.
func (sn *snapshot) apiMaintenances(pr publicReq, keep func(status string) bool) []spIncident {
	out := []spIncident{}
	for _, o := range sn.occurrences() {
		if !keep(o.status) {
			continue
		}
		w := o.window
		a := spIncident{ID: o.id, Name: w.Name, Status: o.status, CreatedAt: apiTime(w.CreatedAt), UpdatedAt: apiTime(w.UpdatedAt),
			Impact: "maintenance", Shortlink: pr.root + "/", StartedAt: apiTime(o.from), PageID: idString(w.PageID),
			ScheduledFor: apiTimePtr(&o.from), ScheduledUntil: apiTimePtr(&o.until), ReminderIntervals: json.RawMessage("null")}
		if o.status == maintCompleted {
			a.ResolvedAt = apiTimePtr(&o.until)
		}
		a.IncidentUpdates = sn.apiMaintenanceUpdates(o)
		a.Components = sn.apiComponentsByID(w.ComponentIDs)
		out = append(out, a)
	}
	return out
}

// apiMaintenanceUpdates are a run's recorded steps, newest first, each with
// what it did to the components; a run with none recorded yet (scheduled,
// or before the first tick) shows its announcement as its one update.
func (sn *snapshot) apiMaintenanceUpdates(o occurrence) []spUpdate {
	names := map[int64]string{}
	for _, c := range sn.components {
		names[c.ID] = c.Name
	}
	var out []spUpdate
	for _, u := range sn.maintenanceUpdates {
		if u.MaintenanceID != o.window.ID || !u.OccurrenceStart.Equal(o.from) {
			continue
		}
		su := spUpdate{ID: o.id + "u" + strconv.FormatInt(u.ID, 10), Status: u.Status, Body: u.Body, IncidentID: o.id,
			CreatedAt: apiTime(u.CreatedAt), UpdatedAt: apiTime(u.CreatedAt), DisplayAt: apiTime(u.DisplayAt),
			DeliverNotifications: true}
		for _, a := range u.Affected {
			su.AffectedComponents = append(su.AffectedComponents, spAffected{Code: idString(a.ComponentID),
				Name: names[a.ComponentID], OldStatus: a.OldStatus, NewStatus: a.NewStatus})
		}
		out = append(out, su)
	}
	if len(out) > 0 {
		return out
	}
	w, display := o.window, o.window.UpdatedAt
	if o.status != maintScheduled {
		display = o.from
	}
	return []spUpdate{{ID: o.id + "u", Status: o.status, Body: w.Body, IncidentID: o.id, CreatedAt: apiTime(display),
		UpdatedAt: apiTime(display), DisplayAt: apiTime(display), DeliverNotifications: true}}
}

// corsAllowHeaders are the request headers a page on another origin may
// send with its fetches of the public documents: the cache and validator
// headers browsers add for fetch(url, {cache: "no-cache"}) and
// conditional requests, and EventSource's Last-Event-ID.
const corsAllowHeaders = "Accept, Accept-Language, Cache-Control, Content-Type, If-Modified-Since, If-None-Match, Last-Event-ID, Pragma"

// Preflight answers a CORS preflight (OPTIONS) for a public document:
// any origin may read them, with the headers above; browsers keep the
// answer for a day.
func (s *Site) Preflight(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", "86400")
	return c.NoContent(http.StatusNoContent)
}
