package public

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"pharos/app/store"
)

// The public pages are served from a per-page render cache. A page's data
// (its snapshot) is loaded once and every response of the page is rendered
// from it at most once; a page event from the bus marks the page dirty, so
// the next request reloads: no page is served older than the last event
// this process received. A short TTL covers changes that publish no event;
// when it runs out, one request reloads while the others keep answering
// from the state they have, so a page under load never stalls on the
// safety net. A reloaded state reuses each render of the previous one
// whose bytes did not change, with its compressed variants and ETag.
// When the database does not answer, the last good snapshot is served with a
// visible "data may be stale" note.

const (
	publicTTL        = 10 * time.Second // safety net for changes without an event
	publicRetry      = 2 * time.Second  // how long a stale page is served before the database is tried again
	publicLoadBudget = 3 * time.Second  // a snapshot load that takes longer counts as a failure
	// publicFirstLoadBudget is the budget of a page's first load, when no
	// earlier state could be served instead: failing it only turns a slow
	// page into an error page, so it may take up to most of the handler's
	// 30 s (middleware.go).
	publicFirstLoadBudget = 20 * time.Second
	// publicRenderBudget bounds a render: the incident and history pages
	// read the store. The cached routes skip the shell's handler timeout
	// (30 s); a first load and a render together stay within it.
	publicRenderBudget = 10 * time.Second
	maxRendersPerKey   = 512 // rendered variants kept per page (incident ids, history pages, hosts)
)

// publicCache holds the pages' entries. Entries exist only for pages that
// were found, so unknown slugs cost a lookup, not memory.
type publicCache struct {
	mu      sync.RWMutex
	entries map[string]*pageEntry
}

type pageEntry struct {
	dirty atomic.Bool // a page event arrived after the current state was loaded
	// mu allows one reload at a time; after an event the other requests
	// wait for it, after the TTL they answer from the current state.
	mu    sync.Mutex
	state atomic.Pointer[pageState]
}

// pageState is one loaded snapshot and what has been rendered from it.
type pageState struct {
	snap    *snapshot
	stale   bool // snap is the last good one; the reload failed
	expires time.Time

	mu       sync.RWMutex
	renders  map[renderKey]*renderSlot
	fallback map[renderKey]*rendered // the previous state's renders, for stale pages
	// previous are the renders of the state this one replaced, reused
	// when a render comes out byte for byte the same; each is dropped
	// once its key is rendered here.
	previous map[renderKey]*rendered
	// afterTTL marks a state loaded because the TTL ran out, not after an
	// event: while one request renders a key, the others answer with the
	// previous state's render of it, as they did during the load.
	afterTTL bool
}

// renderSlot holds one key's render: building it takes the slot's lock, so
// a slow render holds back the requests for its key and no other.
type renderSlot struct {
	mu sync.Mutex
	r  atomic.Pointer[rendered]
}

// renderKey names one response of a page state: the resource and where
// the request came (the links inside depend on it).
type renderKey struct {
	name  string
	place place
}

func newPublicCache() *publicCache { return &publicCache{entries: map[string]*pageEntry{}} }

func (pc *publicCache) entry(slug string) *pageEntry {
	pc.mu.RLock()
	e := pc.entries[slug]
	pc.mu.RUnlock()
	if e != nil {
		return e
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if e = pc.entries[slug]; e == nil {
		e = &pageEntry{}
		pc.entries[slug] = e
	}
	return e
}

func (pc *publicCache) drop(slug string) {
	pc.mu.Lock()
	delete(pc.entries, slug)
	pc.mu.Unlock()
}

// invalidate marks a page dirty after a page event.
func (pc *publicCache) invalidate(slug string) {
	pc.mu.RLock()
	e := pc.entries[slug]
	pc.mu.RUnlock()
	if e != nil {
		e.dirty.Store(true)
	}
}

// Written marks a page dirty after a write made in this process, so the
// writer's next read of the page shows it whether or not the bus event
// comes back (Run may not run, or the bus may be slow); the event still
// tells other processes and the page's open streams.
func (s *Site) Written(slug string) { s.cache.invalidate(slug) }

// invalidateAll marks every page dirty, after events may have been missed.
func (pc *publicCache) invalidateAll() {
	pc.mu.RLock()
	defer pc.mu.RUnlock()
	for _, e := range pc.entries {
		e.dirty.Store(true)
	}
}

func (st *pageState) usable(now time.Time, dirty bool) bool {
	return st != nil && !dirty && now.Before(st.expires)
}

// pageState returns the page's current state, reloading it when an event
// or the TTL says so.
func (s *Site) pageState(ctx context.Context, slug string) (*pageState, error) {
	e := s.cache.entry(slug)
	cur, dirty := e.state.Load(), e.dirty.Load()
	if cur.usable(time.Now(), dirty) {
		return cur, nil
	}
	if cur != nil && !dirty {
		if !e.mu.TryLock() {
			return cur, nil // out of its TTL only, and another request is reloading it
		}
	} else {
		e.mu.Lock()
	}
	defer e.mu.Unlock()
	old, dirty := e.state.Load(), e.dirty.Load()
	if old.usable(time.Now(), dirty) {
		return old, nil // another request reloaded it while we waited
	}
	// Clear the flag before reading: an event that arrives during the load
	// sets it again and forces the next request to reload.
	e.dirty.Store(false)
	budget := publicLoadBudget
	if old == nil {
		budget = publicFirstLoadBudget
	}
	loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	var prev *snapshot
	if old != nil && !dirty && !old.stale {
		prev = old.snap // a reload on the TTL alone
	}
	snap, err := s.loadSnapshot(loadCtx, slug, prev)
	cancel()
	now := time.Now()
	switch {
	case err == nil:
		st := &pageState{snap: snap, expires: now.Add(publicTTL), renders: map[renderKey]*renderSlot{},
			previous: old.done(), afterTTL: old != nil && !dirty}
		e.state.Store(st)
		return st, nil
	case errors.Is(err, store.ErrNotFound):
		s.cache.drop(slug)
		return nil, err
	case old == nil:
		return nil, err
	}
	s.log.WarnContext(ctx, "public page: serving last good data", slog.String("page", slug), slog.Any("error", err))
	st := &pageState{snap: old.snap, stale: true, expires: now.Add(publicRetry), renders: map[renderKey]*renderSlot{},
		fallback: old.done()}
	if old.stale {
		st.fallback = old.fallback
	}
	e.state.Store(st)
	return st, nil
}

// done returns the renders st holds (nil for no state).
func (st *pageState) done() map[renderKey]*rendered {
	if st == nil {
		return nil
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make(map[renderKey]*rendered, len(st.renders))
	for k, slot := range st.renders {
		if r := slot.r.Load(); r != nil {
			out[k] = r
		}
	}
	return out
}

// render returns the response for key, building it from the state at most
// once. A build that fails on a stale page falls back to the last good
// render of the same key.
func (st *pageState) render(ctx context.Context, key renderKey, build func(context.Context, *pageState) (*rendered, error)) (*rendered, error) {
	st.mu.RLock()
	slot := st.renders[key]
	st.mu.RUnlock()
	if slot != nil {
		if r := slot.r.Load(); r != nil {
			return r, nil
		}
	} else {
		st.mu.Lock()
		if slot = st.renders[key]; slot == nil && len(st.renders) < maxRendersPerKey {
			slot = &renderSlot{}
			st.renders[key] = slot
		}
		st.mu.Unlock()
	}
	if slot == nil { // the state holds all it may: build without keeping it
		return st.build(ctx, key, build)
	}
	if !slot.mu.TryLock() {
		if r := st.standIn(key); r != nil {
			return r, nil
		}
		slot.mu.Lock()
	}
	defer slot.mu.Unlock()
	if r := slot.r.Load(); r != nil {
		return r, nil // built while we waited
	}
	r, err := st.build(ctx, key, build)
	if err != nil {
		st.mu.Lock()
		delete(st.renders, key) // a key that fails (an unknown id) takes no room
		st.mu.Unlock()
		return nil, err
	}
	slot.r.Store(r)
	return r, nil
}

// standIn is what answers for key while another request renders it: the
// previous state's render after a TTL reload, nothing after an event.
func (st *pageState) standIn(key renderKey) *rendered {
	if !st.afterTTL {
		return nil
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.previous[key]
}

// build renders key, or takes the previous state's render when the bytes
// are the same, or the last good one when the build fails on a stale page.
func (st *pageState) build(ctx context.Context, key renderKey, build func(context.Context, *pageState) (*rendered, error)) (*rendered, error) {
	ctx, cancel := context.WithTimeout(ctx, publicRenderBudget)
	r, err := build(ctx, st)
	cancel()
	if err != nil {
		if fb, ok := st.fallback[key]; ok && st.stale && !errors.Is(err, store.ErrNotFound) {
			return fb, nil
		}
		return nil, err
	}
	st.mu.Lock()
	prev, ok := st.previous[key]
	delete(st.previous, key)
	st.mu.Unlock()
	if ok && prev.sameAs(r) {
		return prev, nil
	}
	return r, nil
}
