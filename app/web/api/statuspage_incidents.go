package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
)

// v1IncidentIn is the body of POST and PATCH …/incidents, Statuspage's
// field names; absent fields change nothing. scheduled_auto_in_progress and
// scheduled_auto_completed are accepted and always true in effect: Pharos
// moves maintenance on by the clock.
type v1IncidentIn struct {
	Name                    *string           `json:"name"`
	Status                  *string           `json:"status"`
	ImpactOverride          *string           `json:"impact_override"`
	Body                    *string           `json:"body"`
	ComponentIDs            []string          `json:"component_ids"`
	Components              map[string]string `json:"components"`
	DeliverNotifications    *bool             `json:"deliver_notifications"`
	ScheduledFor            *string           `json:"scheduled_for"`
	ScheduledUntil          *string           `json:"scheduled_until"`
	ScheduledAutoInProgress *bool             `json:"scheduled_auto_in_progress"`
	ScheduledAutoCompleted  *bool             `json:"scheduled_auto_completed"`
	Backfilled              *bool             `json:"backfilled"`
	BackfillDate            *string           `json:"backfill_date"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// deliver is deliver_notifications, true unless said otherwise (as on
// Statuspage).
func (in v1IncidentIn) deliver() bool {
	return in.DeliverNotifications == nil || *in.DeliverNotifications
}

// scheduled reports whether the body describes a scheduled maintenance.
func (in v1IncidentIn) scheduled() bool {
	return in.ScheduledFor != nil || in.ScheduledUntil != nil || maintenanceStatus(deref(in.Status))
}

func maintenanceStatus(s string) bool {
	switch s {
	case store.MaintenanceScheduled, store.MaintenanceInProgress, store.MaintenanceVerifying, store.MaintenanceCompleted:
		return true
	}
	return false
}

// componentChanges turns components {id: status} and component_ids (linked
// at their current status) into the store's changes, in id order. An id
// that is not a component of the page is ErrNotFound.
func componentChanges(in v1IncidentIn, comps map[int64]store.PublicComponent) ([]store.ComponentStatusChange, error) {
	statuses := map[int64]string{}
	for raw, status := range in.Components {
		id, err := componentID(raw, comps)
		if err != nil {
			return nil, err
		}
		statuses[id] = status
	}
	for _, raw := range in.ComponentIDs {
		id, err := componentID(raw, comps)
		if err != nil {
			return nil, err
		}
		if _, ok := statuses[id]; !ok {
			statuses[id] = comps[id].Status
		}
	}
	out := make([]store.ComponentStatusChange, 0, len(statuses))
	for id, status := range statuses {
		out = append(out, store.ComponentStatusChange{ComponentID: id, Status: status})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ComponentID < out[j].ComponentID })
	return out, nil
}

func componentID(raw string, comps map[int64]store.PublicComponent) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if _, ok := comps[id]; err != nil || !ok {
		return 0, &notOnPage{what: "component", id: raw}
	}
	return id, nil
}

// notOnPage is an id the body names that is not on the page (or not the
// organisation's): answered 404 like a path id.
type notOnPage struct{ what, id string }

func (e *notOnPage) Error() string { return "api: " + e.what + " " + e.id + " is not on this page" }
func (e *notOnPage) Unwrap() error { return store.ErrNotFound }

// NotFoundMessage is the 404's text: which id of the body is unknown, so
// a script sees its own mistake rather than a bare "Not found."
func (e *notOnPage) NotFoundMessage() string { return e.what + " " + e.id + " is not on this page" }

// parseBackfillDate reads backfill_date: RFC 3339 or a day (YYYY-MM-DD,
// taken as midnight UTC).
func parseBackfillDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, &respond.ValidationError{Field: "backfill_date", Message: "want RFC 3339 (2026-11-30T08:00:00Z) or a day (2026-11-30)"}
	}
	return t, nil
}

// V1Incidents lists the page's incidents, newest first, then its
// maintenance windows; ?limit= caps the incidents (default and maximum 100).
func (s *API) V1Incidents(c echo.Context) error {
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return &respond.ValidationError{Field: "limit", Message: "want a positive number"}
		}
		limit = min(n, limit)
	}
	return s.listIncidents(c, store.IncidentFilter{Limit: limit}, true)
}

// V1UnresolvedIncidents lists the page's incidents that are not resolved.
func (s *API) V1UnresolvedIncidents(c echo.Context) error {
	return s.listIncidents(c, store.IncidentFilter{Unresolved: true}, false)
}

func (s *API) listIncidents(c echo.Context, f store.IncidentFilter, withMaintenance bool) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	list, err := s.st.PublicIncidents(ctx, p.OrgID, pg.ID, f)
	if err != nil {
		return err
	}
	out := make([]v1Incident, 0, len(list))
	for _, in := range list {
		out = append(out, toV1Incident(pg.PublicRoot(s.baseURL), pg, in, comps))
	}
	if withMaintenance {
		ms, err := s.maintenances(c, p, pg, comps, func(string) bool { return true })
		if err != nil {
			return err
		}
		out = append(out, ms...)
	}
	return c.JSON(http.StatusOK, out)
}

// writeIncident answers with the incident as stored now.
func (s *API) writeIncident(c echo.Context, p *auth.Principal, pg store.Page, id int64, code int) error {
	ctx := c.Request().Context()
	in, err := s.st.PublicIncident(ctx, p.OrgID, pg.ID, id)
	if err != nil {
		return err
	}
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	return c.JSON(code, toV1Incident(pg.PublicRoot(s.baseURL), pg, in, comps))
}

// V1Incident answers one incident, or a maintenance window ("m<id>").
func (s *API) V1Incident(c echo.Context) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	if strings.HasPrefix(c.Param("incident_id"), "m") {
		return s.v1Maintenance(c, p, pg)
	}
	id, err := parseID(c, "incident_id")
	if err != nil {
		return err
	}
	return s.writeIncident(c, p, pg, id, http.StatusOK)
}

// V1CreateIncident creates an incident (201), or a one-off maintenance
// window when the body has scheduled_for/scheduled_until or a maintenance
// status.
func (s *API) V1CreateIncident(c echo.Context) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	var in v1IncidentIn
	if err := decodeWrapped(c, "incident", &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	if in.scheduled() {
		return s.createMaintenance(c, p, pg, in, comps)
	}
	changes, err := componentChanges(in, comps)
	if err != nil {
		return err
	}
	n := store.NewIncident{PageID: pg.ID, Name: deref(in.Name), Status: deref(in.Status), Impact: deref(in.ImpactOverride),
		Body: deref(in.Body), Components: changes, DeliverNotifications: in.deliver(), Backfilled: deref(in.Backfilled)}
	if n.Status == "" {
		n.Status = store.IncidentInvestigating
	}
	if in.BackfillDate != nil {
		if n.StartedAt, err = parseBackfillDate(*in.BackfillDate); err != nil {
			return err
		}
	}
	w, err := s.st.CreateIncident(ctx, p.OrgID, p.Actor(), n)
	if err != nil {
		return asValidation(err)
	}
	s.pageChanged(ctx, w.PageSlug)
	return s.writeIncident(c, p, pg, w.IncidentID, http.StatusCreated)
}

// V1UpdateIncident changes an incident (PATCH or PUT): a status and/or a
// body (or component statuses) post an update, as on Statuspage; name and
// impact_override edit it. "m<id>" changes a maintenance window.
func (s *API) V1UpdateIncident(c echo.Context) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	if strings.HasPrefix(c.Param("incident_id"), "m") {
		return s.updateMaintenance(c, p, pg)
	}
	id, err := parseID(c, "incident_id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.st.PublicIncident(ctx, p.OrgID, pg.ID, id); err != nil {
		return err
	}
	var in v1IncidentIn
	if err := decodeWrapped(c, "incident", &in); err != nil {
		return err
	}
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	changes, err := componentChanges(in, comps)
	if err != nil {
		return err
	}
	if maintenanceStatus(deref(in.Status)) {
		return &respond.ValidationError{Field: "status", Message: "an incident's status is investigating, identified, monitoring or resolved"}
	}
	w, err := s.st.AddIncidentUpdate(ctx, p.OrgID, p.Actor(), id, store.IncidentChangeInput{
		Status: deref(in.Status), Body: deref(in.Body), Components: changes, DeliverNotifications: in.deliver(),
		Name: deref(in.Name), Impact: deref(in.ImpactOverride)})
	if err != nil {
		return asValidation(err)
	}
	s.pageChanged(ctx, w.PageSlug)
	return s.writeIncident(c, p, pg, id, http.StatusOK)
}

// V1DeleteIncident deletes an incident (or "m<id>", a maintenance window)
// and answers with what was deleted.
func (s *API) V1DeleteIncident(c echo.Context) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	if strings.HasPrefix(c.Param("incident_id"), "m") {
		return s.deleteMaintenance(c, p, pg)
	}
	id, err := parseID(c, "incident_id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	in, err := s.st.PublicIncident(ctx, p.OrgID, pg.ID, id)
	if err != nil {
		return err
	}
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	gone := toV1Incident(pg.PublicRoot(s.baseURL), pg, in, comps)
	w, err := s.st.DeleteIncident(ctx, p.OrgID, p.Actor(), id)
	if err != nil {
		return err
	}
	s.pageChanged(ctx, w.PageSlug)
	return c.JSON(http.StatusOK, gone)
}
