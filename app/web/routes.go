package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"pharos/app/store"
	"pharos/static"
)

// routes lists every route of the server.
func (s *Server) routes() {
	e := s.e
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{
		Skipper: func(c echo.Context) bool { return !isAPIPath(c.Request().URL.Path) },
	}))
	e.Use(middleware.RequestID())
	e.Use(s.requestLogger())
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	e.Use(bodyLimit())

	// Operations.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))

	// Authentication runs per route rather than per group, so an unknown
	// path is a plain 404 for everyone.
	session := func(need store.Role) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.requireSession, requireRole(need)}
	}
	token := func(need store.Role) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.requireToken, requireRole(need)}
	}
	const viewer, editor, owner = store.RoleViewer, store.RoleEditor, store.RoleOwner

	// Accounts. Setup and login have no session yet: their forms carry a
	// signed double-submit CSRF token instead.
	e.GET("/", s.root)
	e.GET("/setup", s.setupForm)
	e.POST("/setup", s.setupSubmit)
	e.GET("/login", s.loginForm)
	e.POST("/login", s.loginSubmit)
	e.POST("/logout", s.logout, session(viewer)...)

	// Admin console: session cookie, CSRF token on every POST, a role on
	// every route.
	e.GET("/admin", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/admin/") })
	e.GET("/admin/", s.adminHome, session(viewer)...)
	e.GET("/admin/audit", s.adminAudit, session(viewer)...)
	e.GET("/admin/pages/:id", s.adminPage, session(viewer)...)
	e.GET("/admin/components/:id", s.adminComponent, session(viewer)...)
	e.GET("/admin/checks/:id", s.adminCheck, session(viewer)...)
	e.POST("/admin/checks/:id/enabled", s.adminSetCheckEnabled, session(editor)...)
	e.POST("/admin/checks/:id/run", s.adminRunCheck, session(editor)...)
	e.POST("/admin/tokens", s.adminCreateToken, session(owner)...)
	e.POST("/admin/tokens/:id/revoke", s.adminRevokeToken, session(owner)...)

	// Admin API: bearer tokens only, JSON.
	e.GET("/api/v1/pages", s.apiPages, token(viewer)...)
	e.GET("/api/v1/pages/:id", s.apiPage, token(viewer)...)
	e.GET("/api/v1/components/:id", s.apiComponent, token(viewer)...)
	e.GET("/api/v1/checks/:id", s.apiCheck, token(viewer)...)
	e.POST("/api/v1/checks/:id/enabled", s.apiSetCheckEnabled, token(editor)...)
	e.POST("/api/v1/checks/:id/run", s.apiRunCheck, token(editor)...)
	e.POST("/api/v1/apply", s.apiApply, token(editor)...)

	// Public status pages: public.go.
	s.publicRoutes()
}

func isAPIPath(p string) bool { return len(p) > 5 && p[:5] == "/api/" }
