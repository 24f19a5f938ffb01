package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pharos/app/store/storetest"
)

// TestEventStreamsOutOfLatencyHistogram: an event stream lasts as long as
// its reader; it is counted, but its duration stays out of the latency
// histogram, at /p/{slug}/events and at /events on a custom domain.
func TestEventStreamsOutOfLatencyHistogram(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedChecks(t, st, "acme", "status.acme.test", 1, []string{"fra"})
	srv := newMetricsShell(t, st, false)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	stream := func(path, host string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64)
		n, err := resp.Body.Read(buf)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(buf[:n]), ": connected") {
			t.Fatalf("%s on %s: got %d %q (%v), want the stream's greeting", path, host, resp.StatusCode, buf[:n], err)
		}
	}
	stream("/p/acme/events", "127.0.0.1")
	stream("/events", "status.acme.test")
	if rec := get(t, srv.Handler(), "/p/acme/"); rec.Code != http.StatusOK {
		t.Fatalf("/p/acme/: got %d", rec.Code)
	}

	// The streams are logged when their handlers return, after the
	// client went away: poll for both.
	const counted = `pharos_http_requests_total{method="GET",route="/p/:slug/events",status="200"} 2`
	var body string
	for deadline := time.Now().Add(5 * time.Second); ; {
		body = get(t, srv.Handler(), "/metrics").Body.String()
		if strings.Contains(body, counted) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(body, counted) {
		t.Fatalf("the two streams are not counted (%s):\n%s", counted, grepLines(body, "pharos_http_requests_total"))
	}
	if strings.Contains(body, `pharos_http_request_duration_seconds_count{method="GET",route="/p/:slug/events"}`) {
		t.Errorf("event streams are in the latency histogram:\n%s", grepLines(body, "pharos_http_request_duration_seconds_count"))
	}
	if !strings.Contains(body, `pharos_http_request_duration_seconds_count{method="GET",route="/p/:slug/"} 1`) {
		t.Errorf("the page is not in the latency histogram:\n%s", grepLines(body, "pharos_http_request_duration_seconds_count"))
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
