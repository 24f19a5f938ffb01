package respond

import (
	"bytes"
	"context"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"pharos/app/web/auth"
	"pharos/views"
)

// Render writes a templ component as a complete HTML response. It renders
// to a buffer first so a failing template yields a clean 500, not half a
// page.
func Render(c echo.Context, code int, comp templ.Component) error {
	body, err := Bytes(c.Request().Context(), comp)
	if err != nil {
		return err
	}
	return c.HTMLBlob(code, body)
}

// Bytes renders a templ component to memory.
func Bytes(ctx context.Context, comp templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Layout builds the frame's view model for the current request: signed-in
// console pages show who is signed in and a sign-out form.
func Layout(c echo.Context, title string) views.LayoutData {
	d := views.LayoutData{Title: title}
	if p := auth.PrincipalOf(c); p != nil && p.SignedIn() {
		d.SignedIn, d.Email, d.CSRF = true, p.User.Email, p.CSRF
	}
	return d
}
