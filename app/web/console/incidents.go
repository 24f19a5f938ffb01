package console

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// The console's incident screens: the list, one incident with its whole
// timeline (technical detail included), and the forms that write them.
// Every read and write is scoped by the principal's organisation.

// listLimit is how many incidents the list shows.
const listLimit = 100

// Incidents lists the organisation's drafts, open and recent incidents.
func (s *Console) Incidents(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pages, err := s.st.Pages(ctx, p.OrgID)
	if err != nil {
		return err
	}
	l := views.IncidentListData{Nav: adminNav(p)}
	for _, pg := range pages {
		l.Pages = append(l.Pages, pageOption(pg))
	}
	all, err := s.st.OrgIncidents(ctx, p.OrgID, listLimit)
	if err != nil {
		return err
	}
	for _, in := range all {
		row := views.IncidentRow{ID: in.ID, PageTitle: in.PageTitle, Name: in.Name, Status: in.Status,
			Impact: in.Impact, Started: formatTime(in.StartedAt), Automatic: in.Automatic, Draft: in.Draft}
		switch {
		case in.Draft:
			l.Drafts = append(l.Drafts, row)
		case in.ResolvedAt == nil && in.Status != store.IncidentPostmortem:
			l.Open = append(l.Open, row)
		default:
			l.Recent = append(l.Recent, row)
		}
	}
	return respond.Render(c, http.StatusOK, views.IncidentList(respond.Layout(c, "Incidents"), l))
}

// Incident shows one incident.
func (s *Console) Incident(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	d, err := s.incidentData(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return s.renderIncident(c, http.StatusOK, d)
}

func (s *Console) renderIncident(c echo.Context, code int, d views.IncidentDetailData) error {
	return respond.Render(c, code, views.AdminIncident(respond.Layout(c, d.Name), d))
}

// incidentData reads an incident of the principal's organisation into its
// console view, with an empty update form.
func (s *Console) incidentData(ctx context.Context, p *auth.Principal, id int64) (views.IncidentDetailData, error) {
	in, pg, err := s.consoleIncident(ctx, p.OrgID, id)
	if err != nil {
		return views.IncidentDetailData{}, err
	}
	d := views.IncidentDetailData{
		Nav: adminNav(p), ID: in.ID, Page: pageOption(pg), Name: in.Name, Status: in.Status, Impact: in.Impact,
		Started: formatTime(in.StartedAt), Automatic: in.Automatic, Draft: in.Draft,
		Postmortem: in.Postmortem, PostmortemHTML: s.md.HTML(in.Postmortem),
		Form: views.IncidentForm{Status: nextStatus(in.Status), Notify: true},
	}
	if in.ResolvedAt != nil {
		d.Resolved = formatTime(*in.ResolvedAt)
	}
	for _, u := range in.Updates {
		uv := views.AdminUpdateView{ID: u.ID, Status: u.Status, Body: u.Body, BodyHTML: s.md.HTML(u.Body),
			At: formatTime(u.DisplayAt), Notified: u.DeliverNotifications, Technical: u.Technical}
		if u.EditedAt != nil {
			uv.Edited = formatTime(*u.EditedAt)
		}
		for _, a := range u.Affected {
			uv.Affected = append(uv.Affected, views.AdminAffected{Name: a.Name, OldStatus: a.OldStatus, NewStatus: a.NewStatus})
		}
		d.Updates = append(d.Updates, uv)
	}
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.IncidentDetailData{}, err
	}
	d.Components = componentChoices(comps, nil)
	return d, nil
}

// consoleIncident reads one incident of the organisation, drafts and
// technical detail included, with its page.
func (s *Console) consoleIncident(ctx context.Context, orgID, id int64) (store.PublicIncident, store.Page, error) {
	in, err := s.st.ConsoleIncidentByID(ctx, orgID, id)
	if err != nil {
		return store.PublicIncident{}, store.Page{}, err
	}
	pg, err := s.st.Page(ctx, orgID, in.PageID)
	return in.PublicIncident, pg, err
}

// nextStatus is the status an update form suggests after status.
func nextStatus(status string) string {
	switch status {
	case store.IncidentInvestigating:
		return store.IncidentIdentified
	case store.IncidentIdentified:
		return store.IncidentMonitoring
	case store.IncidentMonitoring, store.IncidentResolved, store.IncidentPostmortem:
		return store.IncidentResolved
	}
	return store.IncidentInvestigating
}

func pageOption(pg store.Page) views.PageOption {
	return views.PageOption{ID: pg.ID, Title: pg.Title, Slug: pg.Slug}
}

// componentChoices lists a page's components with the statuses chosen for
// them (by id).
func componentChoices(comps []store.Component, chosen map[int64]string) []views.ComponentChoice {
	out := make([]views.ComponentChoice, 0, len(comps))
	for _, co := range comps {
		out = append(out, views.ComponentChoice{ID: co.ID, Name: co.Name, Current: co.Status, Chosen: chosen[co.ID]})
	}
	return out
}

// formComponents reads the component status fields of a form for a
// page's components: component_{id} = status ("" = not affected).
func formComponents(c echo.Context, comps []store.Component) (map[int64]string, []store.ComponentStatusChange) {
	chosen := map[int64]string{}
	var changes []store.ComponentStatusChange
	for _, co := range comps {
		v := c.FormValue("component_" + strconv.FormatInt(co.ID, 10))
		if v == "" {
			continue
		}
		chosen[co.ID] = v
		changes = append(changes, store.ComponentStatusChange{ComponentID: co.ID, Status: v})
	}
	return chosen, changes
}

// pageLocation is a page's time zone (UTC when unknown).
func pageLocation(pg store.Page) *time.Location {
	loc, err := time.LoadLocation(pg.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}
