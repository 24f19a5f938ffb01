package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Incident templates: per page, reusable titles, bodies, statuses and
// component statuses that prefill the composer.

// Templates lists a page's incident templates with a form to add one.
func (s *Console) Templates(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	d, err := s.templateData(c, p, id)
	if err != nil {
		return err
	}
	return s.renderTemplates(c, http.StatusOK, d)
}

func (s *Console) templateData(c echo.Context, p *auth.Principal, pageID int64) (views.TemplateData, error) {
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return views.TemplateData{}, err
	}
	tpls, err := s.st.IncidentTemplates(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.TemplateData{}, err
	}
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.TemplateData{}, err
	}
	d := views.TemplateData{Nav: adminNav(p), Page: pageOption(pg), Components: componentChoices(comps, nil),
		Form: views.TemplateView{Status: store.IncidentInvestigating}}
	for _, t := range tpls {
		d.Templates = append(d.Templates, views.TemplateView{ID: t.ID, Name: t.Name, Title: t.Title, Body: t.Body,
			Status: t.Status, Impact: t.Impact})
	}
	return d, nil
}

func (s *Console) renderTemplates(c echo.Context, code int, d views.TemplateData) error {
	return respond.Render(c, code, views.IncidentTemplates(respond.Layout(c, "Incident templates"), d))
}

// SaveTemplate creates a template, or replaces the page's template of the
// same name.
func (s *Console) SaveTemplate(c echo.Context) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	d, err := s.templateData(c, p, pageID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	comps, err := s.st.Components(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	chosen, _ := formComponents(c, comps)
	f := readIncidentForm(c)
	t := store.IncidentTemplate{PageID: pageID, Name: strings.TrimSpace(c.FormValue("template_name")),
		Title: f.Name, Body: f.Body, Status: f.Status, Impact: f.Impact, Components: chosen}
	for _, existing := range d.Templates {
		if existing.Name == t.Name {
			t.ID = existing.ID
		}
	}
	_, err = s.st.SaveIncidentTemplate(ctx, p.OrgID, p.Actor(), t)
	if msg, ok := invalidMessage(err); ok || errors.Is(err, store.ErrConflict) {
		if !ok {
			msg = "A template of that name exists already."
		}
		d.Error = msg
		d.Form = views.TemplateView{Name: t.Name, Title: t.Title, Body: t.Body, Status: t.Status, Impact: t.Impact}
		d.Components = componentChoices(comps, chosen)
		return s.renderTemplates(c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d/templates", pageID))
}

// DeleteTemplate deletes one of the page's templates.
func (s *Console) DeleteTemplate(c echo.Context) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("template"), 10, 64)
	if err != nil {
		return fmt.Errorf("console: template %q: %w", c.Param("template"), store.ErrNotFound)
	}
	ctx := c.Request().Context()
	t, err := s.st.IncidentTemplate(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	if t.PageID != pageID {
		return fmt.Errorf("console: template %d of page %d: %w", id, pageID, store.ErrNotFound)
	}
	if err := s.st.DeleteIncidentTemplate(ctx, p.OrgID, p.Actor(), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d/templates", pageID))
}
