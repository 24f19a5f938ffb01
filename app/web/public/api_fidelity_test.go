package public_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestStatuspageKeysMatchRealDocuments compares the key set of every kind
// of object in summary.json with the same object in a document served by a
// real Statuspage page (testdata/statuspage-real): every key Statuspage
// sends is there, and Pharos adds none of its own beyond the listed ones.
func TestStatuspageKeysMatchRealDocuments(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 4, incidents: 2, days: 1})
	srv := webtest.NewServer(t, st, func(o *web.Options) { o.BaseURL = "https://status.example" })
	br := webtest.NewBrowser(t, srv.Handler())

	raw, err := os.ReadFile(filepath.Join("testdata", "statuspage-real", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var real, ours map[string]any
	if err := json.Unmarshal(raw, &real); err != nil {
		t.Fatal(err)
	}
	res := br.Get("/p/acme/api/v2/summary.json")
	if err := json.Unmarshal([]byte(res.Body), &ours); err != nil {
		t.Fatalf("summary.json: %v (%d)", err, res.Code)
	}
	// extra lists keys Pharos sends that the real document lacks, and why.
	extra := map[string][]string{
		// Statuspage's management API has it on maintenances; null here.
		"maintenance": {"reminder_intervals"},
		// The real incident's components predate start_date.
		"incident component": {"start_date"},
		// Only groups list their members.
		"component": {"components"},
	}
	for _, kind := range []struct {
		name string
		pick func(doc map[string]any) map[string]any
	}{
		{"document", func(d map[string]any) map[string]any { return d }},
		{"page", func(d map[string]any) map[string]any { return obj(d["page"]) }},
		{"status", func(d map[string]any) map[string]any { return obj(d["status"]) }},
		{"component", func(d map[string]any) map[string]any { return firstWhere(d["components"], "group", false) }},
		{"group", func(d map[string]any) map[string]any { return firstWhere(d["components"], "group", true) }},
		{"incident", func(d map[string]any) map[string]any { return first(d["incidents"]) }},
		{"incident update", func(d map[string]any) map[string]any { return first(first(d["incidents"])["incident_updates"]) }},
		{"affected component", func(d map[string]any) map[string]any {
			return first(first(first(d["incidents"])["incident_updates"])["affected_components"])
		}},
		{"incident component", func(d map[string]any) map[string]any { return first(first(d["incidents"])["components"]) }},
		{"maintenance", func(d map[string]any) map[string]any { return first(d["scheduled_maintenances"]) }},
		{"maintenance update", func(d map[string]any) map[string]any {
			return first(first(d["scheduled_maintenances"])["incident_updates"])
		}},
	} {
		want, got := keySet(kind.pick(real)), keySet(kind.pick(ours))
		if len(got) == 0 {
			t.Errorf("%s: Pharos's summary.json has none (fixture too small?)", kind.name)
			continue
		}
		for _, k := range want {
			if !slices.Contains(got, k) {
				t.Errorf("%s: key %q of Statuspage's document is missing (got %v)", kind.name, k, got)
			}
		}
		for _, k := range got {
			if !slices.Contains(want, k) && !slices.Contains(extra[kind.name], k) {
				t.Errorf("%s: key %q is not in Statuspage's document", kind.name, k)
			}
		}
	}
	// Statuspage's null values for the keys Pharos has no use for.
	u := first(first(ours["incidents"])["incident_updates"])
	for _, k := range []string{"custom_tweet", "tweet_id"} {
		if v, ok := u[k]; !ok || v != nil {
			t.Errorf("incident update %s = %v, want null", k, v)
		}
	}
	if v, ok := first(ours["scheduled_maintenances"])["reminder_intervals"]; !ok || v != nil {
		t.Errorf("maintenance reminder_intervals = %v, want null", v)
	}
}

// TestStatuspagePositions: positions are 1-based and page-wide, groups
// and components alike, as Statuspage numbers them.
func TestStatuspagePositions(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 4, incidents: 1, days: 1})
	br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
	var doc struct {
		Components []struct {
			ID       string `json:"id"`
			Position int    `json:"position"`
		} `json:"components"`
		Incidents []struct {
			Components []struct {
				ID       string `json:"id"`
				Position int    `json:"position"`
			} `json:"components"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(br.Get("/p/acme/api/v2/summary.json").Body), &doc); err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, c := range doc.Components {
		if c.Position != i+1 {
			t.Errorf("component %s at index %d has position %d, want %d", c.ID, i, c.Position, i+1)
		}
		pos[c.ID] = c.Position
	}
	for _, in := range doc.Incidents {
		for _, c := range in.Components {
			if c.Position != pos[c.ID] {
				t.Errorf("incident component %s has position %d, want %d as in components", c.ID, c.Position, pos[c.ID])
			}
		}
	}
}

// TestPublicAPIPreflight: a browser on another origin may fetch the
// documents with Cache-Control: no-cache (which needs a preflight).
func TestPublicAPIPreflight(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 1, days: 1})
	br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
	for _, p := range []string{"/p/acme/api/v2/summary.json", "/p/acme/api/v2/incidents/unresolved.json", "/p/acme/events",
		"/p/acme/feed.atom", "/p/acme/history.rss", "/p/acme/badge.json"} {
		res := br.Do(http.MethodOptions, p, nil, map[string]string{
			"Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET",
			"Access-Control-Request-Headers": "cache-control,if-none-match"})
		if res.Code != http.StatusNoContent {
			t.Fatalf("OPTIONS %s: got %d, want 204", p, res.Code)
		}
		for h, want := range map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
			"Access-Control-Max-Age":       "86400",
		} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("OPTIONS %s: %s: got %q, want %q", p, h, got, want)
			}
		}
		allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"cache-control", "if-none-match", "pragma", "last-event-id"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("OPTIONS %s: Access-Control-Allow-Headers %q lacks %s", p, allowed, h)
			}
		}
	}
	get := br.Do(http.MethodGet, "/p/acme/api/v2/status.json", nil, map[string]string{"Origin": "https://dashboard.example", "Cache-Control": "no-cache"})
	if get.Code != http.StatusOK || get.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET: got %d with Allow-Origin %q, want 200 with *", get.Code, get.Header.Get("Access-Control-Allow-Origin"))
	}
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func first(v any) map[string]any {
	if l := list(v); len(l) > 0 {
		return obj(l[0])
	}
	return nil
}

func firstWhere(v any, key string, value any) map[string]any {
	for _, e := range list(v) {
		if m := obj(e); m[key] == value {
			return m
		}
	}
	return nil
}

func keySet(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
