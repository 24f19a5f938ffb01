package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
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

// TestCompressedAssets: text assets come brotli- or gzip-compressed as
// accepted (with Vary and an ETag per encoding), decode to the file, and
// are compressed once; the favicon is embedded.
func TestCompressedAssets(t *testing.T) {
	u := URL("css/app.css")
	plain := httptest.NewRecorder()
	Handler().ServeHTTP(plain, httptest.NewRequest(http.MethodGet, u, nil))
	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br", "br"}, {"gzip", "gzip"}, {"br;q=0, gzip", "gzip"}, {"identity", ""}, {"", ""},
	} {
		req := httptest.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept-Encoding", tc.accept)
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
		}
		if rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, rec.Header().Get("Vary"))
		}
		var body []byte
		switch tc.want {
		case "br":
			body, _ = io.ReadAll(brotli.NewReader(rec.Body))
		case "gzip":
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		default:
			body = rec.Body.Bytes()
		}
		if !bytes.Equal(body, plain.Body.Bytes()) {
			t.Errorf("Accept-Encoding %q: decoded body differs from the file", tc.accept)
		}
		if tc.want != "" && rec.Body.Len() >= plain.Body.Len() {
			t.Errorf("%s body is %d bytes, file %d", tc.want, rec.Body.Len(), plain.Body.Len())
		}
		// A revalidation with this encoding's tag is a 304.
		again := httptest.NewRequest(http.MethodGet, u, nil)
		again.Header.Set("Accept-Encoding", tc.accept)
		again.Header.Set("If-None-Match", rec.Header().Get("ETag"))
		rec304 := httptest.NewRecorder()
		Handler().ServeHTTP(rec304, again)
		if rec304.Code != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", rec.Header().Get("ETag"), rec304.Code)
		}
	}
	a := index()["js/public.js"]
	if first, second := a.br(), a.br(); len(first) == 0 || &first[0] != &second[0] {
		t.Error("brotli body is not computed once and kept")
	}
	if ct := index()["img/favicon.svg"].mime; ct != "image/svg+xml" {
		t.Errorf("favicon type %q", ct)
	}
}
