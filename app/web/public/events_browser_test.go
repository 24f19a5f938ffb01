package public_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// runOn runs a server on addr until the returned stop is called.
func runOn(t *testing.T, st *store.Store, addr string) (base string, b *bus.MemoryBus, stop func()) {
	t.Helper()
	b = bus.NewMemory(bus.Options{})
	srv := webtest.NewServer(t, st, func(o *web.Options) { o.Bus, o.Listen = b, addr })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		b.Close()
	}
	t.Cleanup(stop)
	return "http://" + srv.Addr().String(), b, stop
}

// TestBrowserEventSourceResumesAcrossRestart: a plain EventSource (not
// public.js) receives events with ids; when the server restarts, the
// browser reconnects with Last-Event-ID and the new process sends the
// page's snapshot first, so the client converges without knowing Pharos.
func TestBrowserEventSourceResumesAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := webtest.BrowserContext(t, 800, 600)
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 1})
	base, b, stop := runOn(t, st, "127.0.0.1:0")
	addr := strings.TrimPrefix(base, "http://")

	do(t, ctx, chromedp.Navigate(base+"/p/acme/history"), chromedp.WaitReady(chromedp.CSS(`footer`)))
	eval[bool](t, ctx, `window.got = []; window.es = new EventSource("/p/acme/events");
		es.onmessage = function (e) { got.push({id: e.lastEventId, type: JSON.parse(e.data).type}); }; true`)
	waitJS(t, ctx, `es.readyState === 1`)
	publish(t, b, "acme", f.components[0].ID, incident.MajorOutage)
	waitJS(t, ctx, `got.length === 1 && got[0].id !== "" && got[0].type === "status"`)

	stop()
	runOn(t, st, addr) // the restarted process: same address, no memory of the old ids
	waitJS(t, ctx, `got.length >= 2`)
	second := eval[string](t, ctx, `got[1].type + " " + (got[1].id !== "" && got[1].id !== got[0].id)`)
	if second != "snapshot true" {
		t.Errorf("first event after the restart: %q, want a snapshot with a new id", second)
	}
}

// waitJS polls a JavaScript condition for up to 10 s (EventSource
// reconnects after the stream's retry of 3 s).
func waitJS(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if eval[bool](t, ctx, "!!("+cond+")") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not hold within 10s (got = %s)", cond, eval[string](t, ctx, `JSON.stringify(window.got || null)`))
}
