package aggregate

import (
	"sync"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
)

// latestCacheTTL bounds how long a check's rows are trusted without a
// batch of it: past it they are read again. An aggregator that lost a
// shard without noticing yet (its lease renewals failing) and another that
// took it may both write for a while; this bounds for how long the first,
// taking the shard back, could judge on rows it did not see change.
const latestCacheTTL = 10 * time.Minute

// latestCache keeps, for the shards this aggregator owns, every region's
// whole-check latest row of the checks its batches stored results of, as
// the last committed batch left them. Only the owner of a check's shard
// writes those rows (a check's results all travel on its shard), so while
// it owns the shard it knows them without reading them: a read of them per
// batch, a tenth of the drain's database time, is spared
// (store.Tx.KeepLatest). A shard's rows are dropped when it is given up or
// lost, and the cache starts empty when the shard is taken (again).
// Batches outside Run (ProcessBatch alone: tests, tools) own no shard and
// read everything.
type latestCache struct {
	mu     sync.Mutex
	shards map[int]map[int64]cachedLatest // owned shard → check id → rows
	puts   int
}

type cachedLatest struct {
	rows []store.Latest
	at   time.Time // when the batch that left them committed
}

func newLatestCache() *latestCache {
	return &latestCache{shards: map[int]map[int64]cachedLatest{}}
}

// own starts keeping the rows of a shard just taken.
func (c *latestCache) own(shard int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shards[shard] = map[int64]cachedLatest{}
}

// disown forgets a shard given up or lost.
func (c *latestCache) disown(shard int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.shards, shard)
}

// get returns copies of the kept rows of those of the checks (organisation
// id → check ids) it knows, kept after now-latestCacheTTL.
func (c *latestCache) get(ids map[int64][]int64, now time.Time) map[int64][]store.Latest {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.shards) == 0 {
		return nil
	}
	out := map[int64][]store.Latest{}
	for org, checks := range ids {
		for _, id := range checks {
			e, ok := c.shards[pipeline.Shard(id)][id]
			if ok && now.Sub(e.at) < latestCacheTTL && len(e.rows) > 0 && e.rows[0].OrgID == org {
				out[id] = append([]store.Latest(nil), e.rows...)
			}
		}
	}
	return out
}

// put keeps what a committed batch left of its checks' rows (check id →
// every region's whole-check row), for the checks of owned shards.
func (c *latestCache) put(rows map[int64][]store.Latest, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.shards) == 0 {
		return
	}
	for id, ls := range rows {
		if m, ok := c.shards[pipeline.Shard(id)]; ok {
			m[id] = cachedLatest{rows: append([]store.Latest(nil), ls...), at: at}
		}
	}
	c.puts += len(rows)
	if c.puts < 4096 {
		return
	}
	c.puts = 0
	for _, m := range c.shards { // deleted checks' rows, and those of checks gone quiet
		for id, e := range m {
			if at.Sub(e.at) >= latestCacheTTL {
				delete(m, id)
			}
		}
	}
}
