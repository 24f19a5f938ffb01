package public_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/public"
	"pharos/app/web/webtest"
)

// TestBrowserPollsWhenStreamsAreFull: with every event stream taken, the
// page's /events answers 503 and public.js keeps the page current by
// polling (a change made afterwards shows without a reload), then takes a
// stream again once one is free.
func TestBrowserPollsWhenStreamsAreFull(t *testing.T) {
	t.Parallel()
	ctx := webtest.BrowserContext(t, 800, 600)
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, days: 1})
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	srv := webtest.NewServer(t, st, func(o *web.Options) {
		o.Bus, o.Listen = b, "127.0.0.1:0"
		o.Streams = public.StreamLimits{Max: 1, RetryAfter: time.Second}
	})
	base := runServer(t, srv)
	held := openStream(t, base+"/p/acme/events", "") // the only slot
	held.nextID()

	do(t, ctx, chromedp.Navigate(base+"/p/acme/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="component"]`)))
	eval[bool](t, ctx, `window.__noReload = true`)
	waitJS(t, ctx, `document.querySelector("main").getAttribute("data-live-mode") === "poll"`)

	target := f.components[1]
	if err := st.SetComponentStatus(context.Background(), f.org.ID, target.ID, incident.MajorOutage, time.Now()); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "acme", target.ID, incident.MajorOutage) // the server's cache learns of it; the browser only polls
	waitJS(t, ctx, fmt.Sprintf(`document.querySelector('[data-component="%d"][data-status="major_outage"]')`, target.ID))
	if !eval[bool](t, ctx, `window.__noReload === true`) {
		t.Error("the page reloaded instead of updating in place")
	}

	held.res.Body.Close()
	waitJS(t, ctx, `document.querySelector("main").getAttribute("data-live-mode") === "stream"`)
}
