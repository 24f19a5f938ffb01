package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Components and checks, created on a page and edited by id.

// routePage is the principal and the page the route's id names.
func (s *Console) routePage(c echo.Context) (*auth.Principal, store.Page, error) {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return nil, store.Page{}, err
	}
	pg, err := s.st.Page(c.Request().Context(), p.OrgID, id)
	return p, pg, err
}

// routeItem is the principal, the component or check the route's id names
// (read by get) and the page it is on.
func routeItem[T any](s *Console, c echo.Context, get func(context.Context, int64, int64) (T, error), pageOf func(T) int64) (
	*auth.Principal, T, store.Page, error) {
	var none T
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return nil, none, store.Page{}, err
	}
	ctx := c.Request().Context()
	item, err := get(ctx, p.OrgID, id)
	if err != nil {
		return nil, none, store.Page{}, err
	}
	pg, err := s.st.Page(ctx, p.OrgID, pageOf(item))
	return p, item, pg, err
}

func componentPage(comp store.Component) int64 { return comp.PageID }

func checkPage(ch store.Check) int64 { return ch.PageID }

// itemForm is what the forms of components and checks differ in.
type itemForm struct {
	keys  []string
	save  func(ctx context.Context, st *store.Store, lim apply.Limits, orgID int64, actor store.Actor, pageID, id int64, f apply.Fields) (apply.Saved, error)
	form  func(s *Console, ctx context.Context, p *auth.Principal, pg store.Page) (views.CatalogForm, error)
	view  func(views.LayoutData, views.CatalogForm) templ.Component
	after func(s *Console, c echo.Context, p *auth.Principal, pg store.Page, saved apply.Saved) error
}

// componentItem is the component form's part in saveItem.
func componentItem() itemForm {
	return itemForm{apply.ComponentKeys, apply.SaveComponent, (*Console).componentForm, views.ComponentForm, (*Console).afterComponentSave}
}

// checkItem is the check form's part in saveItem.
func checkItem() itemForm {
	return itemForm{apply.CheckKeys, apply.SaveCheck, (*Console).checkForm, views.CheckForm, (*Console).afterCheckSave}
}

// saveItem saves the posted form of a component or check on pg (id 0: a
// new one) through apply, as `pharos apply` would. Field errors show the
// form again at 422 with what was sent and the errors (edit, when not nil,
// makes it the item's edit form first); otherwise the page is marked
// changed and the item's after step answers.
func (s *Console) saveItem(c echo.Context, p *auth.Principal, pg store.Page, id int64, it itemForm, title string,
	edit func(views.CatalogForm, apply.Fields) (views.CatalogForm, error)) error {
	ctx := c.Request().Context()
	values := formFields(c, it.keys)
	saved, err := it.save(ctx, s.st, s.limits, p.OrgID, p.Actor(), pg.ID, id, values)
	errs, ok := fieldErrors(err)
	if !ok {
		if err != nil {
			return err
		}
		s.changed(ctx, saved.Slug)
		return it.after(s, c, p, pg, saved)
	}
	f, err := it.form(s, ctx, p, pg)
	if err != nil {
		return err
	}
	if edit != nil {
		if f, err = edit(f, values); err != nil {
			return err
		}
	}
	f.Values, f.Errors = values, errs
	return respond.Render(c, http.StatusUnprocessableEntity, it.view(respond.Layout(c, title), f))
}

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
	p, pg, err := s.routePage(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f, err := s.componentForm(ctx, p, pg)
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.ComponentForm(respond.Layout(c, "New component"), f))
}

// ComponentCreate adds a component to a page.
func (s *Console) ComponentCreate(c echo.Context) error {
	p, pg, err := s.routePage(c)
	if err != nil {
		return err
	}
	return s.saveItem(c, p, pg, 0, componentItem(), "New component", nil)
}

// afterComponentSave goes to the component.
func (s *Console) afterComponentSave(c echo.Context, _ *auth.Principal, _ store.Page, saved apply.Saved) error {
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/components/%d", saved.ID))
}

// ComponentEdit shows a component's form.
func (s *Console) ComponentEdit(c echo.Context) error {
	p, comp, pg, err := routeItem(s, c, s.st.Component, componentPage)
	if err != nil {
		return err
	}
	f, err := s.componentForm(c.Request().Context(), p, pg)
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.ComponentForm(respond.Layout(c, "Edit "+comp.Name), withComponent(f, comp)))
}

// ComponentUpdate saves a component.
func (s *Console) ComponentUpdate(c echo.Context) error {
	p, comp, pg, err := routeItem(s, c, s.st.Component, componentPage)
	if err != nil {
		return err
	}
	return s.saveItem(c, p, pg, comp.ID, componentItem(), "Edit "+comp.Name, func(f views.CatalogForm, _ apply.Fields) (views.CatalogForm, error) {
		return withComponent(f, comp), nil
	})
}

// ComponentDelete deletes a component and its checks.
func (s *Console) ComponentDelete(c echo.Context) error {
	return deleteItem(s, c, s.st.Component, apply.DeleteComponent, func(comp store.Component) string {
		return fmt.Sprintf("/admin/pages/%d", comp.PageID)
	})
}

// deleteItem deletes the component or check the route's id names through
// apply's del, then goes to next of it (read by get before it went).
func deleteItem[T any](s *Console, c echo.Context, get func(context.Context, int64, int64) (T, error),
	del func(context.Context, *store.Store, int64, store.Actor, int64) (apply.Saved, error), next func(T) string) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	item, err := get(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	saved, err := del(ctx, s.st, p.OrgID, p.Actor(), id)
	if err != nil {
		return err
	}
	s.changed(ctx, saved.Slug)
	return c.Redirect(http.StatusSeeOther, next(item))
}

// checkForm is a check form on pg, with the page's components.
func (s *Console) checkForm(ctx context.Context, p *auth.Principal, pg store.Page) (views.CatalogForm, error) {
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return views.CatalogForm{}, err
	}
	f := views.CatalogForm{Nav: adminNav(p), Page: pageOption(pg), ManagedPage: pg.Managed, New: true,
		Action: fmt.Sprintf("/admin/pages/%d/checks", pg.ID), Cancel: fmt.Sprintf("/admin/pages/%d", pg.ID),
		Values: map[string]string{}, IntervalRange: s.limits.IntervalRange()}
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
	p, pg, err := s.routePage(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
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
	p, pg, err := s.routePage(c)
	if err != nil {
		return err
	}
	return s.saveItem(c, p, pg, 0, checkItem(), "New check", nil)
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
	p, ch, pg, err := routeItem(s, c, s.st.Check, checkPage)
	if err != nil {
		return err
	}
	f, err := s.checkForm(c.Request().Context(), p, pg)
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
	p, ch, pg, err := routeItem(s, c, s.st.Check, checkPage)
	if err != nil {
		return err
	}
	return s.saveItem(c, p, pg, ch.ID, checkItem(), "Edit "+ch.Name, func(f views.CatalogForm, values apply.Fields) (views.CatalogForm, error) {
		return withCheck(f, ch, values)
	})
}

// CheckDelete deletes a check and its results.
func (s *Console) CheckDelete(c echo.Context) error {
	return deleteItem(s, c, s.st.Check, apply.DeleteCheck, func(ch store.Check) string {
		return fmt.Sprintf("/admin/components/%d", ch.ComponentID)
	})
}
