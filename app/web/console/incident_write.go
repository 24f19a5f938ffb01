package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Writing incidents from the console. Every form works without
// JavaScript: "Preview" posts the form back and renders it again with the
// body as the public page shows it; a refused value re-renders the form
// with the message and keeps what was typed.

const (
	maxNameLen = 200
	maxBodyLen = 20000
)

// NewIncident shows the composer for ?page=ID, prefilled from ?template=ID.
func (s *Console) NewIncident(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	pageID, err := strconv.ParseInt(c.QueryParam("page"), 10, 64)
	if err != nil {
		return fmt.Errorf("console: page %q: %w", c.QueryParam("page"), store.ErrNotFound)
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	form := views.IncidentForm{Status: store.IncidentInvestigating, Notify: true}
	chosen := map[int64]string{}
	if v := c.QueryParam("template"); v != "" {
		tid, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("console: template %q: %w", v, store.ErrNotFound)
		}
		t, err := s.st.IncidentTemplate(ctx, p.OrgID, tid)
		if err != nil {
			return err
		}
		if t.PageID != pg.ID {
			return fmt.Errorf("console: template %d of page %d: %w", tid, pg.ID, store.ErrNotFound)
		}
		form.Name, form.Body, form.Status, form.Impact = t.Title, t.Body, t.Status, t.Impact
		chosen = t.Components
	}
	d, err := s.composer(c, p, pg, comps, form, chosen)
	if err != nil {
		return err
	}
	return s.renderComposer(c, http.StatusOK, d)
}

// composer builds the composer's view model.
func (s *Console) composer(c echo.Context, p *auth.Principal, pg store.Page, comps []store.Component,
	form views.IncidentForm, chosen map[int64]string) (views.ComposerData, error) {
	tpls, err := s.st.IncidentTemplates(c.Request().Context(), p.OrgID, pg.ID)
	if err != nil {
		return views.ComposerData{}, err
	}
	d := views.ComposerData{Nav: adminNav(p), Page: pageOption(pg), TimeZone: pg.TimeZone, Form: form,
		Components: componentChoices(comps, chosen)}
	for _, t := range tpls {
		d.Templates = append(d.Templates, views.TemplateOption{ID: t.ID, Name: t.Name})
	}
	return d, nil
}

func (s *Console) renderComposer(c echo.Context, code int, d views.ComposerData) error {
	return respond.Render(c, code, views.IncidentComposer(respond.Layout(c, "New incident"), d))
}

// CreateIncident creates an incident from the composer (or previews it).
func (s *Console) CreateIncident(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
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
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	form := readIncidentForm(c)
	chosen, changes := formComponents(c, comps)
	d, err := s.composer(c, p, pg, comps, form, chosen)
	if err != nil {
		return err
	}
	if c.FormValue("action") == "preview" {
		d.PreviewHTML = previewOf(s.md, form.Body)
		return s.renderComposer(c, http.StatusOK, d)
	}
	started, msg := parseLocal(form.StartedAt, pageLocation(pg))
	if msg == "" {
		msg = checkIncidentForm(form, true)
	}
	if msg != "" {
		d.Error = msg
		return s.renderComposer(c, http.StatusUnprocessableEntity, d)
	}
	w, err := s.st.CreateIncident(ctx, p.OrgID, p.Actor(), store.NewIncident{
		PageID: pg.ID, Name: form.Name, Status: form.Status, Impact: form.Impact, Body: form.Body,
		Components: changes, DeliverNotifications: form.Notify, StartedAt: started,
	})
	if msg, ok := invalidMessage(err); ok {
		d.Error = msg
		return s.renderComposer(c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	s.pageChanged(ctx, w.PageSlug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/incidents/%d", w.IncidentID))
}

// readIncidentForm reads the composer's and the update form's fields.
func readIncidentForm(c echo.Context) views.IncidentForm {
	return views.IncidentForm{
		Name:      strings.TrimSpace(c.FormValue("name")),
		Status:    c.FormValue("status"),
		Impact:    c.FormValue("impact"),
		Body:      strings.TrimSpace(c.FormValue("body")),
		Notify:    c.FormValue("deliver_notifications") == "1",
		StartedAt: strings.TrimSpace(c.FormValue("started_at")),
	}
}

// checkIncidentForm returns what is wrong with a form, or "".
func checkIncidentForm(f views.IncidentForm, needName bool) string {
	switch {
	case needName && f.Name == "":
		return "Give the incident a title."
	case len(f.Name) > maxNameLen:
		return fmt.Sprintf("The title is too long (at most %d characters).", maxNameLen)
	case len(f.Body) > maxBodyLen:
		return fmt.Sprintf("The message is too long (at most %d characters).", maxBodyLen)
	}
	return ""
}

// parseLocal reads a datetime-local value in loc; "" is the zero time.
func parseLocal(v string, loc *time.Location) (time.Time, string) {
	if v == "" {
		return time.Time{}, ""
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, ""
		}
	}
	return time.Time{}, fmt.Sprintf("The start time %q is not a date and time such as 2026-11-30T14:05.", v)
}

// invalidMessage turns a value the store refused into a form message.
func invalidMessage(err error) (string, bool) {
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return ie.Message, true
	}
	return "", false
}

// previewOf renders a body as the public page does, or says it is empty.
func previewOf(md *respond.Markdown, body string) string {
	if body == "" {
		return "<p><em>(no message)</em></p>"
	}
	return md.HTML(body)
}
