package public

import (
	"context"
	"errors"
	"testing"
	"time"

	"pharos/app/store"
)

func jsonRender(body string) func(context.Context, *pageState) (*rendered, error) {
	return func(context.Context, *pageState) (*rendered, error) {
		return newRendered([]byte(body), "application/json", publicCacheControl), nil
	}
}

// TestReloadReusesUnchangedRenders: a state that replaces another takes
// over each render whose bytes did not change, compressed variants and
// all, and renders anew what did.
func TestReloadReusesUnchangedRenders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	same, changed := renderKey{name: "same"}, renderKey{name: "changed"}
	old := &pageState{renders: map[renderKey]*renderSlot{}}
	before, err := old.render(ctx, same, jsonRender(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if before.gzipped().body == nil {
		t.Fatal("no gzip variant")
	}
	oldChanged, err := old.render(ctx, changed, jsonRender(`{"b":1}`))
	if err != nil {
		t.Fatal(err)
	}

	st := &pageState{renders: map[renderKey]*renderSlot{}, previous: old.done()}
	after, err := st.render(ctx, same, jsonRender(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("unchanged render: got a new one, want the previous state's")
	}
	now, err := st.render(ctx, changed, jsonRender(`{"b":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if now == oldChanged || string(now.identity.body) != `{"b":2}` || now.etag == oldChanged.etag {
		t.Errorf("changed render: got %q (etag %s), want the new bytes and a new tag", now.identity.body, now.etag)
	}
	if len(st.previous) != 0 {
		t.Errorf("previous renders left after both keys rendered: %d", len(st.previous))
	}
}

// TestRenderHasABudget: a render runs under publicRenderBudget, since the
// shell's handler timeout skips the cached routes, and a render that runs
// out of it is an unavailable store (503), not a failure of the page.
func TestRenderHasABudget(t *testing.T) {
	t.Parallel()
	st := &pageState{renders: map[renderKey]*renderSlot{}}
	start := time.Now()
	_, err := st.render(context.Background(), renderKey{name: "history:0"}, func(ctx context.Context, _ *pageState) (*rendered, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			t.Error("the render's context has no deadline")
		} else if d := deadline.Sub(start); d < publicRenderBudget || d > publicRenderBudget+time.Minute {
			t.Errorf("the render's deadline is %v away, want %v", d, publicRenderBudget)
		}
		return nil, context.DeadlineExceeded // as a query that ran out of it
	})
	if !store.Unavailable(err) {
		t.Errorf("a render past its budget: got %v, want an error the shell answers with 503", err)
	}
}

// TestFailedRenderKeepsNoSlot: a key whose build fails (an unknown
// incident id) is not remembered, and the next request builds it again.
func TestFailedRenderKeepsNoSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &pageState{renders: map[renderKey]*renderSlot{}}
	key := renderKey{name: "incident:404"}
	_, err := st.render(ctx, key, func(context.Context, *pageState) (*rendered, error) { return nil, store.ErrNotFound })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if len(st.renders) != 0 {
		t.Errorf("renders after a failed build: got %d, want 0", len(st.renders))
	}
	r, err := st.render(ctx, key, jsonRender(`{}`))
	if err != nil || string(r.identity.body) != `{}` {
		t.Errorf("second build: got %v, %v", r, err)
	}
}

// TestExpiredPageAnsweredDuringReload: once a page is past its TTL (and no
// event came), the requests that find another one reloading answer from
// the state they have instead of waiting; after an event they wait.
func TestExpiredPageAnsweredDuringReload(t *testing.T) {
	t.Parallel()
	s := &Site{cache: newPublicCache()} // no store: a request that tried to load would fail
	e := s.cache.entry("acme")
	expired := &pageState{snap: &snapshot{}, expires: time.Now().Add(-time.Second), renders: map[renderKey]*renderSlot{}}
	e.state.Store(expired)
	e.mu.Lock() // a reload in progress
	defer e.mu.Unlock()
	st, err := s.pageState(context.Background(), "acme")
	if err != nil || st != expired {
		t.Fatalf("got %p, %v; want the expired state %p", st, err, expired)
	}

	e.dirty.Store(true)
	got := make(chan *pageState, 1)
	go func() {
		st, _ := s.pageState(context.Background(), "acme")
		got <- st
	}()
	select {
	case st := <-got:
		t.Fatalf("after an event: got state %p while the reload still runs, want the request to wait", st)
	case <-time.After(50 * time.Millisecond):
	}
	fresh := &pageState{snap: &snapshot{}, expires: time.Now().Add(time.Minute), renders: map[renderKey]*renderSlot{}}
	e.state.Store(fresh) // as the reload does
	e.dirty.Store(false)
	e.mu.Unlock()
	if st := <-got; st != fresh {
		t.Errorf("after the reload: got %p, want the reloaded state %p", st, fresh)
	}
	e.mu.Lock() // for the deferred Unlock
}

// TestPreviousRenderStandsInAfterTTL: after a TTL reload, the requests
// that find a key being rendered answer with the previous state's render;
// after an event there is no stand-in, and they wait for the new one.
func TestPreviousRenderStandsInAfterTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := renderKey{name: "page"}
	prev := newRendered([]byte("before"), "text/html; charset=utf-8", publicCacheControl)
	for _, afterTTL := range []bool{true, false} {
		st := &pageState{renders: map[renderKey]*renderSlot{key: {}}, previous: map[renderKey]*rendered{key: prev},
			afterTTL: afterTTL}
		st.renders[key].mu.Lock() // another request is rendering it
		got := make(chan *rendered, 1)
		go func() {
			r, _ := st.render(ctx, key, jsonRender(`{}`))
			got <- r
		}()
		if afterTTL {
			if r := <-got; r != prev {
				t.Errorf("after a TTL reload: got %v, want the previous render", r)
			}
			st.renders[key].mu.Unlock()
			continue
		}
		fresh := newRendered([]byte("after"), "text/html; charset=utf-8", publicCacheControl)
		st.renders[key].r.Store(fresh) // what the other request built
		st.renders[key].mu.Unlock()
		if r := <-got; r != fresh {
			t.Errorf("after an event: got %q, want the new render", r.identity.body)
		}
	}
}
