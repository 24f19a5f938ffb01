package static

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFingerprintedURLIsImmutable(t *testing.T) {
	u := URL("css/app.css")
	if !strings.HasPrefix(u, Prefix) || !strings.HasSuffix(u, "/css/app.css") {
		t.Fatalf("URL = %q", u)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Errorf("Cache-Control = %q, want immutable", got)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type = %q, want text/css", got)
	}
	stale := httptest.NewRecorder()
	Handler().ServeHTTP(stale, httptest.NewRequest(http.MethodGet, Prefix+"000000000000/css/app.css", nil))
	if stale.Code != http.StatusOK || strings.Contains(stale.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("stale hash: status %d, Cache-Control %q; want 200 without immutable", stale.Code, stale.Header().Get("Cache-Control"))
	}
	missing := httptest.NewRecorder()
	Handler().ServeHTTP(missing, httptest.NewRequest(http.MethodGet, Prefix+"x/css/nope.css", nil))
	if missing.Code != http.StatusNotFound {
		t.Errorf("missing file: status %d, want 404", missing.Code)
	}
}
