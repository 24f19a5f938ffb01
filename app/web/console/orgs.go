package console

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Orgs lists the organisations the signed-in user belongs to, each with a
// button that switches the session to it.
func (s *Console) Orgs(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	ms, err := s.st.Memberships(c.Request().Context(), p.User.ID)
	if err != nil {
		return err
	}
	rows := make([]views.OrgChoice, 0, len(ms))
	for _, m := range ms {
		rows = append(rows, views.OrgChoice{ID: m.OrgID, Name: m.OrgName, Slug: m.OrgSlug, Role: string(m.Role),
			Current: m.OrgID == p.OrgID})
	}
	return respond.Render(c, http.StatusOK, views.Orgs(respond.Layout(c, "Organisations"), adminNav(p), rows))
}

// SwitchOrg moves the signed-in user to another organisation they belong
// to. The session is replaced, not edited: the old one (and its CSRF token)
// ends in the organisation it was in, a new one starts in the other, each
// audited where it happened. An organisation the user is not a member of
// is not found, exactly like one that does not exist. The route lives
// beside /logout, outside /admin/: it changes the session, not the
// organisation, so every role may use it.
func (s *Console) SwitchOrg(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.FormValue("org_id"), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("console: organisation %q: %w", c.FormValue("org_id"), store.ErrNotFound)
	}
	ms, err := s.st.Memberships(c.Request().Context(), p.User.ID)
	if err != nil {
		return err
	}
	member := false
	for _, m := range ms {
		member = member || m.OrgID == id
	}
	if !member {
		return fmt.Errorf("console: user %d switching to organisation %d: %w", p.User.ID, id, store.ErrNotFound)
	}
	if id == p.OrgID {
		return c.Redirect(http.StatusSeeOther, "/admin/")
	}
	if err := s.auth.SignOut(c, p); err != nil {
		return err
	}
	if err := s.auth.SignIn(c, id, p.User); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/")
}
