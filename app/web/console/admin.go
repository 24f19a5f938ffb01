package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/config"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// This file holds the admin console's handlers. Every read goes through the
// principal's organisation: another organisation's id is simply not found.

func (s *Console) Home(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	return s.renderAdminHome(c, p, http.StatusOK, views.AdminHomeData{})
}

// renderAdminHome renders the start page with h's token messages.
func (s *Console) renderAdminHome(c echo.Context, p *auth.Principal, code int, h views.AdminHomeData) error {
	ctx := c.Request().Context()
	// Three queries for the whole organisation, not two per page.
	pages, err := s.st.Pages(ctx, p.OrgID)
	if err != nil {
		return err
	}
	comps, err := s.st.OrgComponents(ctx, p.OrgID)
	if err != nil {
		return err
	}
	checks, err := s.st.OrgChecks(ctx, p.OrgID)
	if err != nil {
		return err
	}
	for _, pg := range pages {
		h.Pages = append(h.Pages, adminPageView(pg, comps, checks))
	}
	if p.Role.Allows(store.RoleOwner) {
		toks, err := s.st.Tokens(ctx, p.OrgID)
		if err != nil {
			return err
		}
		for _, t := range toks {
			h.Tokens = append(h.Tokens, adminToken(t))
		}
	}
	if h.Overview, err = s.overview(ctx, p.OrgID, time.Now().UTC()); err != nil {
		return err
	}
	h.Overview.NotReported, h.Overview.Enabled = unreported(h.Pages)
	h.Nav = adminNav(p)
	return respond.Render(c, code, views.AdminHome(respond.Layout(c, "Console"), h))
}

// adminPageView builds a page's view model from its components and
// checks; rows of other pages are skipped.
func adminPageView(pg store.Page, comps []store.Component, checks []store.Check) views.AdminPage {
	v := views.AdminPage{ID: pg.ID, Slug: pg.Slug, Title: pg.Title, Domain: pg.Domain, TimeZone: pg.TimeZone,
		Regions: strings.Join(pg.Regions, ", "), Managed: pg.Managed}
	names := map[int64]string{}
	for _, c := range comps {
		if c.PageID == pg.ID {
			names[c.ID] = c.Name
			v.Components = append(v.Components, adminComponent(c, pg))
		}
	}
	for _, ch := range checks {
		if ch.PageID == pg.ID {
			v.Checks = append(v.Checks, adminCheck(ch, pg, names[ch.ComponentID]))
		}
	}
	return v
}

func (s *Console) Page(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	checks, err := s.st.Checks(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.AdminPageView(respond.Layout(c, pg.Title), adminNav(p), adminPageView(pg, comps, checks)))
}

func (s *Console) Component(c echo.Context) error {
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
	checks, err := s.st.Checks(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	v := adminComponent(comp, pg)
	for _, ch := range checks {
		if ch.ComponentID == comp.ID {
			v.Checks = append(v.Checks, adminCheck(ch, pg, comp.Name))
		}
	}
	if p.Role.Allows(store.RoleEditor) {
		incidents, err := s.st.OrgIncidents(ctx, p.OrgID, listLimit)
		if err != nil {
			return err
		}
		for _, in := range incidents {
			if in.PageID == pg.ID && in.ResolvedAt == nil && !in.Draft {
				v.OpenIncidents = append(v.OpenIncidents, views.IncidentRow{ID: in.ID, Name: in.Name})
			}
		}
	}
	return respond.Render(c, http.StatusOK, views.AdminComponentView(respond.Layout(c, comp.Name), adminNav(p), v))
}

func (s *Console) Check(c echo.Context) error {
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
	comp, err := s.st.Component(ctx, p.OrgID, ch.ComponentID)
	if err != nil {
		return err
	}
	v := adminCheck(ch, pg, comp.Name)
	v.Queued = c.QueryParam("queued") == "1"
	x, err := s.checkDetail(ctx, p.OrgID, ch, time.Now().UTC())
	if err != nil {
		return err
	}
	return respond.Render(c, http.StatusOK, views.AdminCheckView(respond.Layout(c, ch.Name), adminNav(p), v, x))
}

// SetCheckEnabled pauses or resumes a check from the console.
func (s *Console) SetCheckEnabled(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	enabled, err := strconv.ParseBool(c.FormValue("enabled"))
	if err != nil {
		return &respond.ValidationError{Field: "enabled", Message: "want true or false"}
	}
	if _, err := s.st.SetCheckEnabledBy(c.Request().Context(), p.OrgID, p.Actor(), id, enabled); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/checks/%d", id))
}

// CreateToken creates an API token and shows it once, in the response
// to the POST itself (never in a URL or a later page).
func (s *Console) CreateToken(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	role := store.Role(c.FormValue("role"))
	switch {
	case name == "" || len(name) > 100:
		return s.renderAdminHome(c, p, http.StatusUnprocessableEntity, views.AdminHomeData{TokenError: "Give the token a name of at most 100 characters."})
	case !role.Valid():
		return s.renderAdminHome(c, p, http.StatusUnprocessableEntity, views.AdminHomeData{TokenError: "Choose viewer, editor or owner."})
	}
	var tok store.APIToken
	var raw string
	err = s.st.InTx(c.Request().Context(), func(tx *store.Tx) error {
		var err error
		if tok, raw, err = tx.CreateToken(c.Request().Context(), p.OrgID, name, role, p.User.ID); err != nil {
			return err
		}
		return tx.Audit(c.Request().Context(), p.OrgID, p.Actor(), "token.create", fmt.Sprintf("token %d", tok.ID),
			map[string]string{"name": tok.Name, "role": string(tok.Role), "prefix": tok.Prefix})
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return s.renderAdminHome(c, p, http.StatusOK, views.AdminHomeData{NewToken: raw, NewTokenName: tok.Name})
}

func (s *Console) RevokeToken(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	err = s.st.InTx(c.Request().Context(), func(tx *store.Tx) error {
		tok, err := tx.RevokeToken(c.Request().Context(), p.OrgID, id)
		if err != nil {
			return err
		}
		return tx.Audit(c.Request().Context(), p.OrgID, p.Actor(), "token.revoke", fmt.Sprintf("token %d", id),
			map[string]string{"name": tok.Name, "prefix": tok.Prefix})
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/")
}

func adminComponent(c store.Component, pg store.Page) views.AdminComponent {
	return views.AdminComponent{ID: c.ID, PageID: pg.ID, PageTitle: pg.Title, Name: c.Name,
		Description: c.Description, Status: c.Status, Managed: c.Managed}
}

func adminCheck(ch store.Check, pg store.Page, componentName string) views.AdminCheck {
	return views.AdminCheck{ID: ch.ID, PageID: pg.ID, PageTitle: pg.Title, ComponentID: ch.ComponentID,
		ComponentName: componentName, Name: ch.Name, URL: ch.URL, Regions: strings.Join(ch.Regions, ", "),
		Interval: config.DurationText(ch.Interval), Enabled: ch.Enabled, State: ch.State, Managed: ch.Managed}
}

func adminToken(t store.APIToken) views.AdminToken {
	v := views.AdminToken{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Role: string(t.Role), Created: formatTime(t.CreatedAt), LastUsed: "never"}
	if t.LastUsedAt != nil {
		v.LastUsed = formatTime(*t.LastUsedAt)
	}
	if t.RevokedAt != nil {
		v.Revoked = formatTime(*t.RevokedAt)
	}
	return v
}
