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

// Components and checks, created on a page and edited by id.

// componentForm is a component form on pg, with the page's groups.
func (s *Console) componentForm(ctx context.Context, p *auth.Principal, pg store.Page) (views.CatalogForm, error) {
	groups, err := s.st.ComponentGroups(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.CatalogForm{}, err
	}
	f := views.CatalogForm{Nav: adminNav(p), Page: pageOption(pg), ManagedPage: pg.Managed, Values: map[string]string{},
		New: true, Action: fmt.Sprintf("/admin/pages/%d/components", pg.ID), Cancel: fmt.Sprintf("/admin/pages/%d", pg.ID)}
	for _, g := range groups {
		f.Groups = append(f.Groups, views.GroupRow{ID: g.ID, Name: g.Name, Position: strconv.Itoa(g.Position)})
	}
	return f, nil
}

// withComponent turns a component form into comp's edit form.
func withComponent(f views.CatalogForm, comp store.Component) views.CatalogForm {
	f.New, f.Managed, f.Values = false, comp.Managed, apply.ComponentValues(comp)
	f.Action = fmt.Sprintf("/admin/components/%d", comp.ID)
	f.Cancel = fmt.Sprintf("/admin/components/%d", comp.ID)
	f.Delete = fmt.Sprintf("/admin/components/%d/delete", comp.ID)
	return f
}

// ComponentNew shows the form for a new component on a page.
func (s *Console) ComponentNew(c echo.Context) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	f, err := s.componentForm(ctx, p, pg)
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.ComponentForm(respond.Layout(c, "New component"), f))
}

// ComponentCreate adds a component to a page.
func (s *Console) ComponentCreate(c echo.Context) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	values := formFields(c, apply.ComponentKeys)
	saved, err := apply.SaveComponent(ctx, s.st, s.limits, p.OrgID, p.Actor(), pg.ID, 0, values)
	if errs, ok := fieldErrors(err); ok {
		f, ferr := s.componentForm(ctx, p, pg)
		if ferr != nil {
			return ferr
		}
		f.Values, f.Errors = values, errs
		return respond.Render(c, http.StatusUnprocessableEntity, views.ComponentForm(respond.Layout(c, "New component"), f))
	}
	if err != nil {
		return err
	}
	s.changed(ctx, saved.Slug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/components/%d", saved.ID))
}

// ComponentEdit shows a component's form.
func (s *Console) ComponentEdit(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	comp, err := s.st.Component(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	pg, err := s.st.Page(ctx, p.OrgID, comp.PageID)
	if err != nil {
		return err
	}
	f, err := s.componentForm(ctx, p, pg)
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.ComponentForm(respond.Layout(c, "Edit "+comp.Name), withComponent(f, comp)))
}

// ComponentUpdate saves a component.
func (s *Console) ComponentUpdate(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	comp, err := s.st.Component(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	pg, err := s.st.Page(ctx, p.OrgID, comp.PageID)
	if err != nil {
		return err
	}
	values := formFields(c, apply.ComponentKeys)
	saved, err := apply.SaveComponent(ctx, s.st, s.limits, p.OrgID, p.Actor(), pg.ID, id, values)
	if errs, ok := fieldErrors(err); ok {
		f, ferr := s.componentForm(ctx, p, pg)
		if ferr != nil {
			return ferr
		}
		f = withComponent(f, comp)
		f.Values, f.Errors = values, errs
		return respond.Render(c, http.StatusUnprocessableEntity, views.ComponentForm(respond.Layout(c, "Edit "+comp.Name), f))
	}
	if err != nil {
		return err
	}
	s.changed(ctx, saved.Slug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/components/%d", id))
}

// ComponentDelete deletes a component and its checks.
func (s *Console) ComponentDelete(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	comp, err := s.st.Component(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	saved, err := apply.DeleteComponent(c.Request().Context(), s.st, p.OrgID, p.Actor(), id)
	if err != nil {
		return err
	}
	s.changed(c.Request().Context(), saved.Slug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d", comp.PageID))
}

// checkForm is a check form on pg, with the page's components.
func (s *Console) checkForm(ctx context.Context, p *auth.Principal, pg store.Page) (views.CatalogForm, error) {
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.CatalogForm{}, err
	}
	f := views.CatalogForm{Nav: adminNav(p), Page: pageOption(pg), ManagedPage: pg.Managed, New: true,
		Action: fmt.Sprintf("/admin/pages/%d/checks", pg.ID), Cancel: fmt.Sprintf("/admin/pages/%d", pg.ID),
		Values: map[string]string{}}
	for _, co := range comps {
		f.Components = append(f.Components, views.Option{Value: strconv.FormatInt(co.ID, 10), Label: co.Name})
	}
	return f, nil
}

// withCheck turns a check form into ch's edit form, values from the form
// when given.
func withCheck(f views.CatalogForm, ch store.Check, values apply.Fields) (views.CatalogForm, error) {
	if values == nil {
		var err error
		if values, err = apply.CheckValues(ch); err != nil {
			return f, err
		}
	}
	f.New, f.Managed, f.Values = false, ch.Managed, values
	f.Action = fmt.Sprintf("/admin/checks/%d", ch.ID)
	f.Cancel = fmt.Sprintf("/admin/checks/%d", ch.ID)
	f.Delete = fmt.Sprintf("/admin/checks/%d/delete", ch.ID)
	return f, nil
}

// CheckNew shows the form for a new check on a page (?component=ID
// chooses its component).
func (s *Console) CheckNew(c echo.Context) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	f, err := s.checkForm(ctx, p, pg)
	if err != nil {
		return err
	}
	f.Values["component"] = c.QueryParam("component")
	if len(f.Components) == 0 {
		f.Errors = map[string]string{"component": "This page has no component yet: add one first."}
	}
	return respond.Render(c, http.StatusOK, views.CheckForm(respond.Layout(c, "New check"), f))
}

// CheckCreate adds a check to a page.
func (s *Console) CheckCreate(c echo.Context) error {
	p, pageID, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, pageID)
	if err != nil {
		return err
	}
	values := formFields(c, apply.CheckKeys)
	saved, err := apply.SaveCheck(ctx, s.st, s.limits, p.OrgID, p.Actor(), pg.ID, 0, values)
	if errs, ok := fieldErrors(err); ok {
		f, ferr := s.checkForm(ctx, p, pg)
		if ferr != nil {
			return ferr
		}
		f.Values, f.Errors = values, errs
		return respond.Render(c, http.StatusUnprocessableEntity, views.CheckForm(respond.Layout(c, "New check"), f))
	}
	if err != nil {
		return err
	}
	s.changed(ctx, saved.Slug)
	return s.afterCheckSave(c, p, pg, saved)
}

// afterCheckSave goes to the check, or shows its form again with apply's
// warnings (saved all the same, as apply does).
func (s *Console) afterCheckSave(c echo.Context, p *auth.Principal, pg store.Page, saved apply.Saved) error {
	if len(saved.Warnings) == 0 {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/checks/%d", saved.ID))
	}
	ctx := c.Request().Context()
	ch, err := s.st.Check(ctx, p.OrgID, saved.ID)
	if err != nil {
		return err
	}
	f, err := s.checkForm(ctx, p, pg)
	if err != nil {
		return err
	}
	if f, err = withCheck(f, ch, nil); err != nil {
		return err
	}
	f.Saved = saved.Change
	if f.Saved == "" {
		f.Saved = "no change"
	}
	f.Warnings = map[string]string{}
	for _, w := range saved.Warnings {
		f.Warnings[w.Path] = w.Message
	}
	return respond.Render(c, http.StatusOK, views.CheckForm(respond.Layout(c, "Edit "+ch.Name), f))
}

// CheckEdit shows a check's form.
func (s *Console) CheckEdit(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := s.st.Check(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	pg, err := s.st.Page(ctx, p.OrgID, ch.PageID)
	if err != nil {
		return err
	}
	f, err := s.checkForm(ctx, p, pg)
	if err != nil {
		return err
	}
	if f, err = withCheck(f, ch, nil); err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.CheckForm(respond.Layout(c, "Edit "+ch.Name), f))
}

// CheckUpdate saves a check.
func (s *Console) CheckUpdate(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := s.st.Check(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	pg, err := s.st.Page(ctx, p.OrgID, ch.PageID)
	if err != nil {
		return err
	}
	values := formFields(c, apply.CheckKeys)
	saved, err := apply.SaveCheck(ctx, s.st, s.limits, p.OrgID, p.Actor(), pg.ID, id, values)
	if errs, ok := fieldErrors(err); ok {
		f, ferr := s.checkForm(ctx, p, pg)
		if ferr != nil {
			return ferr
		}
		if f, ferr = withCheck(f, ch, values); ferr != nil {
			return ferr
		}
		f.Errors = errs
		return respond.Render(c, http.StatusUnprocessableEntity, views.CheckForm(respond.Layout(c, "Edit "+ch.Name), f))
	}
	if err != nil {
		return err
	}
	s.changed(ctx, saved.Slug)
	return s.afterCheckSave(c, p, pg, saved)
}

// CheckDelete deletes a check and its results.
func (s *Console) CheckDelete(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ch, err := s.st.Check(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	saved, err := apply.DeleteCheck(c.Request().Context(), s.st, p.OrgID, p.Actor(), id)
	if err != nil {
		return err
	}
	s.changed(c.Request().Context(), saved.Slug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/components/%d", ch.ComponentID))
}
