package apply_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

const singleFile = `page: {slug: SLUG, title: Files, timezone: Europe/Berlin, auto_incidents: draft, public_detail: technical}
regions: [fra, iad]
components:
  - name: API
    description: The public API
    checks:
      - name: api health
        url: https://api.example.org/health?full=1
        interval: 30s
        timeout: 5s
        regions: [fra, iad, sin]
        quorum: 2
        confirm: 3
        nodes: [192.0.2.7, "198.51.100.9:8443"]
        expect:
          status: "200-299,304"
          body_contains: [ok, "a, b"]
          body_not_contains: [maintenance]
          body_regex: "^\\{"
          json: {"$.status": "ok", "$.count": 3, "$.text": "3"}
          headers: {Content-Type: application/json}
          max_latency: 2s
        tls: {warn_days: 30, critical_days: 10, issuer: "Let's Encrypt", min_version: "1.2", acme_directory: "https://acme.example.org/dir"}
`

var actor = store.Actor{Name: "user:test"}

// TestFormCheckIsApplysCheck: a page, component and check saved through
// the console's forms are stored exactly as the same file's apply stores
// them; a check's form filled from the store saves back unchanged; what
// apply wrote is managed, what the console wrote is not, and a dry run
// names what the console added.
func TestFormCheckIsApplysCheck(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fileOrg, formOrg := newOrg(t, st, "file-org"), newOrg(t, st, "form-org")
		mustApply(t, st, fileOrg, strings.Replace(singleFile, "SLUG", "from-file", 1), false)
		filePage := onlyPage(t, st, fileOrg)
		fileChecks, err := st.OrgChecks(ctx, fileOrg)
		if err != nil || len(fileChecks) != 1 {
			t.Fatalf("applied checks: %v, %v", fileChecks, err)
		}
		fromFile := fileChecks[0]
		if !filePage.Managed || !fromFile.Managed {
			t.Errorf("applied page managed %v, check managed %v: want both managed", filePage.Managed, fromFile.Managed)
		}

		pg, err := apply.SavePage(ctx, st, apply.Limits{}, formOrg, actor, 0, apply.Fields{"slug": "from-form", "title": "Files",
			"timezone": "Europe/Berlin", "auto_incidents": "draft", "public_detail": "technical", "regions": "fra, iad"})
		if err != nil {
			t.Fatalf("save page: %v", err)
		}
		comp, err := apply.SaveComponent(ctx, st, apply.Limits{}, formOrg, actor, pg.ID, 0, apply.Fields{"name": "API", "description": "The public API"})
		if err != nil {
			t.Fatalf("save component: %v", err)
		}
		chk, err := apply.SaveCheck(ctx, st, apply.Limits{}, formOrg, actor, pg.ID, 0, apply.Fields{
			"component": strconv.FormatInt(comp.ID, 10), "name": "api health", "url": "https://api.example.org/health?full=1",
			"interval": "30s", "timeout": "5s", "regions": "fra iad sin", "quorum": "2", "confirm": "3",
			"nodes": "192.0.2.7\n198.51.100.9:8443", "expect.status": "200-299,304", "expect.body_contains": "ok\na, b",
			"expect.body_not_contains": "maintenance", "expect.body_regex": `^\{`,
			"expect.json": "$.status = ok\n$.count = 3\n$.text = \"3\"", "expect.headers": "Content-Type: application/json",
			"expect.max_latency": "2s", "tls.warn_days": "30", "tls.critical_days": "10", "tls.issuer": "Let's Encrypt",
			"tls.min_version": "1.2", "tls.acme_directory": "https://acme.example.org/dir"})
		if err != nil {
			t.Fatalf("save check: %v (%+v)", err, apply.FormError(err))
		}
		fromForm, err := st.Check(ctx, formOrg, chk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fromForm.Managed {
			t.Error("a check created in the console is marked managed")
		}
		if diff := cmp.Diff(checkConfig(fromFile), checkConfig(fromForm)); diff != "" {
			t.Errorf("the form's check differs from apply's (-file +form):\n%s", diff)
		}
		formPage, err := st.Page(ctx, formOrg, pg.ID)
		if err != nil {
			t.Fatal(err)
		}
		formPage.ID, formPage.OrgID, formPage.Slug, formPage.Managed = filePage.ID, filePage.OrgID, filePage.Slug, true
		if diff := cmp.Diff(filePage, formPage, cmp.FilterPath(func(p cmp.Path) bool {
			return strings.HasSuffix(p.String(), "At")
		}, cmp.Ignore())); diff != "" {
			t.Errorf("the form's page differs from apply's (-file +form):\n%s", diff)
		}

		// The applied check's own values save back as no change at all.
		values, err := apply.CheckValues(fromFile)
		if err != nil {
			t.Fatal(err)
		}
		again, err := apply.SaveCheck(ctx, st, apply.Limits{}, fileOrg, actor, filePage.ID, fromFile.ID, values)
		if err != nil || again.Change != "" || !again.Managed {
			t.Errorf("saving the applied check's values: change %q, managed %v, err %v; want no change to a managed check", again.Change, again.Managed, err)
		}
		values["interval"] = "45s"
		edited, err := apply.SaveCheck(ctx, st, apply.Limits{}, fileOrg, actor, filePage.ID, fromFile.ID, values)
		if err != nil || edited.Change != `~ check "api health" (interval 30s → 45s)` {
			t.Errorf("edit: change %q, err %v", edited.Change, err)
		}

		// Drift: the next apply's dry run shows both the edit it undoes and
		// a check the console added.
		if _, err := apply.SaveCheck(ctx, st, apply.Limits{}, fileOrg, actor, filePage.ID, 0, apply.Fields{
			"component": strconv.FormatInt(fromFile.ComponentID, 10), "name": "extra", "url": "https://example.org/"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateMaintenance(ctx, fileOrg, actor, store.MaintenanceWindow{PageID: filePage.ID, Name: "console window",
			Schedule: "0 3 * * SUN", Duration: time.Hour, TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		rep := mustApply(t, st, fileOrg, strings.Replace(singleFile, "SLUG", "from-file", 1), true)
		want := []string{`~ check "api health" (interval 45s → 30s)`, `- maintenance "console window" (created in the console or through the API)`,
			`- check "extra" (created in the console)`}
		if diff := cmp.Diff(want, rep.Lines); diff != "" {
			t.Errorf("dry run (-want +got):\n%s", diff)
		}
		var audits int
		entries, err := st.AuditLog(ctx, fileOrg, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Actor == "user:test" && strings.Contains(string(e.Detail), `"source":"console"`) {
				audits++
			}
		}
		if audits != 2 {
			t.Errorf("%d console audit rows, want the edit and the new check", audits)
		}

		// A file that names the console's window takes it over: apply marks
		// it managed, so a later removal is not the console's.
		mustApply(t, st, fileOrg, strings.Replace(singleFile, "SLUG", "from-file", 1)+`maintenance:
  - name: console window
    components: [API]
    schedule: "0 3 * * SUN"
    duration: 1h
    timezone: UTC
`, false)
		windows, err := st.MaintenanceWindows(ctx, fileOrg, filePage.ID)
		if err != nil || len(windows) != 1 || !windows[0].Managed {
			t.Errorf("after apply named it: windows %+v, %v; want the one window, managed", windows, err)
		}
	})
}

// storedCheck is what a check's configuration is in the store.
type storedCheck struct {
	Name, URL, Component string
	Spec                 map[string]any
	Regions              []string
	Interval             string
	Quorum, Confirm      int
}

func checkConfig(c store.Check) storedCheck {
	s := storedCheck{Name: c.Name, URL: c.URL, Regions: c.Regions, Interval: c.Interval.String(), Quorum: c.Quorum, Confirm: c.ConfirmRounds}
	if err := json.Unmarshal(c.Spec, &s.Spec); err != nil {
		s.Spec = map[string]any{"undecodable": string(c.Spec)}
	}
	return s
}

func onlyPage(t *testing.T, st *store.Store, orgID int64) store.Page {
	t.Helper()
	pages, err := st.Pages(context.Background(), orgID)
	if err != nil || len(pages) != 1 {
		t.Fatalf("pages: %v, %v", pages, err)
	}
	return pages[0]
}

// TestFormErrorsAreApplys: a form is refused with apply's own messages,
// each on the field it is about, and nothing is written.
func TestFormErrorsAreApplys(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org := newOrg(t, st, "errors")
		pg, err := apply.SavePage(ctx, st, apply.Limits{}, org, actor, 0, apply.Fields{"slug": "errs", "title": "Errors", "regions": "fra"})
		if err != nil {
			t.Fatal(err)
		}
		comp, err := apply.SaveComponent(ctx, st, apply.Limits{}, org, actor, pg.ID, 0, apply.Fields{"name": "API"})
		if err != nil {
			t.Fatal(err)
		}
		base := apply.Fields{"component": strconv.FormatInt(comp.ID, 10), "name": "c", "url": "https://example.org/"}
		for _, tc := range []struct {
			name, key, value, field, message string
		}{
			{"interval too short", "interval", "1s", "interval", "1s is out of range (10s to 24h)"},
			{"interval without unit", "interval", "60", "interval", "want a duration such as 30s"},
			{"bad scheme", "url", "ftp://example.org/", "url", "the scheme must be http or https"},
			{"no url", "url", "", "url", "missing"},
			{"bad region", "regions", "fra Frankfurt", "regions", `"Frankfurt" is not a region name`},
			{"quorum above regions", "quorum", "2", "quorum", "2 is more than the 1 region(s)"},
			{"status", "expect.status", "700", "expect.status", "not an HTTP status code"},
			{"json path", "expect.json", "$.a[ = 1", "expect.json", ""},
			{"json line", "expect.json", "status ok", "expect.json", "KEY = VALUE"},
			{"critical above warn", "tls.critical_days", "30", "tls.critical_days", "more than warn_days 21"},
			{"ca file name", "tls.ca", "ca.pem", "tls.ca", "paste the PEM certificate text"},
			{"bad node", "nodes", "192.0.2.1 nowhere", "nodes", `"nowhere" is not all, first`},
			{"unknown component", "component", "999999", "component", "choose one of this page's components"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := apply.Fields{}
				for k, v := range base {
					f[k] = v
				}
				f[tc.key] = tc.value
				_, err := apply.SaveCheck(ctx, st, apply.Limits{}, org, actor, pg.ID, 0, f)
				errs := apply.FormError(err)
				if len(errs) == 0 {
					t.Fatalf("got %v, want a form error on %s", err, tc.field)
				}
				if errs[0].Path != tc.field || !strings.Contains(errs[0].Message, tc.message) {
					t.Errorf("got %s: %q, want %s: …%s…", errs[0].Path, errs[0].Message, tc.field, tc.message)
				}
			})
		}
		if checks, _ := st.Checks(ctx, org, pg.ID); len(checks) != 0 {
			t.Errorf("refused forms wrote %d checks", len(checks))
		}
		_, err = apply.SavePage(ctx, st, apply.Limits{}, org, actor, 0, apply.Fields{"slug": "errs", "title": "Again", "timezone": "Mars/Olympus"})
		errs := apply.FormError(err)
		if len(errs) != 1 || errs[0].Path != "timezone" {
			t.Errorf("page errors: %+v, want the time zone (the slug is checked once the form is valid)", errs)
		}
		_, err = apply.SavePage(ctx, st, apply.Limits{}, org, actor, 0, apply.Fields{"slug": "errs", "title": "Again"})
		if errs := apply.FormError(err); len(errs) != 1 || errs[0].Path != "slug" || !strings.Contains(errs[0].Message, "already taken") {
			t.Errorf("taken slug: %+v", errs)
		}
	})
}
