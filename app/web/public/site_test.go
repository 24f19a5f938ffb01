package public_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/public"
	"pharos/app/web/webtest"
)

// newPublicServer serves st with an in-process bus for page events. The
// server runs (Run follows the page events) on a loopback port; the
// browser talks to its handler.
func newPublicServer(t *testing.T, st *store.Store) (*webtest.Browser, *bus.MemoryBus) {
	t.Helper()
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	srv := webtest.NewServer(t, st, func(o *web.Options) { o.Bus, o.Listen = b, "127.0.0.1:0" })
	runServer(t, srv)
	return webtest.NewBrowser(t, srv.Handler()), b
}

// runServer runs srv until the test ends and returns its base URL.
func runServer(t testing.TB, srv *web.Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	addr := srv.Addr()
	if addr == nil {
		t.Fatal("the server did not listen")
	}
	return "http://" + addr.String()
}

// TestPublicRoutes requests every public route and checks status, type and
// a piece of content, on both backends.
func TestPublicRoutes(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		f := seedPublicPage(t, st, fixtureOptions{components: 4, incidents: 3, days: 90})
		br, _ := newPublicServer(t, st)
		incident := "/p/acme/incidents/" + strconv.FormatInt(f.incidents[0], 10)
		cases := []struct {
			path, ctype, contains string
		}{
			{"/p/acme/", "text/html", "Image CDN errors"},
			{incident, "text/html", "A CDN node serves an <strong>expired</strong> certificate."},
			{"/p/acme/history", "text/html", "Incident 2"},
			{"/p/acme/feed.atom", "application/atom+xml", "<entry>"},
			{"/p/acme/feed.rss", "application/rss+xml", "<item>"},
			{"/p/acme/badge.svg", "image/svg+xml", "partial outage"},
			{"/p/acme/api/v2/summary.json", "application/json", `"scheduled_maintenances"`},
			{"/p/acme/api/v2/status.json", "application/json", `"indicator":"major"`},
			{"/p/acme/api/v2/components.json", "application/json", `"name":"Media"`},
			{"/p/acme/api/v2/incidents.json", "application/json", `"name":"Incident 3"`},
			{"/p/acme/api/v2/incidents/unresolved.json", "application/json", `"name":"Image CDN errors"`},
			{"/p/acme/api/v2/scheduled-maintenances.json", "application/json", `"name":"Database upgrade"`},
			{"/p/acme/api/v2/scheduled-maintenances/upcoming.json", "application/json", `"status":"scheduled"`},
			{"/p/acme/api/v2/scheduled-maintenances/active.json", "application/json", `"scheduled_maintenances":[]`},
		}
		for _, tc := range cases {
			res := br.Get(tc.path)
			if res.Code != http.StatusOK {
				t.Errorf("GET %s: got %d, want 200 (%.200s)", tc.path, res.Code, res.Body)
				continue
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("GET %s: got Content-Type %q, want %s", tc.path, ct, tc.ctype)
			}
			if !strings.Contains(res.Body, tc.contains) {
				t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("GET %s: got Access-Control-Allow-Origin %q, want *", tc.path, got)
			}
			if res.Header.Get("ETag") == "" || !strings.Contains(res.Header.Get("Cache-Control"), "max-age=") {
				t.Errorf("GET %s: got ETag %q, Cache-Control %q; want both", tc.path, res.Header.Get("ETag"), res.Header.Get("Cache-Control"))
			}
		}
		if res := br.Get("/p/acme"); res.Code != http.StatusMovedPermanently || res.Header.Get("Location") != "/p/acme/" {
			t.Errorf("GET /p/acme: got %d %q, want 301 to /p/acme/", res.Code, res.Header.Get("Location"))
		}
		for _, p := range []string{"/p/nope/", "/p/acme/incidents/999999", "/p/acme/incidents/x", "/p/acme/history?page=-1"} {
			if res := br.Get(p); res.Code != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: got %d %q, want 404 HTML", p, res.Code, res.Header.Get("Content-Type"))
			}
		}
		res := br.Get("/p/nope/api/v2/summary.json")
		if res.Code != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET unknown summary.json: got %d %q, want 404 JSON", res.Code, res.Header.Get("Content-Type"))
		}
		// Another organisation's incident is not found on this page.
		other := seedPublicPage(t, st, fixtureOptions{slug: "other", components: 1, incidents: 1, days: 1})
		if res := br.Get("/p/acme/incidents/" + strconv.FormatInt(other.incidents[0], 10)); res.Code != http.StatusNotFound {
			t.Errorf("other page's incident on acme: got %d, want 404", res.Code)
		}
	})
}

// TestPublicPageContent checks what the page shows: overall status,
// components with status text, groups, the active incident and its latest
// update, the maintenance, bars with 90 days and the last-updated time.
func TestPublicPageContent(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 4, incidents: 2, days: 90})
	br, _ := newPublicServer(t, st)
	body := br.Get("/p/acme/").Body
	for _, want := range []string{
		`<h1>Partial System Outage</h1>`, `Partial outage</span>`, `Operational</span>`, `>Backend</h3>`,
		`Image CDN errors`, `A CDN node serves an <strong>expired</strong> certificate.`, `Database upgrade`,
		`data-events="/p/acme/events"`, `data-testid="updated"`, `href="/p/acme/subscribe"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	active := body[strings.Index(body, `id="incidents"`):strings.Index(body, `id="maintenance"`)]
	if strings.Contains(active, "Incident 2") {
		t.Error("a resolved incident is listed as active")
	}
	if n := strings.Count(body, "<li"); n < 4*90 {
		t.Errorf("got %d list items, want at least 4 bars of 90 days", n)
	}
	if n := strings.Count(body, "tabindex=0"); n != 4 {
		t.Errorf("got %d bar entry points, want one per bar (4)", n)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Error("the page has inline script or style, which the CSP forbids")
	}
}

// TestPublicPageWeight: the HTML and CSS of a 20-component page with 90-day
// bars and 5 incidents stay under 60 KB uncompressed.
func TestPublicPageWeight(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 20, incidents: 5, days: 90})
	br, _ := newPublicServer(t, st)
	page := br.Get("/p/acme/")
	css := cssOf(t, br, page.Body)
	total := len(page.Body) + len(css)
	t.Logf("HTML %d bytes + CSS %d bytes = %d bytes", len(page.Body), len(css), total)
	if total >= 60_000 {
		t.Errorf("got %d bytes of HTML+CSS, want < 60000", total)
	}
}

func cssOf(t *testing.T, br *webtest.Browser, html string) string {
	t.Helper()
	i := strings.Index(html, `rel="stylesheet" href="`)
	if i < 0 {
		t.Fatal("no stylesheet link")
	}
	rest := html[i+len(`rel="stylesheet" href="`):]
	res := br.Get(rest[:strings.IndexByte(rest, '"')])
	if res.Code != http.StatusOK {
		t.Fatalf("stylesheet: got %d", res.Code)
	}
	return res.Body
}

// TestPublicCache: a matching If-None-Match gets 304; after a page event
// the next request shows the new state with a new ETag.
func TestPublicCache(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 0, days: 3})
		br, b := newPublicServer(t, st)
		for _, path := range []string{"/p/acme/", "/p/acme/api/v2/summary.json"} {
			first := br.Get(path)
			etag := first.Header.Get("ETag")
			if res := br.Do(http.MethodGet, path, nil, map[string]string{"If-None-Match": etag}); res.Code != http.StatusNotModified || res.Body != "" {
				t.Errorf("%s with matching ETag: got %d (%d bytes), want 304 and no body", path, res.Code, len(res.Body))
			}
			if res := br.Do(http.MethodGet, path, nil, map[string]string{"If-None-Match": `"other"`}); res.Code != http.StatusOK {
				t.Errorf("%s with another ETag: got %d, want 200", path, res.Code)
			}
		}
		before := br.Get("/p/acme/api/v2/status.json")
		if !strings.Contains(before.Body, `"indicator":"none"`) {
			t.Fatalf("status before: %s", before.Body)
		}
		ctx := context.Background()
		if err := st.SetComponentStatus(ctx, f.org.ID, f.components[1].ID, incident.MajorOutage, time.Now()); err != nil {
			t.Fatal(err)
		}
		publish(t, b, "acme", f.components[1].ID, incident.MajorOutage)
		after := br.Get("/p/acme/api/v2/status.json")
		if !strings.Contains(after.Body, `"indicator":"critical"`) {
			t.Errorf("status after the event: got %s, want indicator critical", after.Body)
		}
		if after.Header.Get("ETag") == before.Header.Get("ETag") {
			t.Error("the ETag did not change with the content")
		}
		if page := br.Get("/p/acme/"); !strings.Contains(page.Body, "Major System Outage") {
			t.Error("the page after the event does not show the major outage")
		}
	})
}

// publish sends a page event as the aggregator does and waits until the
// server's subscription has had time to see it.
func publish(t *testing.T, b bus.Events, slug string, componentID int64, status string) {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"type": "status", "page": slug,
		"components": []map[string]any{{"id": componentID, "status": status}}})
	if err := b.PublishEvent(context.Background(), pipeline.EventsChannel(slug), payload); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // delivery to the subscriber goroutine is asynchronous
}

// TestPublicCompression: brotli and gzip when accepted, identity otherwise,
// with Vary.
func TestPublicCompression(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 3, incidents: 1, days: 90})
	br, _ := newPublicServer(t, st)
	br.Client().Transport = &http.Transport{DisableCompression: true}
	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br", "br"}, {"gzip", "gzip"}, {"br;q=0, gzip", "gzip"}, {"", ""},
	} {
		res := br.Do(http.MethodGet, "/p/acme/", nil, map[string]string{"Accept-Encoding": tc.accept})
		if got := res.Header.Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: got Content-Encoding %q, want %q", tc.accept, got, tc.want)
		}
		if res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: got Vary %q", tc.accept, res.Header.Get("Vary"))
		}
	}
}

// TestPublicStaleWhenDatabaseIsAway: with the database gone, the last good
// render is served with a visible note instead of an error.
func TestPublicStaleWhenDatabaseIsAway(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 3})
	br, b := newPublicServer(t, st)
	if res := br.Get("/p/acme/"); res.Code != http.StatusOK || strings.Contains(res.Body, `data-testid="stale"`) {
		t.Fatalf("fresh page: got %d, stale note %v", res.Code, strings.Contains(res.Body, `data-testid="stale"`))
	}
	br.Get("/p/acme/api/v2/summary.json")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "acme", f.components[0].ID, incident.Operational) // forces a reload, which fails
	res := br.Get("/p/acme/")
	if res.Code != http.StatusOK || !strings.Contains(res.Body, "Data may be stale") || !strings.Contains(res.Body, "Image CDN errors") {
		t.Errorf("page with the database away: got %d, stale note %v; want 200 with the last data and the note",
			res.Code, strings.Contains(res.Body, "Data may be stale"))
	}
	if res := br.Get("/p/acme/api/v2/summary.json"); res.Code != http.StatusOK || res.Header.Get("X-Pharos-Stale") != "1" {
		t.Errorf("summary with the database away: got %d, X-Pharos-Stale %q", res.Code, res.Header.Get("X-Pharos-Stale"))
	}
}

// TestPublicFirstLoadOutwaitsTheReloadBudget: a page's first load, with no
// earlier state to serve instead, is not cut off at the 3 s a reload gets:
// with its components table locked for 4 s, the first request waits and
// gets the page, not an error.
func TestPublicFirstLoadOutwaitsTheReloadBudget(t *testing.T) {
	t.Parallel()
	st := storetest.Postgres(t)
	seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 3})
	br, _ := newPublicServer(t, st)
	const held = public.ReloadBudget + time.Second
	lockComponents(t, st, held)
	start := time.Now()
	res := br.Get("/p/acme/")
	if took := time.Since(start); res.Code != http.StatusOK || !strings.Contains(res.Body, `data-testid="component"`) || took < public.ReloadBudget {
		t.Errorf("first load behind a %v lock: got %d after %v, components shown %v; want 200 with the components once the lock goes",
			held, res.Code, took.Round(time.Millisecond), strings.Contains(res.Body, `data-testid="component"`))
	}
}

// TestPublicMarkdownIsSanitised: script, javascript: links, event handlers
// and raw HTML in incident text never reach the page, the feeds or the
// incident page.
func TestPublicMarkdownIsSanitised(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 1, incidents: 0, days: 1})
	body := "Hello <script>alert(1)</script> **bold**\n\n" +
		"[click](javascript:alert(2)) [ok](https://example.org/x)\n\n" +
		`<img src=x onerror="alert(3)"> <a href="#" onclick="alert(4)">x</a> <iframe src="https://evil.example"></iframe>` + "\n\n" +
		"<div style=\"position:fixed\">raw</div>\n\n[j2](JaVaScRiPt:alert(5)) ![i](javascript:alert(6))"
	id, err := st.InsertIncident(context.Background(), store.IncidentRecord{OrgID: f.org.ID, PageID: f.page.ID, Name: "XSS <b>test</b>",
		Status: store.IncidentInvestigating, Impact: "minor", StartedAt: time.Now(),
		Updates: []store.UpdateRecord{{Status: store.IncidentInvestigating, Body: body, DisplayAt: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	br, _ := newPublicServer(t, st)
	for _, path := range []string{"/p/acme/", "/p/acme/incidents/" + strconv.FormatInt(id, 10), "/p/acme/history"} {
		page := br.Get(path).Body
		lower := strings.ToLower(page)
		for _, bad := range []string{"<script>alert", "javascript:", "onerror", "onclick", "<iframe", "<img src=x", "<div style", "<b>test"} {
			if strings.Contains(lower, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
		if path != "/p/acme/history" && (!strings.Contains(page, "<strong>bold</strong>") || !strings.Contains(page, `href="https://example.org/x"`)) {
			t.Errorf("%s lost the harmless Markdown", path)
		}
	}
	for _, path := range []string{"/p/acme/feed.atom", "/p/acme/feed.rss"} {
		feed := strings.ToLower(br.Get(path).Body)
		for _, bad := range []string{"&lt;script&gt;alert", "javascript:", "onerror", "onclick", "&lt;iframe"} {
			if strings.Contains(feed, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
	}
}
