package pipeline

import (
	"sync"

	"pharos/probes"
)

// certCache maps the JSON of a certificate object to its decoded value.
// It holds at most two generations of certCacheSize entries: when the
// current one is full it becomes the previous and a new one starts, and a
// certificate found only in the previous is carried over. So the
// certificates in use stay, the ones no longer seen leave within two
// generations, and memory stays bounded (an entry is about a kilobyte).
type certCache struct {
	mu        sync.Mutex
	cur, prev map[string]probes.CertInfo
}

const certCacheSize = 1024

var decodedCerts = &certCache{}

func (c *certCache) get(key []byte) (probes.CertInfo, bool) {
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

func (c *certCache) put(key []byte, v probes.CertInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(string(key), v)
}

func (c *certCache) putLocked(key string, v probes.CertInfo) {
	if len(c.cur) >= certCacheSize || c.cur == nil {
		c.prev, c.cur = c.cur, make(map[string]probes.CertInfo, certCacheSize)
	}
	c.cur[key] = v
}
