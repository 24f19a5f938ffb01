package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/web"
)

// TestPublicSeesNoTechnicalDetail runs the pipeline over a check whose URL
// carries a secret query string and whose node answers 503 with an
// internal error text, until its automatic incident opens; then it reads
// every public response of the page — the page, the incident page,
// history, feeds, badges, every Statuspage v2 document, the calendar and
// the live events streamed meanwhile — and none of them carries the secret,
// the URL's path or query, the node's address or port, the check's name,
// a problem code or the raw error text (issue 8, item 4).
func TestPublicSeesNoTechnicalDetail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	regions := []string{"fra", "iad"}
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream db-internal-7 refused: pq: password authentication failed", http.StatusServiceUnavailable)
	})
	tg := h.target("127.0.0.3", failing)
	chk := h.addCheck("lab-secret-health", tg, time.Second, regions)
	secretURL := tg.url() + "health?api_key=SECRET123"
	if _, err := h.st.DB().ExecContext(t.Context(), `UPDATE checks SET url = $1, spec = replace(spec, $2, $1) WHERE id = $3`,
		secretURL, tg.url(), chk.ID); err != nil {
		t.Fatal(err)
	}

	// The web role on the same store, its live events on the harness's bus.
	events := h.bus(bus.Options{})
	srv, err := web.New(web.Options{Store: h.st, Bus: events, Logger: h.log, SecretKey: strings.Repeat("k", 32),
		Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.start("web", srv)() // Run follows the pages' live events
	addr, err := srv.Listening(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String() + "/p/" + h.page.Slug
	sse := streamEvents(t, base+"/events")
	defer sse.stop() // before the server closes, which waits for the stream

	stopAggregator := h.startAggregator()
	defer stopAggregator()
	for _, r := range regions {
		defer h.startWorker(r, r+"-1", realProber(), bus.Options{}).stop()
	}
	_, stopScheduler := h.startScheduler()
	defer stopScheduler()
	waitFor(t, 30*time.Second, "the automatic incident", func() bool {
		return h.count(`SELECT count(*) FROM incidents WHERE org_id = $1 AND automatic`, h.org) == 1
	})
	var incidentID int64
	if err := h.st.DB().QueryRowContext(t.Context(), `SELECT id FROM incidents WHERE org_id = $1`, h.org).Scan(&incidentID); err != nil {
		t.Fatal(err)
	}
	// The console's technical detail does have it all: the test looks in
	// the right place.
	if n := h.count(`SELECT count(*) FROM incident_updates WHERE incident_id = $1 AND technical LIKE '%127.0.0.3%'`, incidentID); n == 0 {
		t.Fatal("the incident's technical detail does not name the node: nothing to hide was produced")
	}

	_, port, _ := strings.Cut(strings.TrimPrefix(tg.url(), "https://"), ":")
	port = strings.TrimSuffix(port, "/")
	forbidden := []string{"SECRET123", "api_key", "/health", "127.0.0.3", ":" + port, "lab-secret-health",
		"status_unexpected", "db-internal-7", "password authentication", "pq:"}
	paths := []string{"/", "/incidents/" + strconv.FormatInt(incidentID, 10), "/history", "/feed.atom", "/feed.rss",
		"/history.atom", "/history.rss", "/badge.svg", "/badge.json", "/maintenance.ics", "/subscribe",
		"/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json", "/api/v2/incidents.json",
		"/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances.json",
		"/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json"}
	sawIncident := false
	for _, p := range paths {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == http.StatusNotFound {
			continue // a route this build does not serve
		}
		text := string(body)
		sawIncident = sawIncident || strings.Contains(text, "Edge")
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Errorf("%s shows %q", p, f)
			}
		}
	}
	if !sawIncident {
		t.Error("no public response names the component: the test read nothing relevant")
	}
	for _, f := range forbidden {
		if got := sse.text(); strings.Contains(got, f) {
			t.Errorf("the live events carry %q", f)
		}
	}
	if sse.text() == "" {
		t.Error("no live event arrived while the incident opened")
	}
}

// eventStream collects a server-sent event stream's data lines.
type eventStream struct {
	mu   sync.Mutex
	buf  strings.Builder
	stop context.CancelFunc
}

func (s *eventStream) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func streamEvents(t *testing.T, u string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &eventStream{stop: cancel}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				s.mu.Lock()
				s.buf.WriteString(line + "\n")
				s.mu.Unlock()
			}
		}
	}()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("event stream: got %d, want 200", res.StatusCode)
	}
	return s
}
