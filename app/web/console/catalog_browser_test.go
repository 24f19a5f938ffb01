package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestBrowserCatalogEditing creates, in Chromium as an editor, a status
// page, a component and a check through the console's forms: a mistake
// (interval 1s) comes back beside its field, the corrected check is
// stored, and its public page lists the component. At 375 px no form
// scrolls sideways. Screenshots of each form at 1280 and 375 px.
func TestBrowserCatalogEditing(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	base, _ := webtest.LiveServer(t, st)
	ctx := webtest.BrowserContext(t, 1280, 900)
	do := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); webtest.Do(t, ctx, steps...) }
	set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
	visible := func(testid string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(`[data-testid="` + testid + `"]`))
	}
	click := func(testid string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(`[data-testid="` + testid + `"]`))
	}
	// both screenshots the current page at 1280 and at 375 px, where it
	// must not scroll sideways, and leaves the viewport at 1280.
	both := func(name string) {
		t.Helper()
		shot(t, ctx, name, 1280)
		do(chromedp.EmulateViewport(375, 800))
		if !webtest.Eval[bool](t, ctx, `document.scrollingElement.scrollWidth <= innerWidth`) {
			t.Errorf("%s scrolls sideways at 375 px: %d > %d", name,
				webtest.Eval[int](t, ctx, `document.scrollingElement.scrollWidth`), webtest.Eval[int](t, ctx, `innerWidth`))
		}
		shot(t, ctx, name, 375)
		do(chromedp.EmulateViewport(1280, 900))
	}

	do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), a.Editor),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.TestPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		visible("new-page"), click("new-page"), visible("page-form"))
	do(set(`#f-title`, "Shop status"), set(`#f-slug`, "shop"), set(`#f-timezone`, "Europe/Berlin"))
	both("page-form")
	do(click("save-page"), visible("page-detail"))
	do(click("edit-page"), visible("new-group"), set(`[data-testid="new-group"] input[name="name"]`, "Backend"),
		chromedp.Click(chromedp.CSS(`[data-testid="new-group"] button`)), visible("group"))
	both("page-edit")
	do(chromedp.Navigate(base+"/admin/pages/"+webtest.ID(pageIDOf(t, st, a.Org.ID, "shop"))), visible("page-detail"))

	do(click("add-component"), visible("component-form"), set(`#f-name`, "Checkout"),
		set(`#f-description`, "Paying for things"), set(`#f-group`, webtest.ID(groupIDOf(t, st, a.Org.ID, "shop"))))
	both("component-form")
	do(click("save-component"), visible("component-detail"))

	do(click("add-check"), visible("check-form"), set(`#f-name`, "checkout"),
		set(`#f-url`, "https://shop.acme.io/health"), set(`#f-interval`, "1s"),
		set(`#f-expect-status`, "200"), set(`#f-expect-body-contains`, "Buy"))
	both("check-form")
	do(click("save-check"), visible("error-interval"))
	if got := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="error-interval"]').innerText`); !strings.Contains(got, "out of range") {
		t.Errorf("interval message: %q", got)
	}
	if got := webtest.Eval[string](t, ctx, `document.getElementById('f-interval').getAttribute('aria-describedby')`); !strings.Contains(got, "e-interval") {
		t.Errorf("the interval field is not described by its message: %q", got)
	}
	both("check-form-error")
	do(set(`#f-interval`, "30s"), click("save-check"), visible("check-detail"))
	both("check-detail")

	var url, interval string
	deadline := time.Now().Add(3 * time.Second)
	for {
		checks, err := st.OrgChecks(t.Context(), a.Org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			if c.Name == "checkout" {
				url, interval = c.URL, c.Interval.String()
			}
		}
		if url != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if url != "https://shop.acme.io/health" || interval != "30s" {
		t.Errorf("stored check: url %q interval %q, want the form's", url, interval)
	}

	do(chromedp.Navigate(base+"/p/shop/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="component"]`)))
	if got := webtest.Eval[string](t, ctx, `document.body.innerText`); !strings.Contains(got, "Checkout") {
		t.Errorf("public page lacks the new component:\n%s", got)
	}
}

func pageIDOf(t *testing.T, st *store.Store, orgID int64, slug string) int64 {
	t.Helper()
	pages, err := st.Pages(t.Context(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if p.Slug == slug {
			return p.ID
		}
	}
	t.Fatalf("no page %q", slug)
	return 0
}

func groupIDOf(t *testing.T, st *store.Store, orgID int64, slug string) int64 {
	t.Helper()
	groups, err := st.ComponentGroups(t.Context(), orgID, pageIDOf(t, st, orgID, slug))
	if err != nil || len(groups) != 1 {
		t.Fatalf("groups of %s: %v, %v", slug, groups, err)
	}
	return groups[0].ID
}
