package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"pharos/app/incident"
)

// Uptime in time (DESIGN §5): a day's rollup records how long each check
// was monitored and how much of that it was degraded or down, replayed from
// the raw results by incident.Timeline. Rollups written before migration
// 0011 have no seconds and fall back to their result counts.

// maxLookback bounds how far before a day the replay reads results to
// learn the reports and confirm streaks the day starts with.
const maxLookback = 48 * time.Hour

// daySpans returns the monitored, degraded and down time of each of the
// organisation's checks during [from, to), for the checks that have any
// result near the day.
func (s *Store) daySpans(ctx context.Context, q querier, orgID int64, from, to time.Time) (map[int64]incident.Span, error) {
	checks, err := collect(ctx, q, "checks", scanCheck, s.q(`SELECT `+checkColumns+` FROM checks WHERE org_id = ?`), orgID)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]Check, len(checks))
	var before, after time.Duration
	for _, c := range checks {
		byID[c.ID] = c
		before = max(before, time.Duration(max(c.ConfirmRounds, incident.DefaultConfirm)+1)*c.Interval)
		after = max(after, 2*c.Interval) // a result stands until the next one within two intervals
	}
	before, after = min(before, maxLookback), min(after, maxLookback)

	rows, err := q.QueryContext(ctx, s.q(`SELECT check_id, region, state, checked_at FROM check_results
		WHERE org_id = ? AND checked_at >= ? AND checked_at < ? ORDER BY check_id, checked_at`),
		orgID, from.Add(-before).UTC(), to.Add(after).UTC())
	if err != nil {
		return nil, fmt.Errorf("store: replay results: %w", err)
	}
	defer rows.Close()
	spans := map[int64]incident.Span{}
	var current int64
	var samples []incident.Sample
	flush := func() {
		c, ok := byID[current]
		if !ok || len(samples) == 0 {
			return
		}
		sort.SliceStable(samples, func(i, j int) bool { return samples[i].At.Before(samples[j].At) })
		policy := incident.Policy{Quorum: c.Quorum, Confirm: c.ConfirmRounds}
		spans[current] = incident.Timeline(samples, c.Regions, policy, c.Interval, from, to)
	}
	for rows.Next() {
		var id int64
		var smp incident.Sample
		var state string
		if err := rows.Scan(&id, &smp.Region, &state, &smp.At); err != nil {
			return nil, fmt.Errorf("store: replay results: %w", err)
		}
		if id != current {
			flush()
			current, samples = id, samples[:0]
		}
		smp.State = incident.State(state)
		samples = append(samples, smp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: replay results: %w", err)
	}
	flush()
	return spans, nil
}

// putSpans writes the seconds of each check's day, creating the day's row
// when the check had no result that day (a result of the evening before
// can stand past midnight).
func (s *Store) putSpans(ctx context.Context, q querier, orgID int64, day time.Time, spans map[int64]incident.Span) error {
	ids := make([]int64, 0, len(spans))
	for id := range spans {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	const cols = 6
	for start := 0; start < len(ids); {
		end := min(len(ids), start+maxBulkParams/cols)
		args := make([]any, 0, (end-start)*cols)
		for _, id := range ids[start:end] {
			sp := spans[id]
			args = append(args, orgID, id, day.UTC().Format(dayLayout), seconds(sp.Monitored), seconds(sp.Degraded), seconds(sp.Down))
		}
		_, err := q.ExecContext(ctx, s.bulk(`INSERT INTO daily_rollups (org_id, check_id, day, monitored_seconds, degraded_seconds, down_seconds) VALUES `,
			cols, end-start, ` ON CONFLICT (check_id, day) DO UPDATE SET monitored_seconds = excluded.monitored_seconds,
			degraded_seconds = excluded.degraded_seconds, down_seconds = excluded.down_seconds`), args...)
		if err != nil {
			return fmt.Errorf("store: rollup seconds of %s: %w", day.Format(dayLayout), err)
		}
		start = end
	}
	return nil
}

// seconds rounds a duration to whole seconds, as the rollups store it.
func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

// spanOf reads the nullable seconds columns of a rollup: nil for a row
// rolled up before they existed.
func spanOf(monitored, degraded, down *int64) *incident.Span {
	if monitored == nil {
		return nil
	}
	sp := incident.Span{Monitored: time.Duration(*monitored) * time.Second}
	if degraded != nil {
		sp.Degraded = time.Duration(*degraded) * time.Second
	}
	if down != nil {
		sp.Down = time.Duration(*down) * time.Second
	}
	return &sp
}

// nullSeconds is a span's column values, NULL for none.
func nullSeconds(sp *incident.Span) (monitored, degraded, down any) {
	if sp == nil {
		return nil, nil, nil
	}
	return seconds(sp.Monitored), seconds(sp.Degraded), seconds(sp.Down)
}

// DaysWithoutTime returns the days from since on (UTC) for which some of the
// organisation's rollups have no time, oldest first: days rolled up before
// migration 0011, which the housekeeper rolls up again while their raw
// results are kept.
func (s *Store) DaysWithoutTime(ctx context.Context, orgID int64, since time.Time) ([]time.Time, error) {
	dayCol := "day"
	if s.dialect == Postgres {
		dayCol = "to_char(day, 'YYYY-MM-DD')"
	}
	return collect(ctx, s.db, "days without time", func(row rowScanner) (time.Time, error) {
		var day any
		if err := row.Scan(&day); err != nil {
			return time.Time{}, err
		}
		return parseDay(day)
	}, s.q(`SELECT DISTINCT `+dayCol+` FROM daily_rollups WHERE org_id = ? AND day >= ? AND monitored_seconds IS NULL ORDER BY 1`),
		orgID, since.UTC().Format(dayLayout))
}
