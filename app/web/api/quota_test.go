package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestAPIApplyQuota: POST /api/v1/apply refuses a file beyond the
// operator's limits whole, dry run or not, with 422 naming the limit, its
// value and its variable at the line it is about, and takes one exactly
// at them.
func TestAPIApplyQuota(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a") // one page, one component, one check
		lim := apply.Limits{Checks: 2, Components: 2, Pages: 2, MinInterval: time.Minute}
		b := webtest.NewBrowser(t, webtest.NewServer(t, st, func(o *web.Options) { o.Limits = lim }).Handler())
		post := func(path, body string) (int, []apply.FieldError) {
			t.Helper()
			res := b.Do(http.MethodPost, path, body, webtest.Bearer(a.EditTok))
			var out struct {
				Details []apply.FieldError `json:"details"`
			}
			if res.Code == http.StatusUnprocessableEntity {
				if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
					t.Fatalf("422 body %q: %v", res.Body, err)
				}
			}
			return res.Code, out.Details
		}
		// applyYAML is a second page with one component and one check:
		// the organisation's second of each, every minute.
		for _, dryRun := range []string{"?dry_run=1", ""} {
			if code, details := post("/api/v1/apply"+dryRun, applyYAML); code != http.StatusOK {
				t.Fatalf("at the limits%s: got %d %v, want 200", dryRun, code, details)
			}
		}
		pages, _ := st.Pages(t.Context(), a.Org.ID)
		checks, _ := st.OrgChecks(t.Context(), a.Org.ID)

		more := applyYAML + "      - name: api root\n        url: https://api.acme.example/\n        interval: 30s\n"
		want := []apply.FieldError{
			{Line: 11, Path: "checks", Message: "3 checks would exceed this organisation's limit of 2 (PHAROS_MAX_CHECKS)"},
		}
		wantInterval := apply.FieldError{Line: 13, Path: "components[0].checks[1].interval",
			Message: "30s is more often than this service allows: the shortest interval is 1m (PHAROS_MIN_INTERVAL)"}
		for _, dryRun := range []string{"?dry_run=1", ""} {
			code, details := post("/api/v1/apply"+dryRun, more)
			if code != http.StatusUnprocessableEntity || len(details) != 1 || details[0] != wantInterval {
				t.Errorf("a check every 30s%s: got %d %+v, want 422 %+v", dryRun, code, details, wantInterval)
			}
			code, details = post("/api/v1/apply"+dryRun, strings.Replace(more, "interval: 30s", "interval: 2m", 1))
			if code != http.StatusUnprocessableEntity || len(details) != 1 || details[0] != want[0] {
				t.Errorf("a third check%s: got %d %+v, want 422 %+v", dryRun, code, details, want)
			}
		}
		third := strings.Replace(applyYAML, "slug: acme", "slug: third", 1)
		code, details := post("/api/v1/apply", third)
		wantPage := apply.FieldError{Line: 2, Path: "pages", Message: "3 pages would exceed this organisation's limit of 2 (PHAROS_MAX_PAGES)"}
		if code != http.StatusUnprocessableEntity || len(details) == 0 || details[0] != wantPage {
			t.Errorf("a third page: got %d %+v, want 422 starting %+v", code, details, wantPage)
		}
		pagesAfter, _ := st.Pages(t.Context(), a.Org.ID)
		checksAfter, _ := st.OrgChecks(t.Context(), a.Org.ID)
		if len(pagesAfter) != len(pages) || len(checksAfter) != len(checks) || len(checks) != 2 {
			t.Errorf("refused applies wrote: pages %d → %d, checks %d → %d", len(pages), len(pagesAfter), len(checks), len(checksAfter))
		}
	})
}
