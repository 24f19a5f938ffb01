package public_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestPublicEventsStream: the stream opens with a comment, relays a page
// event as an SSE message, and ends when the server shuts down (rather than
// holding shutdown for its whole timeout).
func TestPublicEventsStream(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 1, days: 1})
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	srv := webtest.NewServer(t, st, func(o *web.Options) {
		o.Bus, o.Listen, o.ShutdownTimeout = b, "127.0.0.1:0", 10*time.Second
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr().String()

	res, err := http.Get(base + "/p/acme/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("got Content-Type %q, want text/event-stream", ct)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(prefix string) string {
		t.Helper()
		deadline := time.After(2 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream ended before a line starting %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-deadline:
				t.Fatalf("no line starting %q within 2s", prefix)
			}
		}
	}
	expect(": connected")
	publish(t, b, "acme", f.components[0].ID, incident.MajorOutage)
	if l := expect("data: "); !strings.Contains(l, `"major_outage"`) {
		t.Errorf("got %q, want the event's payload", l)
	}

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of shutdown with an open event stream")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s with an open stream", d)
	}
	for range lines { // the stream ends
	}
}

// TestPublicCustomDomain: the page's own domain serves the page at / (links
// without the /p/{slug} prefix); other hosts keep / for setup and console.
func TestPublicCustomDomain(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 2, domain: "status.acme.example"})
	br, _ := newPublicServer(t, st)
	withHost := func(host, path string) webtest.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, br.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		res, err := br.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return webtest.Response{Code: res.StatusCode, Header: res.Header, Body: string(body)}
	}
	onDomain := func(path string) webtest.Response { return withHost("status.acme.example", path) }
	page := onDomain("/")
	if page.Code != http.StatusOK || !strings.Contains(page.Body, "Image CDN errors") {
		t.Fatalf("custom domain /: got %d", page.Code)
	}
	if strings.Contains(page.Body, `href="/p/acme/`) || !strings.Contains(page.Body, `href="/history"`) {
		t.Error("links on the custom domain should be at its root")
	}
	for _, p := range []string{"/history", "/api/v2/summary.json", "/feed.atom", "/badge.svg", "/subscribe"} {
		if res := onDomain(p); res.Code != http.StatusOK {
			t.Errorf("custom domain %s: got %d, want 200", p, res.Code)
		}
	}
	if res := onDomain("/api/v2/summary.json"); !strings.Contains(res.Body, `"url":"https://status.acme.example"`) {
		t.Errorf("summary on the custom domain: page url is not the domain: %.200s", res.Body)
	}
	for _, host := range []string{"127.0.0.1", "other.example", "localhost:8080"} {
		res := withHost(host, "/")
		if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/setup" {
			t.Errorf("host %q /: got %d %q, want 303 to /setup", host, res.Code, res.Header.Get("Location"))
		}
	}
}

// TestPublicHistoryPagination: three months per page, newest first, with
// an Older link while older incidents exist.
func TestPublicHistoryPagination(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 1, days: 1})
	old := time.Now().UTC().AddDate(0, -4, 0)
	resolved := old.Add(time.Hour)
	if _, err := st.InsertIncident(context.Background(), store.IncidentRecord{OrgID: f.org.ID, PageID: f.page.ID, Name: "Old outage",
		Status: store.IncidentResolved, Impact: "critical", StartedAt: old, ResolvedAt: &resolved,
		Updates: []store.UpdateRecord{{Status: store.IncidentResolved, Body: "Fixed.", DisplayAt: resolved}}}); err != nil {
		t.Fatal(err)
	}
	br, _ := newPublicServer(t, st)
	first := br.Get("/p/acme/history").Body
	if strings.Count(first, `data-testid="month"`) != 3 || strings.Contains(first, "Old outage") || !strings.Contains(first, `href="/p/acme/history?page=1"`) {
		t.Errorf("history page 0: want 3 months, no old outage, an Older link")
	}
	second := br.Get("/p/acme/history?page=1").Body
	if !strings.Contains(second, "Old outage") || strings.Contains(second, `data-testid="older"`) || !strings.Contains(second, `href="/p/acme/history"`) {
		t.Errorf("history page 1: want the old outage, a Newer link and no Older link")
	}
}
