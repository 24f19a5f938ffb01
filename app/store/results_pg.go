package store

import (
	"context"
	"fmt"
	"time"
)

// PostgreSQL versions of the batch writes: one statement with one array
// parameter per column (unnest), whatever the batch size. The statement
// text never changes, so it is parsed and planned once per connection
// instead of once per batch, and a batch is a single round trip.

func (tx *Tx) insertResultsPG(ctx context.Context, rows []ResultRow) ([]string, error) {
	n := len(rows)
	ids, regions, states := make([]string, n), make([]string, n), make([]string, n)
	jobs := make([]*string, n)                                // NULL for rows without a job
	problems, results := make([][]byte, n), make([][]byte, n) // JSON text as is, not copied into strings
	orgs, checks, durations := make([]int64, n), make([]int64, n), make([]int64, n)
	checked, received := make([]time.Time, n), make([]time.Time, n)
	for i, r := range rows {
		ids[i], orgs[i], checks[i], regions[i], states[i] = r.ID, r.OrgID, r.CheckID, r.Region, r.State
		checked[i], durations[i], received[i] = r.CheckedAt.UTC(), r.DurationMS, r.ReceivedAt.UTC()
		problems[i], results[i] = r.Problems, r.storedResult()
		if r.JobID != "" {
			jobs[i] = &rows[i].JobID
		}
		if len(problems[i]) == 0 {
			problems[i] = []byte("[]")
		}
	}
	// No conflict target: a duplicate id and a duplicate job are both skipped.
	inserted, err := tx.queryStrings(ctx, `INSERT INTO check_results (id, org_id, check_id, region, state, checked_at,
		duration_ms, problems, result, received_at, job_id)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[],
			$7::bigint[], $8::text[], $9::text[], $10::timestamptz[], $11::text[])
		ON CONFLICT DO NOTHING RETURNING id`,
		ids, orgs, checks, regions, states, checked, durations, problems, results, received, jobs)
	if err != nil {
		return nil, fmt.Errorf("store: insert results: %w", err)
	}
	return inserted, nil
}

// advanceLatestSQL applies one wave of writes (each key at most once) to
// the rows that exist and are not newer, in one statement, computing the
// streak from the old row in place (no separate read). It returns the
// whole-check rows (node ”) of the touched checks: those it wrote
// (flagged), and all of them as they were before it (the statement's
// snapshot), which the written ones supersede; and, on every row, how many
// rows it wrote in all, node rows included, so the caller knows whether
// some keys are new. (Every wave that writes a node row of a check ×
// region holds a write of its whole row too, so the count reaches the
// caller whenever something was written.) Node rows are written and not
// returned: nothing reads them back, and they were a third of the rows.
// The snapshot is read check by check through the primary key (the
// LATERAL subquery, kept apart by OFFSET 0): given the join, the planner
// chose, for a batch's first custom plans, to read every whole-check row
// of the table and hash them, 32 ms instead of 1 ms at 10,000 checks.
const advanceLatestSQL = `WITH u AS (
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::timestamptz[], $8::text[], $9::bigint[])
			AS u(org_id, check_id, region, node, state, result_id, checked_at, problems, duration_ms)
	), upd AS (
		UPDATE check_latest l SET state = u.state, result_id = u.result_id,
			streak = CASE WHEN l.state = u.state AND l.streak > 0 THEN l.streak + 1 ELSE 1 END,
			checked_at = u.checked_at, problems = u.problems, duration_ms = u.duration_ms
		FROM u
		WHERE l.check_id = u.check_id AND l.region = u.region AND l.node = u.node AND l.org_id = u.org_id
			AND l.checked_at <= u.checked_at
		RETURNING l.check_id, l.region, l.node, l.streak
	), n AS (SELECT count(*) AS n FROM upd)
	SELECT n.n, TRUE, 0::bigint, check_id, region, node, '', '', streak, 'epoch'::timestamptz, '' FROM upd, n
	WHERE node = ''
	UNION ALL
	SELECT n.n, FALSE, l.org_id, l.check_id, l.region, l.node, l.state, l.result_id, l.streak, l.checked_at, l.problems
	FROM (SELECT DISTINCT org_id, check_id FROM u) c
		CROSS JOIN LATERAL (SELECT * FROM check_latest l
			WHERE l.check_id = c.check_id AND l.node = '' AND l.org_id = c.org_id OFFSET 0) l
		CROSS JOIN n
	WHERE (l.check_id, l.region) NOT IN (SELECT check_id, region FROM upd WHERE node = '')`

// insertLatestSQL applies one wave of writes whatever exists: new keys are
// inserted, and rows not written yet by the same result and not newer are
// updated as advanceLatestSQL does (so running it after advanceLatestSQL
// writes only what that left out). It returns the whole-check keys it wrote
// with their streak, flagged, in advanceLatestSQL's columns.
const insertLatestSQL = `WITH w AS (
		INSERT INTO check_latest AS l (org_id, check_id, region, node, state, result_id, checked_at, problems, duration_ms, streak)
		SELECT u.*, 1 FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
				$7::timestamptz[], $8::text[], $9::bigint[])
				AS u(org_id, check_id, region, node, state, result_id, checked_at, problems, duration_ms)
		ON CONFLICT (check_id, region, node) DO UPDATE SET state = excluded.state, result_id = excluded.result_id,
			streak = CASE WHEN l.state = excluded.state AND l.streak > 0 THEN l.streak + 1 ELSE 1 END,
			checked_at = excluded.checked_at, problems = excluded.problems, duration_ms = excluded.duration_ms
			WHERE l.checked_at <= excluded.checked_at AND l.result_id <> excluded.result_id AND l.org_id = excluded.org_id
		RETURNING l.check_id, l.region, l.node, l.streak
	)
	SELECT 0::bigint, TRUE, 0::bigint, check_id, region, node, '', '', streak, 'epoch'::timestamptz, '' FROM w
	WHERE node = ''`

// advanceLatestPG applies the writes wave by wave (see waves) and returns
// the touched checks' whole-check rows after them.
func (tx *Tx) advanceLatestPG(ctx context.Context, writes []LatestWrite) ([]Latest, error) {
	// Sized for the common batch: a whole-check row per write at most.
	cur := make(map[latestKey]Latest, len(writes)) // whole-check rows after the waves so far
	empty := []byte("[]")
	for _, wave := range waves(writes) {
		n := len(wave)
		orgs, checks := make([]int64, n), make([]int64, n)
		regions, nodes, states, results := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		checked, problems, durations := make([]time.Time, n), make([][]byte, n), make([]int64, n)
		for i, w := range wave {
			orgs[i], checks[i], regions[i], nodes[i], states[i], results[i] = w.OrgID, w.CheckID, w.Region, w.Node, w.State, w.ResultID
			checked[i], problems[i], durations[i] = w.CheckedAt.UTC(), w.Problems, w.DurationMS
			if len(w.Problems) == 0 {
				problems[i] = empty
			}
		}
		args := []any{orgs, checks, regions, nodes, states, results, checked, problems, durations}
		wrote := make(map[latestKey]bool, n) // written by this wave: its snapshot rows are stale
		byKey := make(map[latestKey]LatestWrite, n)
		for _, w := range wave {
			if w.Node == "" {
				byKey[latestKey{w.CheckID, w.Region, w.Node}] = w
			}
		}
		merge := func(isWrite bool, l Latest) {
			k := latestKey{l.CheckID, l.Region, l.Node}
			switch {
			case isWrite: // the row is the write, with the streak the database counted
				w := byKey[k]
				l = Latest{OrgID: w.OrgID, CheckID: w.CheckID, Region: w.Region, Node: w.Node, State: w.State,
					ResultID: w.ResultID, Streak: l.Streak, CheckedAt: w.CheckedAt.UTC(), Problems: w.Problems,
					DurationMS: w.DurationMS}
				if len(l.Problems) == 0 {
					l.Problems = empty
				}
				cur[k], wrote[k] = l, true
			case !wrote[k]: // a later wave's snapshot includes the earlier waves
				cur[k] = l
			}
		}
		updated, err := tx.scanLatest(ctx, advanceLatestSQL, args, merge)
		if err != nil {
			return nil, err
		}
		if updated == n {
			continue
		}
		// New keys (or late writes, which the statement leaves alone).
		if _, err := tx.scanLatest(ctx, insertLatestSQL, args, merge); err != nil {
			return nil, err
		}
	}
	whole := make([]Latest, 0, len(cur))
	for _, l := range cur {
		whole = append(whole, l)
	}
	return whole, nil
}

// scanLatest runs one of the latest-state statements and passes fn its
// rows; it returns the count of rows written that they carry.
func (tx *Tx) scanLatest(ctx context.Context, query string, args []any, fn func(written bool, l Latest)) (int, error) {
	rows, err := tx.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	written := 0
	for rows.Next() {
		var l Latest
		var problems string
		var n int64
		var w bool
		if err := rows.Scan(&n, &w, &l.OrgID, &l.CheckID, &l.Region, &l.Node, &l.State, &l.ResultID, &l.Streak, &l.CheckedAt, &problems); err != nil {
			return 0, err
		}
		written = int(n)
		l.CheckedAt, l.Problems = l.CheckedAt.UTC(), []byte(problems)
		fn(w, l)
	}
	return written, rows.Err()
}

func jsonOr(b []byte, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}
