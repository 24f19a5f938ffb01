package console_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestBrowserEveryConsolePageOnAPhone opens every console page the router
// serves (GET /admin/…, ids filled from a seeded organisation with a
// failing check, certificates, an incident, an invitation, a long audit
// detail and a second organisation) in Chromium as the owner, at 375 px:
// none scrolls sideways nor has a table wider than the screen (cut off in
// its scroll box), none is an error page, none repeats the site's navigation;
// then the header's switcher moves the session to the second organisation.
// Screenshots of each at 1280 and 375 px. A page added later is covered
// without touching this test.
func TestBrowserEveryConsolePageOnAPhone(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	a := webtest.SeedTenant(t, st, "a")
	b := webtest.SeedTenant(t, st, "b")
	now := time.Now().UTC()
	seedFailingCheck(t, st, a, now)
	seedLoneCert(t, st, a, now)
	if err := st.AddMember(ctx, b.Org.ID, userID(t, st, a.Owner), store.RoleViewer); err != nil {
		t.Fatal(err)
	}
	var incident int64
	if err := st.DB().QueryRowContext(ctx, webtest.Rebind(st, `INSERT INTO incidents (org_id, page_id, check_id, name, status, impact)
		VALUES (?, ?, ?, ?, 'investigating', 'major') RETURNING id`), a.Org.ID, a.PageID, a.CheckID,
		"Elevated error rates on the public API for customers in every region").Scan(&incident); err != nil {
		t.Fatal(err)
	}
	owner := userID(t, st, a.Owner) // before the transaction: it reads on a connection of its own
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		_, _, err := tx.CreateInvite(ctx, a.Org.ID, "a-new-colleague-with-a-long-address@a.example", store.RoleEditor, owner)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.Audit(ctx, a.Org.ID, store.CLIActor(), "component.status", fmt.Sprintf("component %d", a.CompID),
		map[string]any{"page_id": a.PageID, "note": strings.Repeat("a-very-long-unbroken-detail-", 20)}); err != nil {
		t.Fatal(err)
	}

	ids := map[string]int64{"pages": a.PageID, "components": a.CompID, "checks": a.CheckID, "incidents": incident}
	var paths []string
	for _, r := range webtest.NewServer(t, st, nil).Handler().(*echo.Echo).Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/admin/") {
			continue
		}
		p := r.Path
		if strings.Contains(p, ":id") {
			kind := strings.Split(p, "/")[2]
			id, ok := ids[kind]
			if !ok {
				t.Fatalf("no fixture id for %s: add one", p)
			}
			p = strings.Replace(p, ":id", webtest.ID(id), 1)
		}
		if strings.Contains(p, ":") {
			t.Fatalf("no fixture for the parameters of %s: add one", p)
		}
		if p == "/admin/incidents/new" || p == "/admin/maintenance/new" {
			p += "?page=" + webtest.ID(a.PageID) // written for one page
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if len(paths) < 20 {
		t.Fatalf("found %d console pages, want every one (%v)", len(paths), paths)
	}

	base, _ := webtest.LiveServer(t, st)
	// A tab per width, each within BrowserContext's minute, side by side.
	for _, width := range []int{1280, 375} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			t.Parallel()
			bctx := webtest.BrowserContext(t, width, 800)
			webtest.Do(t, bctx, chromedp.Navigate(base+"/login"),
				chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), a.Owner),
				chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.TestPassword),
				chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="overview"]`)))
			for _, p := range paths {
				phonePage(t, bctx, base, p, width)
			}
			// The switcher in a real browser: the replaced session cookie
			// takes, and the console is then b's.
			webtest.Do(t, bctx, chromedp.Navigate(base+"/admin/"), chromedp.Click(chromedp.CSS(`[data-testid="switch-org"]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="org-switch"]`)), chromedp.Click(chromedp.CSS(`[data-testid="org-switch"]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="overview"]`)))
			if got := webtest.Eval[string](t, bctx, `document.querySelector('[data-testid="org-name"]').innerText`); got != b.Org.Name {
				t.Errorf("after switching in the browser, the header names %q, want %q", got, b.Org.Name)
			}
		})
	}
}

// phonePage opens one console page at width and checks it.
func phonePage(t *testing.T, bctx context.Context, base, p string, width int) {
	t.Helper()
	webtest.Do(t, bctx, chromedp.EmulateViewport(int64(width), 800), chromedp.Navigate(base+p),
		chromedp.WaitVisible(chromedp.CSS(`main`)))
	if h := webtest.Eval[string](t, bctx, `(document.querySelector("h1")||{}).innerText||""`); h == "" || strings.Contains(h, "Not found") || strings.Contains(h, "Forbidden") {
		t.Errorf("%s: heading %q, want the page", p, h)
	}
	if n := webtest.Eval[int](t, bctx, `document.querySelectorAll("header a[href='/admin/'], nav a[href='/admin/']").length`); n != 1 {
		t.Errorf("%s: %d navigation links to the console's start, want 1 (no duplicated navigation)", p, n)
	}
	if n := webtest.Eval[int](t, bctx, `document.querySelectorAll("nav.console").length`); n > 1 {
		t.Errorf("%s: %d console section navs, want at most 1", p, n)
	}
	if width <= 375 {
		sw := webtest.Eval[int](t, bctx, `document.scrollingElement.scrollWidth`)
		iw := webtest.Eval[int](t, bctx, `window.innerWidth`)
		if sw > iw {
			wide := webtest.Eval[string](t, bctx, `[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > window.innerWidth && !e.closest(".scroll")).slice(0, 5).map(e => e.tagName + "." + e.className + " " + (e.getAttribute("data-testid")||"")).join(", ")`)
			t.Errorf("%s is %d px wide at %d px: it scrolls sideways (widest: %s)", p, sw, iw, wide)
		}
		// A table in a .scroll box keeps the page from scrolling, but
		// its columns past the edge are cut off all the same: on a phone
		// every table fits (class stack makes each row a card).
		cut := webtest.Eval[string](t, bctx, `[...document.querySelectorAll("main table")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => (e.getAttribute("data-testid")||"table") + " to " + Math.round(e.getBoundingClientRect().right) + " px").join(", ")`)
		if cut != "" {
			t.Errorf("%s: at %d px, tables reach past the screen's edge, their last columns cut off: %s", p, iw, cut)
		}
	}
	name := strings.NewReplacer("/admin/", "", "/", "-", "?", "-", "=", "-").Replace(p)
	if name == "" {
		name = "home"
	}
	shot(t, bctx, "phone-"+name, width)
}
