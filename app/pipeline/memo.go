package pipeline

import (
	"sync"

	"pharos/probes"
)

// memo maps the JSON of an object to its decoded value, for what comes
// byte for byte the same in message after message. It holds at most two
// generations of size entries: when the current one is full it becomes the
// previous and a new one starts, and a value found only in the previous is
// carried over. So the values in use stay, the ones no longer seen leave
// within two generations, and memory stays bounded.
type memo[V any] struct {
	mu        sync.Mutex
	size      int
	cur, prev map[string]V
}

const memoSize = 1024

// decodedCerts holds certificates as results carry them (about a kilobyte
// an entry).
var decodedCerts = &memo[probes.CertInfo]{size: memoSize}

// decodedSpecs holds probe specifications by the SHA-256 digest of their
// JSON as jobs carry them (the decoded spec is most of an entry, about a
// kilobyte). Their slices and maps are shared by every job that finds
// them: the workers only read a job's spec.
var decodedSpecs = &memo[probes.Spec]{size: memoSize}

func (c *memo[V]) get(key []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[string(key)]; ok {
		return v, true
	}
	v, ok := c.prev[string(key)]
	if ok {
		c.putLocked(string(key), v)
	}
	return v, ok
}

func (c *memo[V]) put(key []byte, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(string(key), v)
}

func (c *memo[V]) putLocked(key string, v V) {
	if len(c.cur) >= c.size || c.cur == nil {
		c.prev, c.cur = c.cur, make(map[string]V, c.size)
	}
	c.cur[key] = v
}
