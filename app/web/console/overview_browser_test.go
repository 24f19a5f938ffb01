package console_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestBrowserOverviewCheckCertificates opens, in Chromium as a viewer, the
// overview, the detail of a failing check (its problem and chart) and the
// certificate inventory filtered to "nodes disagree" through its form, at
// 1280 and 375 px: at 375 no page scrolls sideways. Screenshots of each.
func TestBrowserOverviewCheckCertificates(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	now := time.Now().UTC()
	seedFailingCheck(t, st, a, now)
	seedLoneCert(t, st, a, now)
	base, _ := webtest.LiveServer(t, st)
	ctx := webtest.BrowserContext(t, 1280, 900)
	do := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); webtest.Do(t, ctx, steps...) }
	text := func(sel string) string {
		t.Helper()
		return webtest.Eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).innerText`, sel))
	}
	count := func(sel string) int {
		t.Helper()
		return webtest.Eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
	}
	// narrow reloads the page at 375 px, checks it does not scroll
	// sideways, takes its screenshot and goes back to 1280 px.
	narrow := func(name, ready string) {
		t.Helper()
		do(chromedp.EmulateViewport(375, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(ready)))
		if w := webtest.Eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
			t.Errorf("%s is %d px wide at 375 px: it scrolls sideways", name, w)
		}
		shot(t, ctx, name, 375)
		do(chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(ready)))
	}

	do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), a.Viewer),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.TestPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="overview"]`)))
	if n := count(`[data-testid="failing-check"]`); n != 1 {
		t.Errorf("overview: %d failing checks, want 1", n)
	}
	if n := count(`[data-testid="region"]`); n != 2 {
		t.Errorf("overview: %d regions, want fra and nyc (syd has no results)", n)
	}
	shot(t, ctx, "overview", 1280)
	narrow("overview", `[data-testid="overview"]`)

	// The failing check, from the overview.
	do(chromedp.Click(chromedp.CSS(`[data-testid="failing-check"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="problems"]`)))
	if got := text(`[data-testid="problems"]`); !contains(got, "cert_expired", "192.0.2.12:443", "fra", "expired") {
		t.Errorf("check problems: %q lacks the expired certificate on node 3 in fra", got)
	}
	if n := count(`[data-testid="chart-chart-day"] svg[role="img"] polyline`); n != 4 {
		t.Errorf("24 h chart: %d lines, want p50 and p95 for fra and nyc", n)
	}
	if got := webtest.Eval[string](t, ctx, `document.getElementById('chart-day-desc').textContent`); !contains(got, "fra", "nyc", "p95") {
		t.Errorf("chart description: %q", got)
	}
	if n := count(`[data-testid="chart-chart-day"] [data-testid="chart-table"] tbody tr`); n < 48 {
		t.Errorf("24 h chart table: %d rows, want an hour per region", n)
	}
	if count(`[data-testid="run-now"]`) != 0 {
		t.Error("a viewer sees Run now")
	}
	shot(t, ctx, "check", 1280)
	narrow("check", `[data-testid="problems"]`)

	// The inventory, filtered to "nodes disagree" with its form.
	do(chromedp.Navigate(base+"/admin/certificates"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="certificates"]`)))
	if n := count(`[data-testid="cert"]`); n != 3 {
		t.Errorf("inventory: %d certificates, want 3", n)
	}
	do(chromedp.SetValue(chromedp.CSS(`select[name="filter"]`), "nodes_disagree"),
		chromedp.Click(chromedp.CSS(`[data-testid="apply-filters"]`)))
	// The unfiltered page has the tag too: wait for the filtered one.
	webtest.WaitTrue(t, ctx, `location.search.includes("filter=nodes_disagree") && document.readyState === "complete"`)
	do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="tag-nodes-disagree"]`)))
	if n := count(`[data-testid="cert"]`); n != 2 {
		t.Errorf("nodes disagree: %d certificates, want the two of the three nodes", n)
	}
	if got := text(`[data-testid="certificates"]`); !contains(got, "192.0.2.12:443", "CN=Old Internal CA") || contains(got, "198.51.100.7:443") {
		t.Errorf("nodes disagree lists the wrong certificates:\n%s", got)
	}
	shot(t, ctx, "certificates", 1280)
	narrow("certificates", `[data-testid="certificates"]`)
}

// contains reports whether s holds every one of parts.
func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
