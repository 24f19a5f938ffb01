package web

import (
	"bytes"
	"context"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/views"
)

// render writes a templ component as a complete HTML response. It renders to
// a buffer first so a failing template yields a clean 500, not half a page.
func (s *Server) render(c echo.Context, code int, comp templ.Component) error {
	body, err := renderBytes(c.Request().Context(), comp)
	if err != nil {
		return err
	}
	return c.HTMLBlob(code, body)
}

// renderBytes renders a templ component to memory.
func renderBytes(ctx context.Context, comp templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layout builds the frame's view model for the current request: signed-in
// console pages show who is signed in and a sign-out form.
func (s *Server) layout(c echo.Context, title string) views.LayoutData {
	d := views.LayoutData{Title: title}
	if p := principalOf(c); p != nil && p.rawSession != "" {
		d.SignedIn, d.Email, d.CSRF = true, p.User.Email, p.CSRF
	}
	return d
}

// adminNav builds the console header's view model.
func adminNav(p *principal) views.AdminNav {
	return views.AdminNav{
		OrgName: p.OrgName, Role: string(p.Role), CSRF: p.CSRF,
		CanEdit: p.Role.Allows(store.RoleEditor), IsOwner: p.Role.Allows(store.RoleOwner),
	}
}
