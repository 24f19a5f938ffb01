package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"pharos/app/incident"
)

// Daily rollups keep the 90-day bars and history cheap once raw results
// are gone (DESIGN §5), and retention bounds the raw results.

// Rollup is one check's day: result counts by state, latency percentiles
// and the time it was monitored, degraded and down.
type Rollup struct {
	OrgID    int64
	CheckID  int64
	Day      time.Time // midnight UTC
	Total    int
	Up       int
	Degraded int
	Down     int
	// P50MS and P95MS are nearest-rank percentiles of the duration of the
	// results that were not down (a failed probe's duration is its timeout,
	// not the service's latency); 0 when there were none.
	P50MS int64
	P95MS int64
	// Time is how long the check was monitored that day and how much of
	// it degraded or down (incident.Timeline); nil for a day rolled up
	// before rollups kept time.
	Time *incident.Span
}

// Uptime is the share of the monitored time that was not down, in percent;
// for a day rolled up before rollups kept time, the share of results that
// were not down. It is 100 for a day without data.
func (r Rollup) Uptime() float64 {
	if r.Time != nil {
		u, ok := r.Time.Uptime()
		if !ok {
			return 100
		}
		return u
	}
	if r.Total == 0 {
		return 100
	}
	return 100 * float64(r.Total-r.Down) / float64(r.Total)
}

const dayLayout = "2006-01-02"

// RollupDay computes the organisation's rollups of one UTC day from the raw
// results, full rows and steady samples alike, and upserts them, so running
// it again (hourly for today) is safe. It returns how many checks had
// results that day.
func (s *Store) RollupDay(ctx context.Context, orgID int64, day time.Time) (n int, err error) {
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 1)
	err = s.InTx(ctx, func(tx *Tx) error {
		n, err = s.rollupDay(ctx, tx.tx, orgID, from, to)
		return err
	})
	return n, err
}

// rollupDay reads the results around the day one check at a time, replays
// them for the check's time (daySpans) and counts the day's own, with
// nearest-rank percentiles (PostgreSQL's percentile_disc), and writes each
// check's day.
func (s *Store) rollupDay(ctx context.Context, q querier, orgID int64, from, to time.Time) (int, error) {
	checks, err := collect(ctx, q, "checks", scanCheck, s.q(`SELECT `+checkColumns+` FROM checks WHERE org_id = ?`), orgID)
	if err != nil {
		return 0, err
	}
	byID := make(map[int64]Check, len(checks))
	for _, c := range checks {
		byID[c.ID] = c
	}
	before, after := replayWindow(checks)
	var out []Rollup
	withResults := 0
	err = s.resultsBetween(ctx, q, orgID, 0, from.Add(-before), to.Add(after), func(id int64, points []ResultPoint) error {
		r := Rollup{OrgID: orgID, CheckID: id, Day: from}
		var durations []int64
		for _, p := range points {
			if p.CheckedAt.Before(from) || !p.CheckedAt.Before(to) {
				continue
			}
			r.Total++
			switch p.State {
			case "up":
				r.Up++
			case "degraded":
				r.Degraded++
			case "down":
				r.Down++
			}
			if p.State != "down" {
				durations = append(durations, p.DurationMS)
			}
		}
		sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
		r.P50MS, r.P95MS = nearestRank(durations, 0.5), nearestRank(durations, 0.95)
		if c, ok := byID[id]; ok {
			sp := daySpan(c, points, from, to)
			r.Time = &sp
		}
		if r.Total > 0 {
			withResults++
		} else if r.Time == nil {
			return nil
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: roll up %s: %w", from.Format(dayLayout), err)
	}
	for _, r := range out {
		if err := s.putRollup(ctx, q, r); err != nil {
			return 0, fmt.Errorf("store: roll up check %d on %s: %w", r.CheckID, from.Format(dayLayout), err)
		}
	}
	return withResults, nil
}

// putRollup writes one check's day, replacing what an earlier run wrote.
func (s *Store) putRollup(ctx context.Context, q querier, r Rollup) error {
	monitored, degraded, down := nullSeconds(r.Time)
	_, err := q.ExecContext(ctx, s.q(`INSERT INTO daily_rollups (org_id, check_id, day, total, up, degraded, down, p50_ms, p95_ms,
			monitored_seconds, degraded_seconds, down_seconds)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (check_id, day) DO UPDATE SET total = excluded.total, up = excluded.up, degraded = excluded.degraded,
			down = excluded.down, p50_ms = excluded.p50_ms, p95_ms = excluded.p95_ms, monitored_seconds = excluded.monitored_seconds,
			degraded_seconds = excluded.degraded_seconds, down_seconds = excluded.down_seconds`),
		r.OrgID, r.CheckID, r.Day.UTC().Format(dayLayout), r.Total, r.Up, r.Degraded, r.Down, r.P50MS, r.P95MS,
		monitored, degraded, down)
	return err
}

// nearestRank is the p-th percentile of sorted values by the nearest-rank
// method, the same as PostgreSQL's percentile_disc.
func nearestRank(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Rollups returns a check's rollups for the days from..to (inclusive), oldest
// first.
func (s *Store) Rollups(ctx context.Context, orgID, checkID int64, from, to time.Time) ([]Rollup, error) {
	dayCol := "day"
	if s.dialect == Postgres {
		dayCol = "to_char(day, 'YYYY-MM-DD')"
	}
	return collect(ctx, s.db, fmt.Sprintf("rollups of check %d", checkID), func(row rowScanner) (Rollup, error) {
		r := Rollup{OrgID: orgID, CheckID: checkID}
		var day any
		var monitored, degraded, down *int64
		if err := row.Scan(&day, &r.Total, &r.Up, &r.Degraded, &r.Down, &r.P50MS, &r.P95MS, &monitored, &degraded, &down); err != nil {
			return Rollup{}, err
		}
		r.Time = spanOf(monitored, degraded, down)
		var err error
		r.Day, err = parseDay(day)
		return r, err
	}, s.q(`SELECT `+dayCol+`, total, up, degraded, down, p50_ms, p95_ms, monitored_seconds, degraded_seconds, down_seconds FROM daily_rollups
		WHERE org_id = ? AND check_id = ? AND day >= ? AND day <= ? ORDER BY day`),
		orgID, checkID, from.UTC().Format(dayLayout), to.UTC().Format(dayLayout))
}

// parseDay reads a DATE column, which the drivers return as text or time.
func parseDay(v any) (time.Time, error) {
	switch d := v.(type) {
	case time.Time:
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), nil
	case string:
		return time.Parse(dayLayout, d[:min(len(d), len(dayLayout))])
	case []byte:
		return parseDay(string(d))
	}
	return time.Time{}, fmt.Errorf("unexpected day %T", v)
}

// DeleteResultsBefore deletes raw results checked before cutoff, full rows
// and the segments of steady samples whose hour ended by then (a segment
// goes whole, up to an hour after its oldest sample), at most limit rows
// per statement so that no statement holds locks for long, and returns how
// many results it deleted. Retention applies to every organisation alike,
// so this is the one write not scoped by organisation.
func (s *Store) DeleteResultsBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	if limit <= 0 {
		limit = 5000
	}
	fail := func(err error) error {
		return fmt.Errorf("store: delete results before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM check_results WHERE id IN
			(SELECT id FROM check_results WHERE checked_at < ? LIMIT ?)`), cutoff.UTC(), limit)
		if err != nil {
			return total, fail(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fail(err)
		}
		total += n
		if n < int64(limit) {
			break
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: delete results: %w", err)
		}
	}
	for {
		samples, err := collect(ctx, s.db, "deleted segments", func(row rowScanner) (int64, error) {
			var n int64
			return n, row.Scan(&n)
		}, s.q(`DELETE FROM result_segments WHERE (check_id, region, hour) IN
			(SELECT check_id, region, hour FROM result_segments WHERE hour <= ? LIMIT ?) RETURNING n`),
			cutoff.UTC().Add(-time.Hour), limit)
		if err != nil {
			return total, fail(err)
		}
		for _, n := range samples {
			total += n
		}
		if len(samples) < limit {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: delete results: %w", err)
		}
	}
}
