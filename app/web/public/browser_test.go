package public_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/public"
	"pharos/app/web/webtest"
)

// Real-browser tests of the public page with Chromium through chromedp
// (webtest.BrowserContext). They skip without Chromium on PATH, and fail
// instead when PHAROS_TEST_REQUIRE_SERVICES=1. PHAROS_SCREENSHOT_DIR asks
// for screenshots and keeps them.

// liveServer runs a real server with an in-process bus on a loopback port.
func liveServer(t *testing.T, st *store.Store) (string, *bus.MemoryBus) {
	t.Helper()
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	srv := webtest.NewServer(t, st, func(o *web.Options) { o.Bus, o.Listen = b, "127.0.0.1:0" })
	return runServer(t, srv), b
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserStatusPage: the page renders its components and incident; a
// status change published on the bus shows without a reload (the log
// line says how soon: about 1 s on an idle machine; the wait allows 30 s
// for a loaded one, where the server's reload may run out of its budget
// and public.js fetch the page again);
// Tab reaches an uptime bar day whose tooltip tells its date and uptime,
// and the arrow keys move between days; full-page screenshots at 1280 and
// 320 px.
func TestBrowserStatusPage(t *testing.T) {
	t.Parallel()
	ctx := webtest.BrowserContext(t, 1280, 900)
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 20, incidents: 5, days: 90})
	base, b := liveServer(t, st)

	do(t, ctx, chromedp.Navigate(base+"/p/acme/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="component"]`)))
	components := eval[int](t, ctx, `document.querySelectorAll('[data-testid="component"]').length`)
	incidentText := eval[string](t, ctx, `document.querySelector('[data-testid="incidents"]').innerText`)
	if components != 20 || !strings.Contains(incidentText, "Image CDN errors") {
		t.Errorf("got %d components and incidents %q; want 20 and the CDN incident", components, incidentText)
	}
	webtest.Screenshot(t, ctx, "status-1280.png")

	// Live update without reload. The marker proves the document stayed.
	target := f.components[3]
	eval[bool](t, ctx, `window.__noReload = true`)
	// The EventSource connects after load: wait until it is open.
	octx, ocancel := context.WithTimeout(ctx, 20*time.Second)
	if err := chromedp.Do(octx, chromedp.WaitVisible(chromedp.CSS(`main[data-live-mode="stream"]`))); err != nil {
		ocancel()
		t.Fatalf("the page's event stream did not open: %v", err)
	}
	ocancel()
	if err := st.SetComponentStatus(context.Background(), f.org.ID, target.ID, incident.MajorOutage, time.Now()); err != nil {
		t.Fatal(err)
	}
	published := time.Now()
	publish(t, b, "acme", target.ID, incident.MajorOutage)
	sel := fmt.Sprintf(`[data-component="%d"][data-status="major_outage"]`, target.ID)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel)))
	cancel()
	if err != nil {
		t.Fatalf("the status change did not appear within 30s: %v", err)
	}
	t.Logf("status change visible %s after publishing", time.Since(published).Round(time.Millisecond))
	same := eval[bool](t, ctx, `window.__noReload === true`)
	banner := eval[string](t, ctx, `document.querySelector('[data-testid="status"]').innerText`)
	if !same || !strings.Contains(banner, "Major System Outage") {
		t.Errorf("after the event: same document %v, banner %q; want true and Major System Outage", same, banner)
	}

	// Keyboard: Tab until a bar day has focus; its tooltip names date and uptime.
	isDay := false
	for i := 0; i < 40 && !isDay; i++ {
		do(t, ctx, chromedp.KeyEvent(kb.Tab))
		isDay = eval[bool](t, ctx, `!!document.activeElement.closest('ol.bar')`)
	}
	if !isDay {
		t.Fatal("Tab never reached an uptime bar day")
	}
	read := func() (tip, day, described string, visible bool) {
		return eval[string](t, ctx, `document.querySelector('[data-testid="uptime-tooltip"]').textContent`),
			eval[string](t, ctx, `document.activeElement.textContent`),
			eval[string](t, ctx, `document.activeElement.getAttribute('aria-describedby') || ''`),
			eval[bool](t, ctx, `(function(){var t=document.querySelector('[data-testid="uptime-tooltip"]');return !t.hidden && t.offsetHeight > 0})()`)
	}
	tip, day, described, visible := read()
	today := time.Now().UTC().Format("2 Jan")
	if !visible || tip != day || !strings.HasPrefix(tip, today) || !strings.Contains(tip, "%") || described != "uptime-tip" {
		t.Errorf("focused day: tooltip %q (visible %v, describedby %q), day %q; want a visible tooltip starting %q with an uptime",
			tip, visible, described, day, today)
	}
	do(t, ctx, chromedp.KeyEvent(kb.ArrowLeft))
	tip, day, _, _ = read()
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2 Jan")
	if !strings.HasPrefix(tip, yesterday) || tip != day {
		t.Errorf("after ArrowLeft: tooltip %q, focused day %q; want the day before (%s)", tip, day, yesterday)
	}
	t.Logf("keyboard tooltip: %q", tip)

	// Narrow screen.
	do(t, ctx, chromedp.EmulateViewport(320, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="component"]`)))
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 320 {
		t.Errorf("at 320 px the page is %d px wide: it scrolls sideways", w)
	}
	webtest.Screenshot(t, ctx, "status-320.png")
}

// TestBrowserWithoutJavaScript: with scripts disabled the page is complete:
// status, components, incident, maintenance and every bar day's text.
func TestBrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	ctx := webtest.BrowserContext(t, 1280, 900)
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 3, incidents: 2, days: 90})
	base, _ := liveServer(t, st)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(base+"/p/acme/"), chromedp.WaitReady(chromedp.CSS(`footer`)))
	if eval[bool](t, ctx, `typeof document.getElementById('uptime-tip') === 'object' && document.getElementById('uptime-tip') !== null`) {
		t.Error("the page script ran although scripts are disabled")
	}
	main := eval[string](t, ctx, `document.querySelector('main').innerText`)
	berlin, err := time.LoadLocation("Europe/Berlin") // the fixture page's zone, named beside every time
	if err != nil {
		t.Fatal(err)
	}
	zone := time.Now().In(berlin).Format("MST")
	for _, want := range []string{"Partial System Outage", "Media", "Partial outage", "Image CDN errors", "Database upgrade", zone} {
		if !strings.Contains(main, want) {
			t.Errorf("without JavaScript the page lacks %q", want)
		}
	}
	if days := eval[int](t, ctx, `document.querySelectorAll('ol.bar li').length`); days != 3*90 {
		t.Errorf("got %d bar days, want %d", days, 3*90)
	}
	if text := eval[string](t, ctx, `document.querySelector('ol.bar li:last-child').textContent`); !strings.Contains(text, "%") {
		t.Errorf("a bar day's text is %q, want its date and uptime", text)
	}
}

// TestBrowserLiveUpdateOutlastsASlowReload: when the reload an event
// causes takes longer than the server's budget, the page is served stale
// (X-Pharos-Stale) and public.js fetches it again shortly after, so the
// change still shows once the database answers. The components table is
// locked around the event for a second longer than the budget.
func TestBrowserLiveUpdateOutlastsASlowReload(t *testing.T) {
	t.Parallel()
	ctx := webtest.BrowserContext(t, 1280, 900)
	st := storetest.Postgres(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 3})
	base, b := liveServer(t, st)
	do(t, ctx, chromedp.Navigate(base+"/p/acme/"), chromedp.WaitVisible(chromedp.CSS(`main[data-live-mode="stream"]`)))

	target := f.components[0]
	if err := st.SetComponentStatus(context.Background(), f.org.ID, target.ID, incident.MajorOutage, time.Now()); err != nil {
		t.Fatal(err)
	}
	lockComponents(t, st, public.ReloadBudget+time.Second)
	publish(t, b, "acme", target.ID, incident.MajorOutage)
	sel := fmt.Sprintf(`[data-component="%d"][data-status="major_outage"]`, target.ID)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("the status change did not show after the slow reload: %v", err)
	}
}
