package probes

import (
	"context"
	"sync"
	"time"
)

// Side fetches (CRLs, OCSP answers, ACME renewal windows) are cached per
// Prober: a value until the expiry its fetch names, a failure for
// fetchFailTTL, so a worker asks each source once per update however many
// checks need it.
const (
	fetchCacheSize = 512
	fetchFailTTL   = 5 * time.Minute
)

// fetchCache remembers fetched values by key. Concurrent callers needing
// the same key wait for one fetch.
type fetchCache[V any] struct {
	mu      sync.Mutex
	entries map[string]*fetchEntry[V]
}

type fetchEntry[V any] struct {
	done    chan struct{}
	val     V
	expires time.Time
	err     error
}

func newFetchCache[V any]() *fetchCache[V] {
	return &fetchCache[V]{entries: map[string]*fetchEntry[V]{}}
}

// get returns the value for key, calling fetch when it is absent or
// expired at now. fetch returns the value and when it expires.
func (c *fetchCache[V]) get(ctx context.Context, key string, now time.Time, fetch func() (V, time.Time, error)) (V, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok {
		select {
		case <-e.done:
			ok = !now.After(e.expires)
		default: // another probe is fetching it
		}
	}
	if !ok {
		if len(c.entries) >= fetchCacheSize {
			clear(c.entries)
		}
		e = &fetchEntry[V]{done: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		e.val, e.expires, e.err = fetch()
		switch {
		case e.err != nil && ctx.Err() != nil:
			e.expires = now // this probe ran out of time: the next one tries again
		case e.err != nil:
			e.expires = now.Add(fetchFailTTL)
		}
		close(e.done)
		return e.val, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
