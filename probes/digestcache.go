package probes

import (
	"crypto/sha256"
	"sync"
	"time"
)

// digest names what a kept value was computed from: certificates by the
// SHA-256 of their DER encoding.
type digest = [sha256.Size]byte

// digestCache keeps values by the digest of what they were computed from.
// Past max entries, those unused for idle go; if none did, it starts
// afresh. Keys are content, not parsed objects: crypto/tls drops a parsed
// certificate once no connection holds it, so a host probed every 30 s
// has its certificates parsed anew each round.
type digestCache[V any] struct {
	mu   sync.Mutex
	m    map[digest]kept[V]
	max  int
	idle time.Duration
}

type kept[V any] struct {
	v    V
	used time.Time
}

func newDigestCache[V any](max int, idle time.Duration) *digestCache[V] {
	return &digestCache[V]{m: map[digest]kept[V]{}, max: max, idle: idle}
}

func (c *digestCache[V]) get(k digest) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok {
		e.used = time.Now()
		c.m[k] = e
	}
	return e.v, ok
}

func (c *digestCache[V]) put(k digest, v V) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if now.Sub(e.used) > c.idle {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = kept[V]{v: v, used: now}
}

func (c *digestCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
