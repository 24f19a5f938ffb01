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
	ids, regions, states, problems, results := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	orgs, checks, durations := make([]int64, n), make([]int64, n), make([]int64, n)
	checked, received := make([]time.Time, n), make([]time.Time, n)
	for i, r := range rows {
		ids[i], orgs[i], checks[i], regions[i], states[i] = r.ID, r.OrgID, r.CheckID, r.Region, r.State
		checked[i], durations[i], received[i] = r.CheckedAt.UTC(), r.DurationMS, r.ReceivedAt.UTC()
		problems[i], results[i] = jsonOr(r.Problems, "[]"), jsonOr(r.Result, "{}")
	}
	inserted, err := tx.queryStrings(ctx, `INSERT INTO check_results (id, org_id, check_id, region, state, checked_at,
		duration_ms, problems, result, received_at)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[],
			$7::bigint[], $8::text[], $9::text[], $10::timestamptz[])
		ON CONFLICT (id) DO NOTHING RETURNING id`,
		ids, orgs, checks, regions, states, checked, durations, problems, results, received)
	if err != nil {
		return nil, fmt.Errorf("store: insert results: %w", err)
	}
	return inserted, nil
}

func (tx *Tx) upsertLatestPG(ctx context.Context, rows []Latest) error {
	n := len(rows)
	orgs, checks, streaks := make([]int64, n), make([]int64, n), make([]int64, n)
	regions, nodes, states, results, problems := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	checked := make([]time.Time, n)
	for i, l := range rows {
		orgs[i], checks[i], regions[i], nodes[i], states[i] = l.OrgID, l.CheckID, l.Region, l.Node, l.State
		results[i], streaks[i], checked[i], problems[i] = l.ResultID, int64(l.Streak), l.CheckedAt.UTC(), jsonOr(l.Problems, "[]")
	}
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO check_latest (org_id, check_id, region, node, state, result_id, streak, checked_at, problems)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
			$8::timestamptz[], $9::text[])
		ON CONFLICT (check_id, region, node) DO UPDATE SET state = excluded.state, result_id = excluded.result_id,
			streak = excluded.streak, checked_at = excluded.checked_at, problems = excluded.problems`,
		orgs, checks, regions, nodes, states, results, streaks, checked, problems)
	if err != nil {
		return fmt.Errorf("store: upsert latest states: %w", err)
	}
	return nil
}

func jsonOr(b []byte, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}
