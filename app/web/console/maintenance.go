package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Scheduled maintenance from the console: one-off windows (start, end, time
// zone) and recurring ones (cron, duration, time zone), with the next five
// runs shown before saving.

// nextRuns is how many runs the form shows before saving.
const nextRuns = 5

// commonZones are offered in the form's time zone list.
var commonZones = []string{"UTC", "Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York",
	"America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney"}

// Maintenance lists the organisation's maintenance windows.
func (s *Console) Maintenance(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pages, err := s.st.Pages(ctx, p.OrgID)
	if err != nil {
		return err
	}
	l := views.MaintenanceListData{Nav: adminNav(p)}
	now := time.Now()
	for _, pg := range pages {
		l.Pages = append(l.Pages, pageOption(pg))
		ws, err := s.st.MaintenanceWindows(ctx, p.OrgID, pg.ID)
		if err != nil {
			return err
		}
		comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
		if err != nil {
			return err
		}
		names := map[int64]string{}
		for _, co := range comps {
			names[co.ID] = co.Name
		}
		for _, w := range ws {
			row := views.MaintenanceRow{ID: w.ID, PageID: pg.ID, PageTitle: pg.Title, Name: w.Name, Status: w.Status,
				When: windowText(w), Next: "none"}
			var cs []string
			for _, id := range w.ComponentIDs {
				cs = append(cs, names[id])
			}
			row.Components = strings.Join(cs, ", ")
			if win, err := w.Window(); err == nil {
				if next := incident.NextOccurrences(win, now, 1); len(next) == 1 {
					row.Next = zoned(next[0].Start, w.TimeZone)
				}
			}
			l.Windows = append(l.Windows, row)
		}
	}
	return respond.Render(c, http.StatusOK, views.MaintenanceList(respond.Layout(c, "Maintenance"), l))
}

// NewMaintenance shows the form for ?page=ID.
func (s *Console) NewMaintenance(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	pageID, err := strconv.ParseInt(c.QueryParam("page"), 10, 64)
	if err != nil {
		return fmt.Errorf("console: page %q: %w", c.QueryParam("page"), store.ErrNotFound)
	}
	d, _, err := s.maintenanceForm(c, p, pageID)
	if err != nil {
		return err
	}
	return s.renderMaintenanceForm(c, http.StatusOK, d)
}

func (s *Console) maintenanceForm(c echo.Context, p *auth.Principal, pageID int64) (views.MaintenanceFormData, []store.Component, error) {
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return views.MaintenanceFormData{}, nil, err
	}
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.MaintenanceFormData{}, nil, err
	}
	return views.MaintenanceFormData{Nav: adminNav(p), Page: pageOption(pg), Components: componentChoices(comps, nil),
		Zones: commonZones, Form: views.MaintenanceForm{Kind: "once", TimeZone: pg.TimeZone}}, comps, nil
}

func (s *Console) renderMaintenanceForm(c echo.Context, code int, d views.MaintenanceFormData) error {
	return respond.Render(c, code, views.MaintenanceNew(respond.Layout(c, "Schedule maintenance"), d))
}

// CreateMaintenance saves a window, or shows its next runs.
func (s *Console) CreateMaintenance(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	pageID, err := strconv.ParseInt(c.FormValue("page_id"), 10, 64)
	if err != nil {
		return fmt.Errorf("console: page %q: %w", c.FormValue("page_id"), store.ErrNotFound)
	}
	d, comps, err := s.maintenanceForm(c, p, pageID)
	if err != nil {
		return err
	}
	f := views.MaintenanceForm{Name: strings.TrimSpace(c.FormValue("name")), Body: strings.TrimSpace(c.FormValue("body")),
		Kind: c.FormValue("kind"), Start: c.FormValue("start"), End: c.FormValue("end"),
		Schedule: strings.TrimSpace(c.FormValue("schedule")), Duration: strings.TrimSpace(c.FormValue("duration")),
		TimeZone: strings.TrimSpace(c.FormValue("timezone")), Components: map[int64]bool{}}
	w := store.MaintenanceWindow{PageID: pageID, Name: f.Name, Body: f.Body, TimeZone: f.TimeZone}
	for _, co := range comps {
		if c.FormValue("component_"+strconv.FormatInt(co.ID, 10)) == "1" {
			f.Components[co.ID] = true
			w.ComponentIDs = append(w.ComponentIDs, co.ID)
		}
	}
	d.Form = f
	if msg := fillWindow(&w, f); msg != "" {
		d.Error = msg
		return s.renderMaintenanceForm(c, http.StatusUnprocessableEntity, d)
	}
	if c.FormValue("action") == "preview" {
		win, err := w.Window()
		if msg, ok := windowMessage(err); ok {
			d.Error = msg
			return s.renderMaintenanceForm(c, http.StatusUnprocessableEntity, d)
		}
		d.Previewed = true
		for _, o := range incident.NextOccurrences(win, time.Now(), nextRuns) {
			d.Next = append(d.Next, views.OccurrenceView{Start: o.Start, End: o.End,
				Local: zoned(o.Start, w.TimeZone) + " – " + zoned(o.End, w.TimeZone)})
		}
		return s.renderMaintenanceForm(c, http.StatusOK, d)
	}
	ctx := c.Request().Context()
	_, err = s.st.CreateMaintenance(ctx, p.OrgID, p.Actor(), w)
	if msg, ok := windowMessage(err); ok {
		d.Error = msg
		return s.renderMaintenanceForm(c, http.StatusUnprocessableEntity, d)
	}
	if errors.Is(err, store.ErrConflict) {
		d.Error = "A maintenance window of that name exists on this page already."
		return s.renderMaintenanceForm(c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	s.pageChanged(ctx, d.Page.Slug)
	return c.Redirect(http.StatusSeeOther, "/admin/maintenance")
}

// DeleteMaintenance deletes a window.
func (s *Console) DeleteMaintenance(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	pageID, err := strconv.ParseInt(c.FormValue("page_id"), 10, 64)
	if err != nil {
		return fmt.Errorf("console: page %q: %w", c.FormValue("page_id"), store.ErrNotFound)
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	if err := s.st.DeleteMaintenance(ctx, p.OrgID, p.Actor(), pg.ID, id); err != nil {
		return err
	}
	s.pageChanged(ctx, pg.Slug)
	return c.Redirect(http.StatusSeeOther, "/admin/maintenance")
}

// fillWindow reads the form's when into w; it returns a message for what
// cannot even be parsed (the store validates the rest).
func fillWindow(w *store.MaintenanceWindow, f views.MaintenanceForm) string {
	loc, err := incident.LoadZone(f.TimeZone)
	if err != nil {
		return fmt.Sprintf("%q is not a time zone such as Europe/Berlin.", f.TimeZone)
	}
	if f.Kind == "recurring" {
		d, err := time.ParseDuration(f.Duration)
		if err != nil || d <= 0 {
			return fmt.Sprintf("The duration %q is not a length of time such as 2h or 90m.", f.Duration)
		}
		w.Schedule, w.Duration = f.Schedule, d
		if w.Schedule == "" {
			return "Give the recurring window a schedule, such as 0 8 * * THU."
		}
		return ""
	}
	start, msg := parseLocal(f.Start, loc)
	if msg != "" {
		return msg
	}
	end, msg := parseLocal(f.End, loc)
	if msg != "" {
		return msg
	}
	if start.IsZero() || end.IsZero() {
		return "Give the window a start and an end."
	}
	w.StartsAt, w.EndsAt = &start, &end
	return ""
}

// windowMessage turns a window the store or the parser refused into a form
// message.
func windowMessage(err error) (string, bool) {
	var we *incident.WindowError
	if errors.As(err, &we) {
		return we.Field + ": " + we.Message, true
	}
	return invalidMessage(err)
}

// windowText describes when a window runs.
func windowText(w store.MaintenanceWindow) string {
	if w.Schedule != "" {
		return fmt.Sprintf("%s for %s (%s)", w.Schedule, w.Duration, w.TimeZone)
	}
	if w.StartsAt == nil || w.EndsAt == nil {
		return ""
	}
	return zoned(*w.StartsAt, w.TimeZone) + " – " + zoned(*w.EndsAt, w.TimeZone)
}

// zoned formats t in the named zone with the zone's abbreviation.
func zoned(t time.Time, zone string) string {
	loc, err := incident.LoadZone(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
}
