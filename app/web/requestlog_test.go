package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/app/store/storetest"
)

// lockedBuffer is a log destination the handlers of concurrent requests
// may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines are the log's records, decoded.
func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestCachedPublicAnswersAreNotLoggedOneByOne: answers from the public
// render cache (the page, summary.json, a 304) are counted in the metrics
// but write no log line each; a 404 and the console's pages still do.
func TestCachedPublicAnswersAreNotLoggedOneByOne(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedChecks(t, st, "acme", "", 1, []string{"fra"})
	var logs lockedBuffer
	srv, err := New(Options{Listen: "127.0.0.1:0", SecretKey: strings.Repeat("s", 32), Store: st,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()

	for _, path := range []string{"/p/acme/", "/p/acme/api/v2/summary.json", "/p/acme/"} {
		if rec := get(t, h, path); rec.Code != http.StatusOK {
			t.Fatalf("%s: got %d, want 200", path, rec.Code)
		}
	}
	etag := get(t, h, "/p/acme/").Header().Get("ETag")
	if rec := get(t, h, "/p/acme/", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Fatalf("/p/acme/ with its ETag: got %d, want 304", rec.Code)
	}
	if rec := get(t, h, "/p/nobody/"); rec.Code != http.StatusNotFound {
		t.Fatalf("/p/nobody/: got %d, want 404", rec.Code)
	}
	if rec := get(t, h, "/login"); rec.Code != http.StatusOK {
		t.Fatalf("/login: got %d, want 200", rec.Code)
	}

	var logged []string
	for _, l := range logs.lines(t) {
		if l["msg"] == "http request" {
			logged = append(logged, l["path"].(string))
		}
	}
	if got, want := strings.Join(logged, " "), "/p/nobody/ /login"; got != want {
		t.Errorf("logged requests: got %q, want %q", got, want)
	}
	metrics := get(t, h, "/metrics").Body.String()
	for _, want := range []string{
		`pharos_http_requests_total{method="GET",route="/p/:slug/",status="200"} 3`,
		`pharos_http_requests_total{method="GET",route="/p/:slug/",status="304"} 1`,
		`pharos_http_requests_total{method="GET",route="/p/:slug/api/v2/summary.json",status="200"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics: no %s", want)
		}
	}
}

// TestHitSummary: the cache's answers are logged as one count per
// interval, by the first answer after it ends.
func TestHitSummary(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &hitSummary{log: slog.New(slog.NewJSONHandler(&logs, nil)), every: 10 * time.Second}
	h.next.Store(start.Add(10 * time.Second).UnixNano())
	ctx := context.Background()
	for i := range 5 {
		h.add(ctx, start.Add(time.Duration(i)*time.Second))
	}
	if got := len(logs.lines(t)); got != 0 {
		t.Fatalf("lines within the first interval: got %d, want 0", got)
	}
	h.add(ctx, start.Add(12*time.Second)) // ends the interval: 6 answers
	h.add(ctx, start.Add(13*time.Second))
	h.add(ctx, start.Add(30*time.Second)) // 2 more
	lines := logs.lines(t)
	if len(lines) != 2 {
		t.Fatalf("summary lines: got %d, want 2: %v", len(lines), lines)
	}
	for i, want := range []float64{6, 2} {
		if got := lines[i]["count"]; got != want {
			t.Errorf("line %d: count %v, want %v", i, got, want)
		}
	}
}
