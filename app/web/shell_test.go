package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"pharos/app/store/storetest"
)

func newShell(t *testing.T) *Server {
	t.Helper()
	srv, err := New(Options{
		Listen:    "127.0.0.1:0",
		SecretKey: strings.Repeat("s", 32),
		Store:     storetest.SQLite(t),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	rec := get(t, newShell(t).Handler(), "/healthz")
	if rec.Code != http.StatusOK {
		t.Fatalf("/healthz: got %d, want 200", rec.Code)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
		"X-Frame-Options":        "DENY",
	} {
		if got := rec.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

func TestErrorsAreHTMLForPagesAndJSONForAPIs(t *testing.T) {
	t.Parallel()
	h := newShell(t).Handler()
	page := get(t, h, "/no/such/page")
	if page.Code != http.StatusNotFound || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Errorf("page 404: got %d %q, want 404 text/html", page.Code, page.Header().Get("Content-Type"))
	}
	if !strings.Contains(page.Body.String(), `data-testid="error-code"`) {
		t.Errorf("page 404 body is not the error page: %q", page.Body.String())
	}
	api := get(t, h, "/api/v1/no-such-thing")
	if api.Code != http.StatusNotFound || !strings.HasPrefix(api.Header().Get("Content-Type"), "application/json") {
		t.Errorf("api 404: got %d %q, want 404 application/json", api.Code, api.Header().Get("Content-Type"))
	}
}

func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	srv := newShell(t)
	if rec := get(t, srv.Handler(), "/readyz"); rec.Code != http.StatusOK {
		t.Fatalf("/readyz with a database: got %d, want 200", rec.Code)
	}
	srv.st.Close()
	if rec := get(t, srv.Handler(), "/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz without a database: got %d, want 503", rec.Code)
	}
	if rec := get(t, srv.Handler(), "/healthz"); rec.Code != http.StatusOK {
		t.Errorf("/healthz without a database: got %d, want 200 (the process is alive)", rec.Code)
	}
}

func TestMetricsCountRequests(t *testing.T) {
	t.Parallel()
	h := newShell(t).Handler()
	get(t, h, "/healthz")
	rec := get(t, h, "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: got %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{`pharos_http_requests_total{method="GET",route="/healthz",status="200"} 1`, "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestPanicsBecome500(t *testing.T) {
	t.Parallel()
	srv := newShell(t)
	srv.e.GET("/test-panic", func(c echo.Context) error { panic("boom") })
	rec := get(t, srv.Handler(), "/test-panic")
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("panic: got %d, want 500", rec.Code)
	}
}

// TestHandlersHaveADeadlineButStreamsDoNot: every handler's context ends
// after handlerTimeout, except the event streams, which run for as long as
// the client listens, and the GETs of the routes answered from the public
// render cache, which bound their own loads and renders (the public
// package's TestRenderHasABudget).
func TestHandlersHaveADeadlineButStreamsDoNot(t *testing.T) {
	t.Parallel()
	srv := newShell(t)
	deadline := func(c echo.Context) error {
		_, ok := c.Request().Context().Deadline()
		return c.String(http.StatusOK, strconv.FormatBool(ok))
	}
	// Each replaces the route's handler for this test.
	srv.e.GET("/test-deadline", deadline)
	srv.e.GET("/p/:slug/events", deadline)
	srv.e.GET("/p/:slug/api/v2/summary.json", deadline)
	srv.e.OPTIONS("/p/:slug/api/v2/summary.json", deadline)
	srv.e.GET("/p/:slug/subscribe", deadline)
	for _, tc := range []struct {
		method, path string
		want         string
	}{
		{http.MethodGet, "/test-deadline", "true"},
		{http.MethodGet, "/p/acme/events", "false"},
		{http.MethodGet, "/p/acme/api/v2/summary.json", "false"},
		{http.MethodOptions, "/p/acme/api/v2/summary.json", "true"},
		{http.MethodGet, "/p/acme/subscribe", "true"},
	} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if got := rec.Body.String(); got != tc.want {
			t.Errorf("%s %s: the handler's context has a deadline: %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestMetricsToken: with PHAROS_METRICS_TOKEN set, /metrics answers 401
// without the bearer token and with a wrong one, and serves it with the
// right one.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "metrics-secret-0123456789"
	srv, err := New(Options{Listen: "127.0.0.1:0", SecretKey: strings.Repeat("s", 32), Store: storetest.SQLite(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MetricsToken: token})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if rec := get(t, h, "/metrics"); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("/metrics without the token: got %d, want 401 with WWW-Authenticate", rec.Code)
	}
	if rec := get(t, h, "/metrics", "Authorization", "Bearer wrong-token-0123456789"); rec.Code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: got %d, want 401", rec.Code)
	}
	rec := get(t, h, "/metrics", "Authorization", "Bearer "+token)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Errorf("/metrics with the token: got %d, want 200 with the metrics", rec.Code)
	}
}
