package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file holds the aggregator's batch writes of raw results and latest
// states. Every method works on a whole batch with a handful of statements
// (multi-row VALUES, IN lists), and every read is scoped by organisation.
// On SQLite the batch's upserts run one row a statement (rowsPer).

// maxBulkParams bounds the placeholders of one statement: PostgreSQL allows
// 65,535 and SQLite 32,766; staying well below keeps statements reasonably
// sized too.
const maxBulkParams = 16_000

// rowsPer is how many rows of cols columns one bulk insert carries: as
// many as maxBulkParams allows on PostgreSQL, where each statement is a
// round trip; one on SQLite, where it is a function call. There a
// statement of N rows is a new text for each N a batch happens to hold:
// prepared again, its compiled program (which grows with N) kept in every
// connection's statement cache (stmtCacheConn), and a statement journal
// kept while it runs, as it changes many rows. One row's text is prepared
// once per connection. At 1,000 checks every 30 s (deploy/bench/soak.sh)
// that took the aggregator from 0.63 to 0.56 s CPU in 115 s and what
// SQLite holds in memory from 12.7 to 10.6 MB; BenchmarkTrickle/sqlite/
// batch=32 from 98-122 to 87-106 µs CPU per steady result (runs
// alternated).
func (s *Store) rowsPer(cols int) int {
	if s.dialect == SQLite {
		return 1
	}
	return maxBulkParams / cols
}

// eachChunk splits n rows of cols columns into the chunks one statement
// carries (rowsPer) and calls fn with each chunk's bounds and its
// statement, prefix + the chunk's rows of placeholders + suffix (bulk). A
// statement's text is built once for each chunk length, not once a chunk:
// on SQLite every chunk is one row, and the text the same for all of them
// (building the latest-state statement took 0.36-0.41 µs and a 416-byte
// string each time, go test -bench on go1.26).
func (s *Store) eachChunk(n, cols int, prefix, suffix string, fn func(start, end int, query string) error) error {
	per := s.rowsPer(cols)
	query, built := "", 0
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		if end-start != built {
			query, built = s.bulk(prefix, cols, end-start, suffix), end-start
		}
		if err := fn(start, end, query); err != nil {
			return err
		}
	}
	return nil
}

// ResultRow is one raw probe result as stored in check_results.
type ResultRow struct {
	ID         string // the worker's UUIDv7
	JobID      string // the job it answers; "" for none (a second result for a job is skipped)
	OrgID      int64
	CheckID    int64
	Region     string
	State      string
	CheckedAt  time.Time
	DurationMS int64
	Problems   []byte // JSON array
	Result     []byte // the whole probes.Result as JSON
	ReceivedAt time.Time
	// Compact stores the row without its Result (the column holds ""):
	// the aggregator sets it on a steady result, one that repeats the
	// previous result's state with no problems, whose detail the last full
	// result of its check and region (at most an hour older) already tells.
	// Readers of the column must expect "".
	Compact bool
}

// storedResult returns the text the result column holds for r: "" for a
// compact row, "{}" for a row without a result.
func (r ResultRow) storedResult() []byte {
	switch {
	case r.Compact:
		return []byte{}
	case len(r.Result) == 0:
		return []byte("{}")
	}
	return r.Result
}

// InsertResults stores rows, skipping those whose id is already stored (a
// redelivered result) or whose job already has a result (a job run twice),
// and returns the ids that were new, so the caller applies each result's
// effects exactly once however often it is delivered or run.
func (tx *Tx) InsertResults(ctx context.Context, rows []ResultRow) (inserted []string, err error) {
	if tx.s.dialect == Postgres {
		return tx.insertResultsPG(ctx, rows)
	}
	const cols = 11
	// No conflict target: a duplicate id and a duplicate job are both skipped.
	err = tx.s.eachChunk(len(rows), cols, `INSERT INTO check_results (id, job_id, org_id, check_id, region, state, checked_at,
		duration_ms, problems, result, received_at) VALUES `, ` ON CONFLICT DO NOTHING RETURNING id`, func(start, end int, query string) error {
		args := make([]any, 0, (end-start)*cols)
		for _, r := range rows[start:end] {
			problems, result := r.Problems, r.storedResult()
			if len(problems) == 0 {
				problems = []byte("[]")
			}
			args = append(args, r.ID, nullString(r.JobID), r.OrgID, r.CheckID, r.Region, r.State, r.CheckedAt.UTC(), r.DurationMS,
				string(problems), string(result), r.ReceivedAt.UTC())
		}
		ids, err := tx.queryStrings(ctx, query, args...)
		inserted = append(inserted, ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert results: %w", err)
	}
	return inserted, nil
}

// CheckInfo is what the aggregator needs to judge a check: its
// configuration, its current state and those of its component and page.
// Of the Check, the probe's Spec and the CreatedAt and UpdatedAt times are
// left empty: judging reads none of them, and the spec is most of a
// check's row (a private CA's PEM alone is most of a kilobyte).
type CheckInfo struct {
	Check
	StateChangedAt  *time.Time
	ComponentName   string
	ComponentStatus string
	PageSlug        string
	// IncidentOpen reports whether the check's component has an open
	// automatic incident (OpenAutomaticIncidents has its details), so a steady batch
	// need not look incidents up at all.
	IncidentOpen bool
}

// ChecksForAggregation returns the checks named in ids (organisation id →
// check ids) that exist in that organisation, keyed by check id. Ids of
// another organisation or of deleted checks are simply absent.
//
// On SQLite it keeps what it read for as long as aggregation_version stands
// still (migration 0029): every write of the rows a CheckInfo comes from
// moves it. A batch then reads that one row, not a check row joined to its
// component, page and open incident per result: reads that cost far more in
// pharos run, between probes that evict the CPU's caches, than in a hot
// loop. The returned infos are shared with the cache: callers must not
// change their Regions.
func (tx *Tx) ChecksForAggregation(ctx context.Context, ids map[int64][]int64) (map[int64]CheckInfo, error) {
	out := map[int64]CheckInfo{}
	var version int64
	cached := tx.s.dialect == SQLite
	if cached {
		err := tx.tx.QueryRowContext(ctx, `SELECT version FROM aggregation_version`).Scan(&version)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: checks for aggregation: version: %w", err)
		}
		ids = tx.s.infos.lookup(version, ids, out)
	}
	var read []CheckInfo
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		in, args := tx.s.anyOf("c.id", orgID, chunk)
		rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT c.id, c.org_id, c.page_id, c.component_id, c.name, c.url,
				c.regions, c.interval_seconds, c.quorum, c.confirm_rounds, c.enabled, c.state, c.managed, c.state_changed_at,
				co.name, co.status, p.slug,
				EXISTS (SELECT 1 FROM incidents i WHERE i.component_id = c.component_id AND i.automatic AND i.resolved_at IS NULL)
			FROM checks c JOIN components co ON co.id = c.component_id JOIN pages p ON p.id = c.page_id
			WHERE c.org_id = ? AND `+in), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ci CheckInfo
			var regions string
			var interval int64
			var changed sql.NullTime
			if err := rows.Scan(&ci.ID, &ci.OrgID, &ci.PageID, &ci.ComponentID, &ci.Name, &ci.URL, &regions, &interval,
				&ci.Quorum, &ci.ConfirmRounds, &ci.Enabled, &ci.State, &ci.Managed, &changed,
				&ci.ComponentName, &ci.ComponentStatus, &ci.PageSlug, &ci.IncidentOpen); err != nil {
				return err
			}
			if ci.Regions, err = checkRegions(ci.ID, regions); err != nil {
				return err
			}
			ci.Interval, ci.StateChangedAt = time.Duration(interval)*time.Second, nullTime(changed)
			out[ci.ID] = ci
			if cached {
				read = append(read, ci)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: checks for aggregation: %w", err)
	}
	if cached {
		tx.s.infos.add(version, read)
	}
	return out, nil
}

// checkInfoCache keeps, on SQLite, the CheckInfos ChecksForAggregation read
// under one aggregation_version. Every value the version takes is random,
// so rows read by a transaction that saw its own move and then rolled back
// are never taken for those of a later committed move. Its size is bounded
// by the checks that exist: deleting one moves the version, which empties
// the cache.
type checkInfoCache struct {
	mu      sync.Mutex
	version int64
	infos   map[int64]CheckInfo
}

// lookup copies into out the kept infos of ids under version, emptying
// the cache first if it was kept under another, and returns the ids it
// does not hold.
func (c *checkInfoCache) lookup(version int64, ids map[int64][]int64, out map[int64]CheckInfo) map[int64][]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.infos == nil || c.version != version {
		c.version, c.infos = version, map[int64]CheckInfo{}
	}
	var missing map[int64][]int64
	for org, checks := range ids {
		for _, id := range checks {
			if ci, ok := c.infos[id]; ok && ci.OrgID == org {
				out[id] = ci
				continue
			}
			if missing == nil {
				missing = map[int64][]int64{}
			}
			missing[org] = append(missing[org], id)
		}
	}
	return missing
}

// add keeps infos read under version, unless the cache moved on meanwhile.
func (c *checkInfoCache) add(version int64, infos []CheckInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.infos == nil || c.version != version {
		return
	}
	for _, ci := range infos {
		c.infos[ci.ID] = ci
	}
}

// scanExtra lets a scan function read a row that has more columns after
// its own.
type scanExtra struct {
	rows  rowScanner
	extra []any
}

func (s scanExtra) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra...)...) }

// RegionObservation is one region's latest whole-check state for one check.
type RegionObservation struct {
	OrgID   int64
	Region  string
	CheckID int64
	State   string
}

// RecentRegionStates returns every organisation's latest whole-check
// states (node "") observed since since: the window region health is
// judged on, as a region's network is shared by all of them.
func (tx *Tx) RecentRegionStates(ctx context.Context, since time.Time) ([]RegionObservation, error) {
	return collect(ctx, tx.tx, "recent region states", func(row rowScanner) (RegionObservation, error) {
		var o RegionObservation
		err := row.Scan(&o.OrgID, &o.Region, &o.CheckID, &o.State)
		return o, err
	}, tx.s.q(`SELECT org_id, region, check_id, state FROM check_latest WHERE checked_at >= ? AND node = ''`), since.UTC())
}

// bulk builds a multi-row INSERT: prefix, then n groups of cols
// placeholders, then suffix, already rebound for the dialect.
func (s *Store) bulk(prefix string, cols, n int, suffix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(suffix) + n*cols*5)
	b.WriteString(prefix)
	p := 0
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			p++
			if s.dialect == Postgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(suffix)
	return b.String()
}

// queryStrings runs an already rebound query returning one text column.
func (tx *Tx) queryStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := tx.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// placeholders returns "?, ?, …" for an IN list of n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// anyOf returns the condition "col is one of ids" and its arguments,
// orgID first (for the "org_id = ? AND" that precedes it). The ids travel
// as one parameter — an array on PostgreSQL, a JSON array read by
// json_each on SQLite — so the statement text is the same whatever their
// number: SQLite parsed an IN list of a thousand placeholders on every
// batch, a fifth of `pharos run`'s CPU (issue 15).
func (s *Store) anyOf(col string, orgID int64, ids []int64) (string, []any) {
	if s.dialect == Postgres {
		return col + " = ANY(?)", []any{orgID, s.idsArg(ids)}
	}
	return col + " IN (SELECT value FROM json_each(?))", []any{orgID, s.idsArg(ids)}
}

// idRows returns a table expression of ids, one row each in a column
// named id, and its argument: for "FROM list AS c" joins.
func (s *Store) idRows(ids []int64) (string, any) {
	if s.dialect == Postgres {
		return "(SELECT unnest(CAST(? AS bigint[])) AS id)", s.idsArg(ids)
	}
	return "(SELECT value AS id FROM json_each(?))", s.idsArg(ids)
}

// idsArg is ids as one parameter: an array on PostgreSQL, a JSON array
// (for json_each) on SQLite.
func (s *Store) idsArg(ids []int64) any {
	if s.dialect == Postgres {
		return ids
	}
	list, _ := json.Marshal(ids) // integers always encode
	return string(list)
}

// orgArgs returns orgID followed by ids, the arguments of
// "org_id = ? AND x IN (…)".
func orgArgs(orgID int64, ids []int64) []any {
	args := make([]any, 0, len(ids)+1)
	args = append(args, orgID)
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// forEachOrgChunk calls fn per organisation with its ids in chunks small
// enough for one statement, organisations and ids in ascending order.
func forEachOrgChunk(ids map[int64][]int64, fn func(orgID int64, chunk []int64) error) error {
	const chunkSize = 1000
	orgs := make([]int64, 0, len(ids))
	for org := range ids {
		orgs = append(orgs, org)
	}
	sort.Slice(orgs, func(i, j int) bool { return orgs[i] < orgs[j] })
	for _, org := range orgs {
		list := ids[org]
		sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
		for start := 0; start < len(list); start += chunkSize {
			if err := fn(org, list[start:min(len(list), start+chunkSize)]); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonText encodes v for a TEXT column holding JSON.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode %T: %w", v, err)
	}
	return string(b), nil
}

// nullString stores "" as NULL, for nullable unique columns.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
