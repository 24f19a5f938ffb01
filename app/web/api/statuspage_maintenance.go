package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/web/auth"
)

// Scheduled maintenance through the incidents endpoints, as on Statuspage:
// a window is an incident with status scheduled, in_progress, verifying or
// completed, the scheduled_* fields set and the string id "m<id>". A
// one-off window is created by POSTing scheduled_for and scheduled_until;
// a recurring one (from the console or `pharos apply`) shows its current or
// next run. The clock moves windows on (scheduled_auto_in_progress and
// scheduled_auto_completed are always true).

// maintenanceID is a window's id in the API.
func maintenanceID(id int64) string { return "m" + strconv.FormatInt(id, 10) }

// toV1Maintenance shapes a window as a Statuspage scheduled incident.
func toV1Maintenance(root string, pg store.Page, w store.MaintenanceWindow, comps map[int64]store.PublicComponent, now time.Time) (v1Incident, bool) {
	from, until, status, ok := w.RunAt(now)
	if !ok {
		return v1Incident{}, false
	}
	id := maintenanceID(w.ID)
	created, updated := v1At(w.CreatedAt), v1At(w.UpdatedAt)
	out := v1Incident{ID: id, Components: []v1Component{}, CreatedAt: created, Impact: "maintenance", Metadata: map[string]any{},
		Name: w.Name, PageID: v1ID(w.PageID), ScheduledAutoCompleted: true, ScheduledAutoInProgress: true,
		ScheduledFor: v1AtPtr(&from), ScheduledUntil: v1AtPtr(&until), Shortlink: root + "/",
		Status: status, UpdatedAt: updated, StartedAt: v1At(from)}
	if status == store.MaintenanceCompleted {
		out.ResolvedAt = v1AtPtr(&until)
	}
	var affected []v1Affected
	for _, cid := range w.ComponentIDs {
		if pc, ok := comps[cid]; ok {
			out.Components = append(out.Components, toV1PublicComponent(pc))
			affected = append(affected, v1Affected{Code: v1ID(cid), Name: pc.Name, OldStatus: incident.Operational, NewStatus: incident.UnderMaintenance})
		}
	}
	out.IncidentUpdates = []v1Update{{ID: id + "u", IncidentID: id, AffectedComponents: affected, Body: w.Body, CreatedAt: created,
		DeliverNotifications: true, DisplayAt: created, Status: store.MaintenanceScheduled, UpdatedAt: updated}}
	return out, true
}

// maintenances lists the page's windows whose current status keep accepts.
func (s *API) maintenances(c echo.Context, p *auth.Principal, pg store.Page, comps map[int64]store.PublicComponent, keep func(string) bool) ([]v1Incident, error) {
	ws, err := s.st.MaintenanceWindows(c.Request().Context(), p.OrgID, pg.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := []v1Incident{}
	for _, w := range ws {
		if m, ok := toV1Maintenance(pg.PublicRoot(s.baseURL), pg, w, comps, now); ok && keep(m.Status) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *API) listMaintenances(c echo.Context, keep func(string) bool) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	comps, _, err := s.pageComponents(c.Request().Context(), p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	out, err := s.maintenances(c, p, pg, comps, keep)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// V1ScheduledIncidents lists every maintenance window of the page.
func (s *API) V1ScheduledIncidents(c echo.Context) error {
	return s.listMaintenances(c, func(string) bool { return true })
}

// V1UpcomingIncidents lists the windows that have not started.
func (s *API) V1UpcomingIncidents(c echo.Context) error {
	return s.listMaintenances(c, func(st string) bool { return st == store.MaintenanceScheduled })
}

// V1ActiveMaintenance lists the windows in progress (or being verified).
func (s *API) V1ActiveMaintenance(c echo.Context) error {
	return s.listMaintenances(c, func(st string) bool {
		return st == store.MaintenanceInProgress || st == store.MaintenanceVerifying
	})
}

// maintenanceParam reads "m<id>" from the path.
func maintenanceParam(c echo.Context) (int64, error) {
	raw := strings.TrimPrefix(c.Param("incident_id"), "m")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, &notOnPage{what: "maintenance", id: c.Param("incident_id")}
	}
	return id, nil
}
