package public_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

func envInt(t testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// below measures the server, not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkPublicCachedHit serves cached public responses through the
// whole router and middleware (the work a cache hit does per request,
// without the network): summary.json and the page of a page with 1,000
// components, identity and gzip. Profile with
//
//	go test -run '^$' -bench PublicCachedHit -cpuprofile cpu.out ./app/web/public/
func BenchmarkPublicCachedHit(b *testing.B) {
	st := storetest.SQLite(b)
	seedPublicPage(b, st, fixtureOptions{slug: "bench", components: 1000, incidents: 5, days: 90})
	h := webtest.NewServer(b, st, nil).Handler()
	for _, path := range []string{"/p/bench/api/v2/summary.json", "/p/bench/"} {
		for _, enc := range []string{"", "gzip"} {
			name := path + "|" + enc
			if enc == "" {
				name += "identity"
			}
			b.Run(name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Accept-Encoding", enc)
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, req) // render once
				if w.code != http.StatusOK {
					b.Fatalf("GET %s: got %d, want 200", path, w.code)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					clear(w.h)
					h.ServeHTTP(w, req)
				}
			})
		}
	}
}
