package web

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/web/public"
)

// contentSecurityPolicy forbids inline script and framing; every script and
// style comes from /static.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// strictTransportSecurity tells browsers to use HTTPS only, for a year; it
// is installed when the service runs behind HTTPS (Secure cookies).
func strictTransportSecurity() echo.MiddlewareFunc {
	hsts := []string{"max-age=31536000"}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header()["Strict-Transport-Security"] = hsts
			return next(c)
		}
	}
}

// securityHeaders sends the same five headers with every response. The
// values are built once and assigned under their canonical keys: each
// slice has cap == len, so a later Add copies it rather than writing into
// it, and nothing sets them in place.
func securityHeaders() echo.MiddlewareFunc {
	values := map[string][]string{
		"Content-Security-Policy":    {contentSecurityPolicy},
		"X-Content-Type-Options":     {"nosniff"},
		"X-Frame-Options":            {"DENY"},
		"Referrer-Policy":            {"strict-origin-when-cross-origin"},
		"Cross-Origin-Opener-Policy": {"same-origin"},
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			for k, v := range values {
				h[k] = v
			}
			return next(c)
		}
	}
}

// requestID generates X-Request-Id values: 128 random bits in hex from
// the runtime's per-thread generator, which, unlike echo's default, reads
// no shared random source per request.
func requestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// requestLogger logs every request and counts it in the HTTP metrics,
// except answers from the public pages' render cache: those are counted
// and summarised in one line per hitLogEvery, so a page under load does
// not write a log line per view. The event streams are counted but kept
// out of the latency histogram: a stream lasts as long as its reader,
// minutes or hours, which would say nothing about the service and push
// every other route's quantiles off the top bucket.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	streams := pageRoutes(s.publicRoutes(), func(r public.Route) bool { return r.Stream })
	series := newSeriesCache(s.metrics, streams)
	hits := &hitSummary{log: s.log, every: hitLogEvery}
	hits.next.Store(time.Now().Add(hitLogEvery).UnixNano())
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // let the error handler set the status before we log it
			}
			end := time.Now()
			req := c.Request()
			status := c.Response().Status
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			m := series.get(req.Method, route, status)
			m.requests.Inc()
			if m.latency != nil {
				m.latency.Observe(end.Sub(start).Seconds())
			}
			if status < 400 && s.site.FromCache(c) {
				hits.add(req.Context(), end)
				return err
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			path := req.URL.Path
			if path == "" {
				path = "/"
			}
			attrs := []slog.Attr{
				slog.String("method", req.Method),
				slog.String("path", path),
				slog.Int("status", status),
				slog.Duration("latency", end.Sub(start)),
				slog.String("remote_ip", c.RealIP()),
			}
			if err != nil && status >= 500 {
				attrs = append(attrs, slog.Any("error", err))
			}
			s.log.LogAttrs(req.Context(), level, "http request", attrs...)
			// The error is handled; echo's own handler leaves a
			// committed response alone.
			return err
		}
	}
}

// hitLogEvery is how often the request log summarises the public cache's
// answers.
const hitLogEvery = 10 * time.Second

// hitSummary counts answers from the public render cache and logs their
// number at most once per interval, from the request that ends one; a
// count left when requests stop is logged with the next one.
type hitSummary struct {
	log   *slog.Logger
	every time.Duration
	n     atomic.Int64
	next  atomic.Int64 // Unix nanoseconds of the next summary line
}

func (h *hitSummary) add(ctx context.Context, now time.Time) {
	h.n.Add(1)
	next := h.next.Load()
	if now.UnixNano() < next || !h.next.CompareAndSwap(next, now.Add(h.every).UnixNano()) {
		return
	}
	since := time.Unix(0, next).Add(-h.every) // when the previous line was due
	h.log.LogAttrs(ctx, slog.LevelInfo, "http requests answered from the public cache",
		slog.Int64("count", h.n.Swap(0)), slog.Duration("period", now.Sub(since).Round(time.Millisecond)))
}

// seriesCache keeps the metric series of each method, route and status, so
// a request costs a map read rather than hashing its label values.
type seriesCache struct {
	m       *httpMetrics
	streams map[string]bool // routes kept out of the latency histogram
	mu      sync.RWMutex
	by      map[seriesKey]routeSeries
}

type seriesKey struct {
	method, route string
	status        int
}

type routeSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer // nil for the event streams
}

// maxCachedSeries bounds the cache: the method is the client's to choose.
const maxCachedSeries = 1024

func newSeriesCache(m *httpMetrics, streams map[string]bool) *seriesCache {
	return &seriesCache{m: m, streams: streams, by: map[seriesKey]routeSeries{}}
}

func (sc *seriesCache) get(method, route string, status int) routeSeries {
	k := seriesKey{method, route, status}
	sc.mu.RLock()
	rs, ok := sc.by[k]
	sc.mu.RUnlock()
	if ok {
		return rs
	}
	rs = routeSeries{requests: sc.m.requests.WithLabelValues(method, route, strconv.Itoa(status))}
	if !sc.streams[route] {
		rs.latency = sc.m.latency.WithLabelValues(method, route)
	}
	sc.mu.Lock()
	if len(sc.by) < maxCachedSeries {
		sc.by[k] = rs
	}
	sc.mu.Unlock()
	return rs
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
// The routes answered from the public render cache bound their own loads
// and renders (public.Route.Cached): a context with a timer, and the copy
// of the request that carries it, would be most of what a cache hit costs
// in the middleware.
func handlerTimeout(pages []public.Route) echo.MiddlewareFunc {
	streams := pageRoutes(pages, func(r public.Route) bool { return r.Stream })
	cached := pageRoutes(pages, func(r public.Route) bool { return r.Cached })
	return middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
		Timeout: 30 * time.Second,
		Skipper: func(c echo.Context) bool {
			p, m := c.Path(), c.Request().Method
			return streams[p] || cached[p] && (m == http.MethodGet || m == http.MethodHead)
		},
	})
}

// pageRoutes is the set of the public routes that keep accepts, as echo's
// path patterns under /p/:slug. A custom domain's paths and the default
// page's are rewritten to those routes before routing, so they are in the
// set too.
func pageRoutes(pages []public.Route, keep func(public.Route) bool) map[string]bool {
	set := map[string]bool{}
	for _, r := range pages {
		if keep(r) {
			set["/p/:slug"+r.Path] = true
		}
	}
	return set
}
