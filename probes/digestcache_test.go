package probes

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestDigestCacheBounded: a full cache drops the entries idle for longer
// than its idle time and keeps the others; when none is idle it starts
// afresh rather than grow.
func TestDigestCacheBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newDigestCache[int](3, time.Minute)
		key := func(i byte) digest { return digest{i} }
		c.put(key(1), 1)
		c.put(key(2), 2)
		time.Sleep(2 * time.Minute)
		c.put(key(3), 3)
		if v, ok := c.get(key(1)); !ok || v != 1 {
			t.Fatalf("get 1: %v %v", v, ok)
		}
		c.put(key(4), 4) // full: 2 is idle, 1 was used just now, 3 is new
		if _, ok := c.get(key(2)); ok || c.len() != 3 {
			t.Fatalf("after a put into a full cache: idle entry kept %v, %d entries; want it gone and 3", ok, c.len())
		}
		for _, k := range []byte{1, 3, 4} {
			if v, ok := c.get(key(k)); !ok || v != int(k) {
				t.Errorf("entry %d: %v %v, want kept", k, v, ok)
			}
		}
		c.put(key(5), 5) // full and nothing idle: afresh
		if c.len() != 1 {
			t.Errorf("full with nothing idle: %d entries after a put, want 1", c.len())
		}
		c.put(key(5), 50) // an existing key is replaced, not counted again
		if v, _ := c.get(key(5)); v != 50 || c.len() != 1 {
			t.Errorf("replaced entry: %v with %d entries, want 50 and 1", v, c.len())
		}
	})
}
