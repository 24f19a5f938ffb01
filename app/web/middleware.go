package web

import (
	"log/slog"
	"strconv"
	"time"

	"pharos/app/web/public"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// contentSecurityPolicy forbids inline script and framing; every script and
// style comes from /static.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// strictTransportSecurity tells browsers to use HTTPS only, for a year; it
// is installed when the service runs behind HTTPS (Secure cookies).
func strictTransportSecurity(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Strict-Transport-Security", "max-age=31536000")
		return next(c)
	}
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}

// requestLogger logs every request and counts it in the HTTP metrics. The
// event streams are counted but kept out of the latency histogram: a
// stream lasts as long as its reader, minutes or hours, which would say
// nothing about the service and push every other route's quantiles off
// the top bucket.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	streams := streamRoutes(s.publicRoutes())
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogURIPath:   true,
		LogMethod:    true,
		LogLatency:   true,
		LogRemoteIP:  true,
		LogError:     true,
		HandleError:  true, // let the error handler set the status before we log it
		LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("remote_ip", v.RemoteIP),
			}
			if v.Error != nil && v.Status >= 500 {
				attrs = append(attrs, slog.Any("error", v.Error))
			}
			s.log.LogAttrs(c.Request().Context(), level, "http request", attrs...)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			s.metrics.requests.WithLabelValues(v.Method, route, strconv.Itoa(v.Status)).Inc()
			if !streams[route] {
				s.metrics.latency.WithLabelValues(v.Method, route).Observe(v.Latency.Seconds())
			}
			return nil
		},
	})
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pharos_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// bodyLimit caps request bodies (apply files, forms) so one request cannot
// exhaust memory.
func bodyLimit() echo.MiddlewareFunc { return middleware.BodyLimit("2M") }

// handlerTimeout bounds the request context of every handler that does not
// stream, so a stuck database query ends the request instead of holding it.
func handlerTimeout(pages []public.Route) echo.MiddlewareFunc {
	streams := streamRoutes(pages)
	return middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
		Timeout: 30 * time.Second,
		Skipper: func(c echo.Context) bool { return streams[c.Path()] },
	})
}

// streamRoutes is the set of routes (echo's path patterns) that stream:
// the event streams, under /p/:slug. A custom domain's /events and the
// default page's are rewritten to that route before routing, so they are
// in the set too.
func streamRoutes(pages []public.Route) map[string]bool {
	streams := map[string]bool{}
	for _, r := range pages {
		if r.Stream {
			streams["/p/:slug"+r.Path] = true
		}
	}
	return streams
}
