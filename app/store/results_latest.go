package store

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"time"
)

// The latest state per check × region × node (node "" is the check as a
// whole), advanced by the aggregator's batches.

// Latest is the latest word on one check in one region, for the check as a
// whole (Node "") or for one node.
type Latest struct {
	OrgID     int64
	CheckID   int64
	Region    string
	Node      string
	State     string
	ResultID  string
	Streak    int
	CheckedAt time.Time
	Problems  []byte // JSON array
	// DurationMS is the result's probe duration (the node's total for a
	// node row); written, not read back.
	DurationMS int64
}

// LatestWrite is one result's word on one check × region × node: what
// AdvanceLatest applies to the latest row of that key.
type LatestWrite struct {
	OrgID     int64
	CheckID   int64
	Region    string
	Node      string
	State     string
	ResultID  string
	CheckedAt time.Time
	Problems  []byte // JSON array
	// DurationMS is the probe's duration: the whole result's, or the
	// node's total on a node row.
	DurationMS int64
}

type latestKey struct {
	check  int64
	region string
	node   string
}

// LatestAfter is what AdvanceLatest leaves behind.
type LatestAfter struct {
	// Whole holds every region's whole-check row (node "") of the checks
	// the writes touched, after the writes, by check id and sorted by
	// region: what a check is judged on.
	Whole map[int64][]Latest
}

// AdvanceLatest applies writes, in the order given, to the latest rows: a
// write older than its key's latest row is ignored (a late result does not
// move the state back); otherwise it replaces the row, and the streak
// follows incident.NextStreak's rule (one more when the state repeats, 1
// when it changes or the key is new). Writes of one key must come in
// ascending CheckedAt order.
func (tx *Tx) AdvanceLatest(ctx context.Context, writes []LatestWrite) (LatestAfter, error) {
	after := LatestAfter{Whole: map[int64][]Latest{}}
	if len(writes) == 0 {
		return after, nil
	}
	var whole []Latest
	var err error
	if tx.s.dialect == Postgres {
		whole, err = tx.advanceLatestPG(ctx, writes)
	} else {
		whole, err = tx.advanceLatestInGo(ctx, writes)
	}
	if err != nil {
		return LatestAfter{}, fmt.Errorf("store: advance latest states: %w", err)
	}
	for _, l := range whole {
		after.Whole[l.CheckID] = append(after.Whole[l.CheckID], l)
	}
	for _, ls := range after.Whole {
		sort.Slice(ls, func(i, j int) bool { return ls[i].Region < ls[j].Region })
	}
	return after, nil
}

// waves splits writes so that no key occurs twice in one wave: wave k holds
// the k-th write of each key, so applying the waves in turn applies every
// key's writes in order, and one statement never touches a row twice.
func waves(writes []LatestWrite) [][]LatestWrite {
	seen := make(map[latestKey]int, len(writes))
	var out [][]LatestWrite
	for _, w := range writes {
		k := latestKey{w.CheckID, w.Region, w.Node}
		i := seen[k]
		seen[k] = i + 1
		if i == len(out) {
			out = append(out, make([]LatestWrite, 0, len(writes)/(i+1)))
		}
		out[i] = append(out[i], w)
	}
	return out
}

// nextStreak is incident.NextStreak's rule, for the SQLite path (the
// PostgreSQL path computes it in SQL).
func nextStreak(prevState string, prevStreak int, state string) int {
	if prevState == state && prevStreak > 0 {
		return prevStreak + 1
	}
	return 1
}

// wholeBefore returns the whole-check rows of the checks the writes touch:
// those WholeLatestForChecks kept in the transaction, the others read now.
func (tx *Tx) wholeBefore(ctx context.Context, writes []LatestWrite) ([]Latest, error) {
	ids := map[int64][]int64{}
	seen := map[int64]bool{}
	rows := make([]Latest, 0, len(writes)) // a row a region: about one a write
	for _, w := range writes {
		if seen[w.CheckID] {
			continue
		}
		seen[w.CheckID] = true
		if kept, ok := tx.latest[w.CheckID]; ok {
			rows = append(rows, kept...)
		} else {
			ids[w.OrgID] = append(ids[w.OrgID], w.CheckID)
		}
	}
	if len(ids) == 0 {
		return rows, nil
	}
	read, err := tx.latestForChecks(ctx, ids, wholeRows)
	return append(rows, read...), err
}

// forgetLatest drops what Tx.latest keeps of the checks the writes touch:
// the rows are being written.
func (tx *Tx) forgetLatest(writes []LatestWrite) {
	for _, w := range writes {
		delete(tx.latest, w.CheckID)
	}
}

// advanceLatestInGo reads the rows the writes replace (the whole-check
// rows, wholeBefore, and the node rows of checks with node writes),
// applies the writes in memory and upserts the rows that changed.
func (tx *Tx) advanceLatestInGo(ctx context.Context, writes []LatestWrite) (whole []Latest, err error) {
	prev, err := tx.wholeBefore(ctx, writes)
	if err != nil {
		return nil, err
	}
	nodeIDs := map[int64][]int64{}
	seenNode := map[int64]bool{}
	for _, w := range writes {
		if w.Node != "" && !seenNode[w.CheckID] {
			seenNode[w.CheckID] = true
			nodeIDs[w.OrgID] = append(nodeIDs[w.OrgID], w.CheckID)
		}
	}
	if len(nodeIDs) > 0 {
		nodes, err := tx.latestForChecks(ctx, nodeIDs, " AND node <> ''")
		if err != nil {
			return nil, err
		}
		prev = append(prev, nodes...)
	}
	tx.forgetLatest(writes)
	cur := make(map[latestKey]Latest, len(prev)+len(writes))
	for _, l := range prev {
		cur[latestKey{l.CheckID, l.Region, l.Node}] = l
	}
	dirty := map[latestKey]bool{}
	for _, w := range writes {
		k := latestKey{w.CheckID, w.Region, w.Node}
		old, ok := cur[k]
		if ok && w.CheckedAt.Before(old.CheckedAt) {
			continue
		}
		streak := 1
		if ok {
			streak = nextStreak(old.State, old.Streak, w.State)
		}
		cur[k] = Latest{OrgID: w.OrgID, CheckID: w.CheckID, Region: w.Region, Node: w.Node, State: w.State,
			ResultID: w.ResultID, Streak: streak, CheckedAt: w.CheckedAt.UTC(), Problems: w.Problems,
			DurationMS: w.DurationMS}
		dirty[k] = true
	}
	written := make([]Latest, 0, len(dirty))
	for k := range dirty {
		written = append(written, cur[k])
	}
	if err := tx.upsertLatest(ctx, written); err != nil {
		return nil, err
	}
	for k, l := range cur {
		if k.node == "" {
			whole = append(whole, l)
		}
	}
	return whole, nil
}

// wholeRows filters latest rows to the whole-check rows (node "").
const wholeRows = " AND node = ''"

// LatestForChecks returns every latest row of the given checks
// (organisation id → check ids).
func (tx *Tx) LatestForChecks(ctx context.Context, ids map[int64][]int64) ([]Latest, error) {
	return tx.latestForChecks(ctx, ids, "")
}

// WholeLatestForChecks returns the whole-check rows (node "") of the given
// checks: what the aggregator compares a new result with to decide
// whether it is steady.
//
// It keeps them in the transaction for AdvanceLatest (Tx.latest), which
// returns them after the writes: one read of them per batch instead of
// two.
//
// Checks whose rows KeepLatest handed it are not read again.
func (tx *Tx) WholeLatestForChecks(ctx context.Context, ids map[int64][]int64) ([]Latest, error) {
	var out []Latest
	unread := make(map[int64][]int64, len(ids))
	for org, chunk := range ids {
		for _, id := range chunk {
			if kept, ok := tx.latest[id]; ok {
				out = append(out, kept...)
			} else {
				unread[org] = append(unread[org], id)
			}
		}
	}
	rows, err := tx.latestForChecks(ctx, unread, wholeRows)
	if err != nil {
		return nil, err
	}
	if tx.latest == nil {
		tx.latest = map[int64][]Latest{}
	}
	for _, chunk := range unread {
		for _, id := range chunk {
			tx.latest[id] = nil // read: a check without rows has none
		}
	}
	for _, l := range rows {
		tx.latest[l.CheckID] = append(tx.latest[l.CheckID], l)
	}
	return append(out, rows...), nil
}

// KeepLatest hands the transaction whole-check rows (node "") that the
// caller knows to be as the database holds them, by check id: every
// region's row of each check, none for a check without rows. The
// aggregator keeps those its own batches left for the shards it owns, as
// no one else writes them (aggregate.ownedCache). WholeLatestForChecks
// and AdvanceLatest then do not read them.
func (tx *Tx) KeepLatest(rows map[int64][]Latest) {
	if len(rows) == 0 {
		return
	}
	if tx.latest == nil {
		tx.latest = make(map[int64][]Latest, len(rows))
	}
	maps.Copy(tx.latest, rows)
}

func (tx *Tx) latestForChecks(ctx context.Context, ids map[int64][]int64, filter string) ([]Latest, error) {
	var out []Latest
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		in, args := tx.s.anyOf("check_id", orgID, chunk)
		rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT org_id, check_id, region, node, state, result_id, streak, checked_at, problems
			FROM check_latest WHERE org_id = ? AND `+in+filter), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l Latest
			var problems string
			if err := rows.Scan(&l.OrgID, &l.CheckID, &l.Region, &l.Node, &l.State, &l.ResultID, &l.Streak, &l.CheckedAt, &problems); err != nil {
				return err
			}
			l.CheckedAt, l.Problems = l.CheckedAt.UTC(), []byte(problems)
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: latest states: %w", err)
	}
	return out, nil
}

// upsertLatest writes latest rows, replacing the row of the same check,
// region and node, in key order (a stable lock order between concurrent
// batches).
func (tx *Tx) upsertLatest(ctx context.Context, rows []Latest) error {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Node < b.Node
	})
	const cols = 10
	return tx.s.eachChunk(len(rows), cols, `INSERT INTO check_latest (org_id, check_id, region, node, state, result_id, streak,
		checked_at, problems, duration_ms) VALUES `, ` ON CONFLICT (check_id, region, node) DO UPDATE SET state = excluded.state,
		result_id = excluded.result_id, streak = excluded.streak, checked_at = excluded.checked_at, problems = excluded.problems,
		duration_ms = excluded.duration_ms`, func(start, end int, query string) error {
		args := make([]any, 0, (end-start)*cols)
		for _, l := range rows[start:end] {
			args = append(args, l.OrgID, l.CheckID, l.Region, l.Node, l.State, l.ResultID, l.Streak, l.CheckedAt.UTC(),
				jsonOr(l.Problems, "[]"), l.DurationMS)
		}
		if _, err := tx.tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
		return nil
	})
}
