package web

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

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
}

func isAPIPath(p string) bool { return len(p) > 5 && p[:5] == "/api/" }
