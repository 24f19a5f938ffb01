package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz answers as long as the process serves HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz answers 200 only while the database answers, so a load balancer
// stops sending traffic to a process that cannot serve it.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

func (s *Server) metricsHandler() echo.HandlerFunc {
	return echo.WrapHandler(MetricsHandler(s.reg, s.opts.MetricsToken))
}

// MetricsHandler serves reg's metrics, in the OpenMetrics format to
// scrapers that ask for it in Accept (Prometheus does, for exemplars and
// created timestamps) and in the text format otherwise; with a token, only
// to requests carrying "Authorization: Bearer <token>"
// (PHAROS_METRICS_TOKEN), compared in constant time. The probe workers'
// /metrics uses it too.
func MetricsHandler(reg *prometheus.Registry, token string) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: true})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pharos metrics"`)
			http.Error(w, "metrics need the token in PHAROS_METRICS_TOKEN: Authorization: Bearer …", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
