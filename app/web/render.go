package web

import (
	"bytes"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"pharos/views"
)

// render writes a templ component as a complete HTML response. It renders to
// a buffer first so a failing template yields a clean 500, not half a page.
func (s *Server) render(c echo.Context, code int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(code, buf.Bytes())
}

// layout builds the frame's view model for the current request.
func (s *Server) layout(c echo.Context, title string) views.LayoutData {
	return views.LayoutData{Title: title}
}
