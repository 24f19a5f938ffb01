package aggregate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"pharos/app/store"
)

// LatestCache keeps a copy of the latest state per check × region × node
// for readers that should not query the database on every request (the
// status page), DESIGN §3 step 2. The database stays the source of truth:
// the aggregator writes the cache after each commit, and a failed write is
// logged and mended by the check's next result.
type LatestCache interface {
	// PutLatest records rows as they were committed.
	PutLatest(ctx context.Context, rows []store.Latest) error
}

var (
	_ LatestCache = (*RedisLatest)(nil)
	_ LatestCache = (*MemoryLatest)(nil)
)

// cacheLatest writes a committed batch's latest rows to the cache, if any.
func (a *Aggregator) cacheLatest(ctx context.Context, rows []store.Latest) {
	if a.opts.LatestCache == nil || len(rows) == 0 {
		return
	}
	if err := a.opts.LatestCache.PutLatest(ctx, rows); err != nil {
		a.log.Warn("cache latest states", slog.Int("rows", len(rows)), slog.Any("error", err))
	}
}

// DefaultLatestTTL is how long a check's cached latest states outlive its
// last result: long enough for any check interval, short enough that a
// deleted check's entry goes away.
const DefaultLatestTTL = 48 * time.Hour

// RedisLatest is the LatestCache of a deployment with Redis: one hash per
// check, "{prefix}latest:{check id}", whose fields are "region|node" (node
// empty for the check as a whole) and whose values are JSON. A batch is one
// pipelined round trip: an HSET and an EXPIRE per check.
type RedisLatest struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewRedisLatest returns the cache over client, its keys prefixed with
// prefix (the bus's, e.g. "pharos:"). The caller keeps owning client.
func NewRedisLatest(client redis.UniversalClient, prefix string) *RedisLatest {
	return &RedisLatest{client: client, prefix: prefix, ttl: DefaultLatestTTL}
}

// cachedLatest is a cache entry's value.
type cachedLatest struct {
	OrgID     int64           `json:"org_id"`
	State     string          `json:"state"`
	ResultID  string          `json:"result_id"`
	Streak    int             `json:"streak"`
	CheckedAt time.Time       `json:"checked_at"`
	Problems  json.RawMessage `json:"problems"`
}

// Key returns the hash holding a check's latest states.
func (c *RedisLatest) Key(checkID int64) string {
	return c.prefix + "latest:" + strconv.FormatInt(checkID, 10)
}

// PutLatest writes rows. Batches of one check come from one shard, in
// order, so a plain HSET keeps the newest.
func (c *RedisLatest) PutLatest(ctx context.Context, rows []store.Latest) error {
	fields := map[int64][]any{}
	var order []int64
	for _, l := range rows {
		problems := json.RawMessage(l.Problems)
		if len(problems) == 0 {
			problems = json.RawMessage("[]")
		}
		v, err := json.Marshal(cachedLatest{OrgID: l.OrgID, State: l.State, ResultID: l.ResultID, Streak: l.Streak,
			CheckedAt: l.CheckedAt.UTC(), Problems: problems})
		if err != nil {
			return fmt.Errorf("aggregate: encode latest state of check %d: %w", l.CheckID, err)
		}
		if _, ok := fields[l.CheckID]; !ok {
			order = append(order, l.CheckID)
		}
		fields[l.CheckID] = append(fields[l.CheckID], l.Region+"|"+l.Node, v)
	}
	_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range order {
			key := c.Key(id)
			p.HSet(ctx, key, fields[id]...)
			p.Expire(ctx, key, c.ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("aggregate: cache latest states: %w", err)
	}
	return nil
}

// Latest returns a check's cached latest states (none when nothing is
// cached), in no particular order.
func (c *RedisLatest) Latest(ctx context.Context, checkID int64) ([]store.Latest, error) {
	m, err := c.client.HGetAll(ctx, c.Key(checkID)).Result()
	if err != nil {
		return nil, fmt.Errorf("aggregate: cached latest states of check %d: %w", checkID, err)
	}
	out := make([]store.Latest, 0, len(m))
	for field, v := range m {
		region, node, _ := strings.Cut(field, "|")
		var e cachedLatest
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return nil, fmt.Errorf("aggregate: cached latest state %s of check %d: %w", field, checkID, err)
		}
		out = append(out, store.Latest{OrgID: e.OrgID, CheckID: checkID, Region: region, Node: node, State: e.State,
			ResultID: e.ResultID, Streak: e.Streak, CheckedAt: e.CheckedAt, Problems: e.Problems})
	}
	return out, nil
}

// MemoryLatest is the LatestCache of the in-process mode: a map, newest
// row per key.
type MemoryLatest struct {
	mu   sync.Mutex
	rows map[int64]map[string]store.Latest // check → "region|node" → row
}

// NewMemoryLatest returns an empty in-memory cache.
func NewMemoryLatest() *MemoryLatest {
	return &MemoryLatest{rows: map[int64]map[string]store.Latest{}}
}

// PutLatest records rows, keeping the newest of each key.
func (c *MemoryLatest) PutLatest(_ context.Context, rows []store.Latest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range rows {
		m, ok := c.rows[l.CheckID]
		if !ok {
			m = map[string]store.Latest{}
			c.rows[l.CheckID] = m
		}
		field := l.Region + "|" + l.Node
		if old, ok := m[field]; !ok || !l.CheckedAt.Before(old.CheckedAt) {
			m[field] = l
		}
	}
	return nil
}

// Latest returns a check's cached latest states, in no particular order.
func (c *MemoryLatest) Latest(_ context.Context, checkID int64) ([]store.Latest, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]store.Latest, 0, len(c.rows[checkID]))
	for _, l := range c.rows[checkID] {
		out = append(out, l)
	}
	return out, nil
}
