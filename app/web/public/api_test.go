package public_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// DESIGN §8's field lists (a contract): every object of the API has exactly
// these fields.
var (
	designPage      = []string{"id", "name", "url", "time_zone", "updated_at"}
	designStatus    = []string{"indicator", "description"}
	designComponent = []string{"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
		"start_date", "group_id", "page_id", "group", "only_show_if_degraded"}
	designIncident = []string{"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
		"shortlink", "started_at", "page_id", "incident_updates", "components"}
	designUpdate = []string{"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
		"affected_components", "deliver_notifications", "custom_tweet", "tweet_id"}
	designAffected    = []string{"code", "name", "old_status", "new_status"}
	designMaintenance = append(slices.Clone(designIncident), "scheduled_for", "scheduled_until", "reminder_intervals")

	indicators          = []string{"none", "minor", "major", "critical", "maintenance"}
	componentStatuses   = []string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
	incidentStatuses    = []string{"investigating", "identified", "monitoring", "resolved", "postmortem"}
	impacts             = []string{"none", "minor", "major", "critical"}
	maintenanceStatuses = []string{"scheduled", "in_progress", "verifying", "completed"}
)

// statuspageTime is Statuspage's format: RFC 3339 with milliseconds, UTC.
var statuspageTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestStatuspageAPIShapes checks every endpoint's document against DESIGN
// §8 field by field and value set by value set, then against its golden
// file (times normalised), on both backends.
func TestStatuspageAPIShapes(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		seedPublicPage(t, st, fixtureOptions{components: 4, incidents: 3, days: 2})
		srv := webtest.NewServer(t, st, func(o *web.Options) { o.BaseURL = "https://status.example" })
		br := webtest.NewBrowser(t, srv.Handler())
		tops := map[string][]string{
			"summary.json":                         {"page", "components", "incidents", "scheduled_maintenances", "status"},
			"status.json":                          {"page", "status"},
			"components.json":                      {"page", "components"},
			"incidents.json":                       {"page", "incidents"},
			"incidents/unresolved.json":            {"page", "incidents"},
			"scheduled-maintenances.json":          {"page", "scheduled_maintenances"},
			"scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
			"scheduled-maintenances/active.json":   {"page", "scheduled_maintenances"},
		}
		for name, top := range tops {
			res := br.Get("/p/acme/api/v2/" + name)
			var doc map[string]any
			if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
				t.Fatalf("%s: %v (%d %.200s)", name, err, res.Code, res.Body)
			}
			c := shapeChecker{t: t, where: name}
			c.keys("document", doc, top)
			c.page(doc["page"])
			if s, ok := doc["status"]; ok {
				c.keys("status", s, designStatus)
				c.oneOf("status.indicator", s.(map[string]any)["indicator"], indicators)
			}
			for _, comp := range list(doc["components"]) {
				c.component(comp)
			}
			for _, in := range list(doc["incidents"]) {
				c.incident(in, false)
			}
			for _, m := range list(doc["scheduled_maintenances"]) {
				c.incident(m, true)
			}
			golden(t, name, normaliseTimes(doc))
		}
	})
}

type shapeChecker struct {
	t     *testing.T
	where string
}

func (c shapeChecker) keys(what string, v any, want []string) {
	c.t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		c.t.Errorf("%s: %s is %T, want an object", c.where, what, v)
		return
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	w := slices.Clone(want)
	sort.Strings(w)
	if diff := cmp.Diff(w, got); diff != "" {
		c.t.Errorf("%s: %s fields differ from DESIGN §8 (-want +got):\n%s", c.where, what, diff)
	}
}

func (c shapeChecker) oneOf(what string, v any, set []string) {
	c.t.Helper()
	if s, ok := v.(string); !ok || !slices.Contains(set, s) {
		c.t.Errorf("%s: %s = %v, want one of %v", c.where, what, v, set)
	}
}

func (c shapeChecker) time(what string, v any, nullable bool) {
	c.t.Helper()
	if v == nil && nullable {
		return
	}
	if s, ok := v.(string); !ok || !statuspageTime.MatchString(s) {
		c.t.Errorf("%s: %s = %v, want a time like 2026-11-21T10:00:00.000Z", c.where, what, v)
	}
}

func (c shapeChecker) page(v any) {
	c.keys("page", v, designPage)
	c.time("page.updated_at", v.(map[string]any)["updated_at"], false)
}

func (c shapeChecker) component(v any) {
	m := v.(map[string]any)
	want := designComponent
	if m["group"] == true {
		want = append(slices.Clone(designComponent), "components") // a group lists its members, as on Statuspage
	}
	c.keys("component", m, want)
	c.oneOf("component.status", m["status"], componentStatuses)
	c.time("component.created_at", m["created_at"], false)
	c.time("component.updated_at", m["updated_at"], false)
}

func (c shapeChecker) incident(v any, maintenance bool) {
	m := v.(map[string]any)
	if maintenance {
		c.keys("maintenance", m, designMaintenance)
		c.oneOf("maintenance.status", m["status"], maintenanceStatuses)
		c.time("maintenance.scheduled_for", m["scheduled_for"], false)
		c.time("maintenance.scheduled_until", m["scheduled_until"], false)
	} else {
		c.keys("incident", m, designIncident)
		c.oneOf("incident.status", m["status"], incidentStatuses)
		c.oneOf("incident.impact", m["impact"], impacts)
	}
	for _, f := range []string{"created_at", "updated_at", "started_at"} {
		c.time("incident."+f, m[f], false)
	}
	c.time("incident.monitoring_at", m["monitoring_at"], true)
	c.time("incident.resolved_at", m["resolved_at"], true)
	for _, u := range list(m["incident_updates"]) {
		c.keys("incident update", u, designUpdate)
		um := u.(map[string]any)
		for _, f := range []string{"created_at", "updated_at", "display_at"} {
			c.time("incident update."+f, um[f], false)
		}
		for _, a := range list(um["affected_components"]) {
			c.keys("affected component", a, designAffected)
		}
	}
	for _, comp := range list(m["components"]) {
		c.component(comp)
	}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// normaliseTimes replaces times (which depend on when the test runs) so the
// rest of the document can be compared with its golden file.
func normaliseTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normaliseTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normaliseTimes(e)
		}
	case string:
		if statuspageTime.MatchString(x) {
			return "<time>"
		}
	}
	return v
}

// golden compares v with testdata/statuspage/{name}; -update rewrites it.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := []byte(buf.String())
	path := filepath.Join("testdata", "statuspage", strings.ReplaceAll(name, "/", "_"))
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestStatuspageAPIShapes ./app/web/ -update)", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); diff != "" {
		t.Errorf("%s differs from %s (-want +got):\n%s", name, path, diff)
	}
}
