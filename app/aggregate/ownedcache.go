package aggregate

import (
	"sync"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
)

// ownedCacheTTL bounds how long a check's rows are trusted without a
// batch of it: past it they are read again. An aggregator that lost a
// shard without noticing yet (its lease renewals failing) and another that
// took it may both write for a while; this bounds for how long the first,
// taking the shard back, could judge on rows it did not see change.
const ownedCacheTTL = 10 * time.Minute

// stale reports whether what was kept at `at` is past ownedCacheTTL at now.
func stale(at, now time.Time) bool { return now.Sub(at) >= ownedCacheTTL }

// ownedCache keeps, for the shards this aggregator owns, what its
// batches would otherwise read back of what they wrote: every region's
// whole-check latest row of the checks it stored results of, and the
// certificate last observed on each node of the check × region places it
// read, as the last committed batch left them. Only the owner of a check's
// shard writes those (a check's results all travel on its shard), so
// while it owns the shard it knows them without reading them: two reads
// per batch, a sixth of the drain's database time, are spared
// (store.Tx.KeepLatest, LastCertificates for the places it lacks). A
// shard's part is dropped when it is given up or lost, and starts empty
// when the shard is taken (again). Batches outside Run (ProcessBatch
// alone: tests, tools) own no shard and read everything.
type ownedCache struct {
	mu     sync.Mutex
	shards map[int]*ownedShard
	pruned time.Time // when entries past ownedCacheTTL were last dropped
}

// ownedShard is what ownedCache keeps of one owned shard.
type ownedShard struct {
	latest map[int64]cachedLatest
	certs  map[store.CheckRegion]cachedCerts
}

// cachedCerts is the certificate last observed on each node of a place
// (none: no observation there yet), as read at `at` and updated by the
// batches since. A list, not a map: most places have one node, and a map
// of one entry is 688 bytes in two allocations against 80 in one for a
// list (go test -bench on go1.26, amd64), all of it marked by the garbage
// collector every cycle.
type cachedCerts struct {
	org   int64
	nodes []cachedNode
	at    time.Time
}

type cachedNode struct {
	addr string
	seen store.CertSeen
}

// set records seen as the last certificate of node addr.
func (e *cachedCerts) set(addr string, seen store.CertSeen) {
	for i := range e.nodes {
		if e.nodes[i].addr == addr {
			e.nodes[i].seen = seen
			return
		}
	}
	e.nodes = append(e.nodes, cachedNode{addr, seen})
}

// last returns the last certificate of node addr.
func (e *cachedCerts) last(addr string) (store.CertSeen, bool) {
	for _, n := range e.nodes {
		if n.addr == addr {
			return n.seen, true
		}
	}
	return store.CertSeen{}, false
}

type cachedLatest struct {
	rows []store.Latest
	at   time.Time // when the batch that left them committed
}

func newOwnedCache() *ownedCache {
	return &ownedCache{shards: map[int]*ownedShard{}}
}

// own starts keeping the rows of a shard just taken.
func (c *ownedCache) own(shard int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shards[shard] = &ownedShard{latest: map[int64]cachedLatest{}, certs: map[store.CheckRegion]cachedCerts{}}
}

// disown forgets a shard given up or lost.
func (c *ownedCache) disown(shard int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.shards, shard)
}

// get returns the kept rows of those of the checks (organisation id →
// check ids) it knows, kept after now-ownedCacheTTL. The rows are shared:
// neither the store nor the judging changes a row it was handed.
func (c *ownedCache) get(ids map[int64][]int64, now time.Time) map[int64][]store.Latest {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.shards) == 0 {
		return nil
	}
	out := map[int64][]store.Latest{}
	for org, checks := range ids {
		for _, id := range checks {
			sh := c.shards[pipeline.Shard(id)]
			if sh == nil {
				continue
			}
			e, ok := sh.latest[id]
			if ok && !stale(e.at, now) && len(e.rows) > 0 && e.rows[0].OrgID == org {
				out[id] = e.rows
			}
		}
	}
	return out
}

// put keeps what a committed batch left of its checks' rows (check id →
// every region's whole-check row), for the checks of owned shards.
func (c *ownedCache) put(rows map[int64][]store.Latest, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.shards) == 0 {
		return
	}
	for id, ls := range rows {
		if sh := c.shards[pipeline.Shard(id)]; sh != nil {
			sh.latest[id] = cachedLatest{rows: ls, at: at}
		}
	}
	c.prune(at)
}

// prune drops, once every ownedCacheTTL, the entries past it: deleted
// checks', and those of checks gone quiet.
func (c *ownedCache) prune(now time.Time) {
	if !stale(c.pruned, now) {
		return
	}
	c.pruned = now
	for _, sh := range c.shards {
		for id, e := range sh.latest {
			if stale(e.at, now) {
				delete(sh.latest, id)
			}
		}
		for p, e := range sh.certs {
			if stale(e.at, now) {
				delete(sh.certs, p)
			}
		}
	}
}

// getCerts splits places (organisation id → check × region) into those it
// knows, returning their nodes' last certificates in known, and those it
// does not (missing), to be read.
func (c *ownedCache) getCerts(places map[int64][]store.CheckRegion, now time.Time) (known map[store.CertKey]store.CertSeen,
	missing map[int64][]store.CheckRegion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	known = map[store.CertKey]store.CertSeen{}
	if len(c.shards) == 0 {
		return known, places
	}
	missing = map[int64][]store.CheckRegion{}
	for org, ps := range places {
		for _, p := range ps {
			var e cachedCerts
			ok := false
			if sh := c.shards[pipeline.Shard(p.CheckID)]; sh != nil {
				e, ok = sh.certs[p]
			}
			if !ok || e.org != org || stale(e.at, now) {
				missing[org] = append(missing[org], p)
				continue
			}
			for _, n := range e.nodes {
				known[store.CertKey{CheckID: p.CheckID, Region: p.Region, Node: n.addr}] = n.seen
			}
		}
	}
	return known, missing
}

// putCerts keeps what a committed batch left of its places' certificates,
// for the places of owned shards: those it read (read), as it read them
// (before), and for every place kept, each node's newer sighting recorded
// taking over, as LastCertificates would now read them. A place is read
// again ownedCacheTTL after it was read.
func (c *ownedCache) putCerts(read map[int64][]store.CheckRegion, before map[store.CertKey]store.CertSeen,
	sights []store.CertSighting, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.shards) == 0 {
		return
	}
	fresh := map[store.CheckRegion]bool{}
	for org, ps := range read {
		for _, p := range ps {
			if sh := c.shards[pipeline.Shard(p.CheckID)]; sh != nil {
				sh.certs[p] = cachedCerts{org: org, at: at}
				fresh[p] = true
			}
		}
	}
	update := func(k store.CertKey, fn func(e *cachedCerts)) {
		sh := c.shards[pipeline.Shard(k.CheckID)]
		if sh == nil {
			return
		}
		p := store.CheckRegion{CheckID: k.CheckID, Region: k.Region}
		if e, ok := sh.certs[p]; ok {
			fn(&e)
			sh.certs[p] = e
		}
	}
	if len(fresh) > 0 {
		for k, seen := range before {
			if fresh[store.CheckRegion{CheckID: k.CheckID, Region: k.Region}] {
				update(k, func(e *cachedCerts) { e.set(k.Node, seen) })
			}
		}
	}
	for _, s := range sights {
		k := store.CertKey{CheckID: s.CheckID, Region: s.Region, Node: s.Node}
		update(k, func(e *cachedCerts) {
			if cur, ok := e.last(k.Node); !ok || s.Seen.After(cur.LastSeen) {
				e.set(k.Node, store.CertSeen{SHA256: s.SHA256, Issuer: s.Issuer, LastSeen: s.Seen})
			}
		})
	}
	c.prune(at)
}
