package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Editing the catalogue (pages, component groups, components, checks) in
// the browser. Validation and writes are apply's (apply.SavePage, …), so a
// form accepts and refuses what `pharos apply` does, in its words; a
// refused form comes back with 422 and each message beside its field.

// formFields reads a form's values for keys.
func formFields(c echo.Context, keys []string) apply.Fields {
	f := apply.Fields{}
	for _, k := range keys {
		f[k] = c.FormValue(k)
	}
	return f
}

// fieldErrors maps a refused form's mistakes by key; ok is false when err
// is not a refused form.
func fieldErrors(err error) (map[string]string, bool) {
	fes := apply.FormError(err)
	if fes == nil {
		return nil, false
	}
	out := map[string]string{}
	for _, fe := range fes {
		if out[fe.Path] == "" {
			out[fe.Path] = fe.Message
		}
	}
	return out, true
}

func (s *Console) changed(ctx context.Context, slug string) {
	if s.pageChanged != nil && slug != "" {
		s.pageChanged(ctx, slug)
	}
}

// paramID reads a numeric path parameter; anything else is not found.
func paramID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("console: %s %q: %w", name, c.Param(name), store.ErrNotFound)
	}
	return id, nil
}

// PageNew shows the form for a new status page.
func (s *Console) PageNew(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	f := views.CatalogForm{Nav: adminNav(p), New: true, Action: "/admin/pages", Cancel: "/admin/", Zones: commonZones,
		Values: map[string]string{"timezone": "UTC", "auto_incidents": store.AutoPublish, "public_detail": store.DetailPlain}}
	return respond.Render(c, http.StatusOK, views.PageForm(respond.Layout(c, "New status page"), f))
}

// PageCreate creates a status page.
func (s *Console) PageCreate(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	f := formFields(c, apply.PageKeys)
	saved, err := apply.SavePage(c.Request().Context(), s.st, s.limits, p.OrgID, p.Actor(), 0, f)
	if errs, ok := fieldErrors(err); ok {
		d := views.CatalogForm{Nav: adminNav(p), New: true, Action: "/admin/pages", Cancel: "/admin/", Zones: commonZones,
			Values: f, Errors: errs}
		return respond.Render(c, http.StatusUnprocessableEntity, views.PageForm(respond.Layout(c, "New status page"), d))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d", saved.ID))
}

// pageForm is the edit form of a page with its groups.
func (s *Console) pageForm(ctx context.Context, p *auth.Principal, pg store.Page) (views.CatalogForm, error) {
	groups, err := s.st.ComponentGroups(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.CatalogForm{}, err
	}
	f := views.CatalogForm{Nav: adminNav(p), Page: pageOption(pg), Action: fmt.Sprintf("/admin/pages/%d", pg.ID),
		Cancel: fmt.Sprintf("/admin/pages/%d", pg.ID), Delete: fmt.Sprintf("/admin/pages/%d/delete", pg.ID),
		Values: apply.PageValues(pg), Managed: pg.Managed, Zones: commonZones}
	for _, g := range groups {
		f.Groups = append(f.Groups, views.GroupRow{ID: g.ID, Name: g.Name, Position: strconv.Itoa(g.Position), Managed: g.Managed})
	}
	if f.Domain, err = s.domainClaim(ctx, p.OrgID, pg); err != nil {
		return views.CatalogForm{}, err
	}
	return f, nil
}

// PageEdit shows a page's form and its component groups.
func (s *Console) PageEdit(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	f, err := s.pageForm(ctx, p, pg)
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.PageForm(respond.Layout(c, "Edit "+pg.Title), f))
}

// PageUpdate saves a page's settings.
func (s *Console) PageUpdate(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	values := formFields(c, apply.PageKeys)
	saved, err := apply.SavePage(ctx, s.st, s.limits, p.OrgID, p.Actor(), id, values)
	if errs, ok := fieldErrors(err); ok {
		f, ferr := s.pageForm(ctx, p, pg)
		if ferr != nil {
			return ferr
		}
		f.Values, f.Errors = values, errs
		return respond.Render(c, http.StatusUnprocessableEntity, views.PageForm(respond.Layout(c, "Edit "+pg.Title), f))
	}
	if err != nil {
		return err
	}
	s.changed(ctx, pg.Slug)
	s.changed(ctx, saved.Slug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d", id))
}

// PageDelete deletes a page and everything on it.
func (s *Console) PageDelete(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	saved, err := apply.DeletePage(c.Request().Context(), s.st, p.OrgID, p.Actor(), id)
	if err != nil {
		return err
	}
	s.changed(c.Request().Context(), saved.Slug)
	return c.Redirect(http.StatusSeeOther, "/admin/")
}

// GroupCreate adds a component group to a page.
func (s *Console) GroupCreate(c echo.Context) error { return s.saveGroup(c, false) }

// GroupUpdate renames or moves a component group.
func (s *Console) GroupUpdate(c echo.Context) error { return s.saveGroup(c, true) }

func (s *Console) saveGroup(c echo.Context, existing bool) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	var id int64
	if existing {
		if id, err = paramID(c, "group"); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	values := formFields(c, apply.GroupKeys)
	_, err = apply.SaveGroup(ctx, s.st, p.OrgID, p.Actor(), pg.ID, id, values)
	if errs, ok := fieldErrors(err); ok {
		f, ferr := s.pageForm(ctx, p, pg)
		if ferr != nil {
			return ferr
		}
		f.GroupErrors = map[int64]map[string]string{id: errs}
		f.GroupValues = map[int64]map[string]string{id: values}
		return respond.Render(c, http.StatusUnprocessableEntity, views.PageForm(respond.Layout(c, "Edit "+pg.Title), f))
	}
	if err != nil {
		return err
	}
	s.changed(ctx, pg.Slug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d/edit#groups", pg.ID))
}

// GroupDelete deletes a component group; its components stay, ungrouped.
func (s *Console) GroupDelete(c echo.Context) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	id, err := paramID(c, "group")
	if err != nil {
		return err
	}
	saved, err := apply.DeleteGroup(c.Request().Context(), s.st, p.OrgID, p.Actor(), pageID, id)
	if err != nil {
		return err
	}
	s.changed(c.Request().Context(), saved.Slug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d/edit#groups", pageID))
}
