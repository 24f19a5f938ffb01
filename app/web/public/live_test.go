package public_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// ourGoroutines returns the stacks of the goroutines, other than the
// caller's, that run Pharos code (the web shell, the pages, the bus).
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i > 0 && strings.Contains(g, "pharos/app/") {
			out = append(out, g)
		}
	}
	return out
}

// waitGoroutines polls until no more of our goroutines run than want.
func waitGoroutines(t *testing.T, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := ourGoroutines()
		if len(got) <= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of our goroutines still run 3s later, want at most %d; the first:\n%s",
				what, len(got), want, got[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRequestsStartNothing: viewing pages and opening their event streams
// leaves no goroutine behind once the requests are over: nothing is
// started lazily by a request. (Not parallel: it counts the process's
// goroutines.)
func TestRequestsStartNothing(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	for _, slug := range []string{"acme", "beta", "gamma"} {
		seedPublicPage(t, st, fixtureOptions{slug: slug, components: 1, days: 1})
	}
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	srv := webtest.NewServer(t, st, func(o *web.Options) { o.Bus = b })
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	before := len(ourGoroutines())

	client := &http.Client{Transport: &http.Transport{}}
	for _, slug := range []string{"acme", "beta", "gamma"} {
		for _, path := range []string{"/", "/api/v2/summary.json"} {
			res, err := client.Get(hs.URL + "/p/" + slug + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: got %d", slug, path, res.StatusCode)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+"/p/"+slug+"/events", nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		res.Body.Close()
	}
	client.CloseIdleConnections()
	waitGoroutines(t, before, "after the requests ended")
}

// TestRunOwnsItsGoroutines: Run follows the events while it serves and,
// once it returned, none of what it started runs any more, though the bus
// stays open.
func TestRunOwnsItsGoroutines(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 1, days: 1})
	seedPublicPage(t, st, fixtureOptions{slug: "beta", components: 1, days: 1})
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	before := len(ourGoroutines())

	srv := webtest.NewServer(t, st, func(o *web.Options) { o.Bus, o.Listen = b, "127.0.0.1:0" })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr().String()
	streams := map[string]*sseStream{}
	for _, slug := range []string{"acme", "beta"} {
		streams[slug] = openStream(t, base+"/p/"+slug+"/events", "")
		streams[slug].nextID()
	}
	publish(t, b, "acme", f.components[0].ID, incident.MajorOutage)
	if ev := streams["acme"].next(); !strings.Contains(ev.data, `"major_outage"`) {
		t.Errorf("acme's stream: got %+v, want the event", ev)
	}
	streams["beta"].quiet(200 * time.Millisecond) // dispatched by page

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s")
	}
	http.DefaultClient.CloseIdleConnections()
	waitGoroutines(t, before, "after Run returned")
}

// stuckBus is a bus whose subscriptions hang until released, as Redis
// does when it does not answer.
type stuckBus struct {
	*bus.MemoryBus
	release chan struct{}
}

func (b stuckBus) wait(ctx context.Context) error {
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b stuckBus) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	return b.MemoryBus.Subscribe(ctx, channel)
}

func (b stuckBus) SubscribePrefix(ctx context.Context, prefix string) (<-chan bus.Event, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	return b.MemoryBus.SubscribePrefix(ctx, prefix)
}

// TestPagesAnswerWhileTheBusHangs: with the bus's subscription hanging,
// every page's first view and event stream still answer (nothing waits on
// the bus under a lock all pages share); once the bus answers, the open
// streams are told to resync and get the events of their page.
func TestPagesAnswerWhileTheBusHangs(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 1, days: 1})
	seedPublicPage(t, st, fixtureOptions{slug: "beta", components: 1, days: 1})
	mem := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { mem.Close() })
	b := stuckBus{MemoryBus: mem, release: make(chan struct{})}
	srv := webtest.NewServer(t, st, func(o *web.Options) { o.Bus, o.Listen = b, "127.0.0.1:0" })
	base := runServer(t, srv)

	client := &http.Client{Timeout: 3 * time.Second}
	for _, path := range []string{"/p/acme/", "/p/beta/", "/p/beta/api/v2/status.json"} {
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("%s while the bus hangs: %v", path, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s while the bus hangs: got %d, want 200", path, res.StatusCode)
		}
	}
	acme := openStream(t, base+"/p/acme/events", "")
	acme.nextID()
	beta := openStream(t, base+"/p/beta/events", "")
	beta.nextID()

	close(b.release)
	for name, s := range map[string]*sseStream{"acme": acme, "beta": beta} {
		if ev := s.next(); !strings.Contains(ev.data, `"resync"`) {
			t.Errorf("%s's stream once the bus answers: got %+v, want a resync", name, ev)
		}
	}
	publish(t, b, "acme", f.components[0].ID, incident.MajorOutage)
	if ev := acme.next(); !strings.Contains(ev.data, `"major_outage"`) {
		t.Errorf("acme's stream: got %+v, want the event", ev)
	}
	beta.quiet(200 * time.Millisecond)
}
