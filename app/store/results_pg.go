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
// streak from the old row in place (no separate read). It returns the keys
// it wrote with their streak.
const advanceLatestSQL = `WITH u AS (
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::timestamptz[], $8::text[], $9::bigint[])
			AS u(org_id, check_id, region, node, state, result_id, checked_at, problems, duration_ms)
	)
	UPDATE check_latest l SET state = u.state, result_id = u.result_id,
		streak = CASE WHEN l.state = u.state AND l.streak > 0 THEN l.streak + 1 ELSE 1 END,
		checked_at = u.checked_at, problems = u.problems, duration_ms = u.duration_ms
	FROM u
	WHERE l.check_id = u.check_id AND l.region = u.region AND l.node = u.node AND l.org_id = u.org_id
		AND l.checked_at <= u.checked_at
	RETURNING l.check_id, l.region, l.node, l.streak`

// insertLatestSQL applies one wave of writes whatever exists: new keys are
// inserted, and rows not written yet by the same result and not newer are
// updated as advanceLatestSQL does (so running it after advanceLatestSQL
// writes only what that left out). It returns the keys it wrote with their
// streak.
const insertLatestSQL = `INSERT INTO check_latest AS l (org_id, check_id, region, node, state, result_id, checked_at, problems,
		duration_ms, streak)
	SELECT u.*, 1 FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::timestamptz[], $8::text[], $9::bigint[])
			AS u(org_id, check_id, region, node, state, result_id, checked_at, problems, duration_ms)
	ON CONFLICT (check_id, region, node) DO UPDATE SET state = excluded.state, result_id = excluded.result_id,
		streak = CASE WHEN l.state = excluded.state AND l.streak > 0 THEN l.streak + 1 ELSE 1 END,
		checked_at = excluded.checked_at, problems = excluded.problems, duration_ms = excluded.duration_ms
		WHERE l.checked_at <= excluded.checked_at AND l.result_id <> excluded.result_id AND l.org_id = excluded.org_id
	RETURNING l.check_id, l.region, l.node, l.streak`

// advanceLatestPG applies the writes wave by wave (see waves) and returns
// the touched checks' whole-check rows after them: those it wrote, with
// the streak the database counted, over those wholeBefore gave.
//
// The rows it did not write are as WholeLatestForChecks read them at the
// batch's start, not as at this statement: a result of the same check
// that another aggregator commits meanwhile (its shard changing hands) is
// not seen, as it would not be if it committed just after the statement.
// Each row is written in place, so nothing written is lost either way.
func (tx *Tx) advanceLatestPG(ctx context.Context, writes []LatestWrite) ([]Latest, error) {
	before, err := tx.wholeBefore(ctx, writes)
	if err != nil {
		return nil, err
	}
	tx.forgetLatest(writes)
	cur := make(map[latestKey]Latest, len(before)+len(writes)) // whole-check rows after the waves so far
	for _, l := range before {
		cur[latestKey{l.CheckID, l.Region, l.Node}] = l
	}
	empty := []byte("[]")
	for _, wave := range waves(writes) {
		n := len(wave)
		orgs, checks := make([]int64, n), make([]int64, n)
		regions, nodes, states, results := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		checked, problems, durations := make([]time.Time, n), make([][]byte, n), make([]int64, n)
		byKey := make(map[latestKey]int, n) // whole-check writes by key: their index in wave
		for i, w := range wave {
			orgs[i], checks[i], regions[i], nodes[i], states[i], results[i] = w.OrgID, w.CheckID, w.Region, w.Node, w.State, w.ResultID
			checked[i], problems[i], durations[i] = w.CheckedAt.UTC(), w.Problems, w.DurationMS
			if len(w.Problems) == 0 {
				problems[i] = empty
			}
			if w.Node == "" {
				byKey[latestKey{w.CheckID, w.Region, w.Node}] = i
			}
		}
		args := []any{orgs, checks, regions, nodes, states, results, checked, problems, durations}
		wrote := func(k latestKey, streak int) { // the row is the write, with the streak the database counted
			i, ok := byKey[k]
			if !ok {
				return // a node row
			}
			w := wave[i]
			l := Latest{OrgID: w.OrgID, CheckID: w.CheckID, Region: w.Region, Node: w.Node, State: w.State,
				ResultID: w.ResultID, Streak: streak, CheckedAt: w.CheckedAt.UTC(), Problems: w.Problems,
				DurationMS: w.DurationMS}
			if len(l.Problems) == 0 {
				l.Problems = empty
			}
			cur[k] = l
		}
		updated, err := tx.scanWritten(ctx, advanceLatestSQL, args, wrote)
		if err != nil {
			return nil, err
		}
		if updated == n {
			continue
		}
		// New keys (or late writes, which the statement leaves alone).
		if _, err := tx.scanWritten(ctx, insertLatestSQL, args, wrote); err != nil {
			return nil, err
		}
	}
	whole := make([]Latest, 0, len(cur))
	for _, l := range cur {
		whole = append(whole, l)
	}
	return whole, nil
}

// scanWritten runs one of the latest-state statements, passes fn each
// key it wrote with its streak, and returns how many it wrote.
func (tx *Tx) scanWritten(ctx context.Context, query string, args []any, fn func(k latestKey, streak int)) (int, error) {
	rows, err := tx.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	written := 0
	for rows.Next() {
		var k latestKey
		var streak int
		if err := rows.Scan(&k.check, &k.region, &k.node, &streak); err != nil {
			return 0, err
		}
		written++
		fn(k, streak)
	}
	return written, rows.Err()
}

func jsonOr(b []byte, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}
