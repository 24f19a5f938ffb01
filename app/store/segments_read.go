package store

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Reads of raw results that see both kinds: full check_results rows and
// the steady samples of result_segments (segments.go). Every reader of raw
// results (uptime replay, rollups, the console's recent results, response
// times and state changes) goes through these.

// ResultPoint is one raw result as the readers of history see it.
type ResultPoint struct {
	ID         string // "" for a steady sample, which has none
	CheckID    int64
	Region     string
	State      string
	CheckedAt  time.Time
	DurationMS int64
	Problems   []byte // JSON array; "[]" for a steady sample
}

var noProblems = []byte("[]")

// SteadyStored reports, per sample, whether its segment already holds a
// sample of the same millisecond: how the aggregator recognises a
// redelivered steady result, which has no row to conflict with.
func (tx *Tx) SteadyStored(ctx context.Context, samples []SteadySample) ([]bool, error) {
	out := make([]bool, len(samples))
	if len(samples) == 0 {
		return out, nil
	}
	orgOf := map[int64]int64{}
	var keys []segKey
	seen := map[segKey]bool{}
	for _, smp := range samples {
		orgOf[smp.CheckID] = smp.OrgID
		if k := keyOf(smp.CheckID, smp.Region, smp.CheckedAt); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	ends, err := tx.segmentEnds(ctx, orgOf, keys, true)
	if err != nil {
		return nil, err
	}
	times := map[segKey]map[int64]bool{}
	for k, e := range ends {
		at := map[int64]bool{}
		if err := decodeSamples(k.hourTime(), e.samples, func(t time.Time, _ string, _ int64) { at[t.UnixMilli()] = true }); err != nil {
			return nil, err
		}
		times[k] = at
	}
	for i, smp := range samples {
		out[i] = times[keyOf(smp.CheckID, smp.Region, smp.CheckedAt)][sampleTime(smp.CheckedAt).UnixMilli()]
	}
	return out, nil
}

// rawSegment is one segment as read, decoded only when its check's turn
// comes: a day of an organisation's samples is a few bytes each as read,
// but ten times that decoded.
type rawSegment struct {
	region  string
	hour    time.Time
	samples []byte
}

// segmentsBetween returns the organisation's segments (of one check, or of
// all for checkID 0) that may hold samples checked in [from, to), by check.
func (s *Store) segmentsBetween(ctx context.Context, q querier, orgID, checkID int64, from, to time.Time) (map[int64][]rawSegment, error) {
	query, args := `SELECT check_id, region, hour, samples FROM result_segments WHERE org_id = ?`, []any{orgID}
	if checkID != 0 {
		query, args = query+` AND check_id = ?`, append(args, checkID)
	}
	query += ` AND hour >= ? AND hour < ?`
	args = append(args, from.UTC().Truncate(time.Hour), to.UTC())
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read segments: %w", err)
	}
	defer rows.Close()
	out := map[int64][]rawSegment{}
	for rows.Next() {
		var id int64
		var seg rawSegment
		if err := rows.Scan(&id, &seg.region, &seg.hour, &seg.samples); err != nil {
			return nil, fmt.Errorf("store: read segments: %w", err)
		}
		seg.hour = seg.hour.UTC()
		out[id] = append(out[id], seg)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read segments: %w", err)
	}
	return out, nil
}

// decodeBetween appends to dst a check's samples of segs checked in
// [from, to).
func decodeBetween(dst []ResultPoint, checkID int64, segs []rawSegment, from, to time.Time) ([]ResultPoint, error) {
	for _, seg := range segs {
		err := decodeSamples(seg.hour, seg.samples, func(at time.Time, state string, ms int64) {
			if !at.Before(from) && at.Before(to) {
				dst = append(dst, ResultPoint{CheckID: checkID, Region: seg.region, State: state, CheckedAt: at,
					DurationMS: ms, Problems: noProblems})
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// resultsBetween streams the organisation's results (of one check, or of
// all for checkID 0) checked in [from, to), full rows and steady samples,
// to fn one check at a time in ascending time, checks in ascending id. The
// segments (a few bytes per result) are read first and decoded check by
// check as the full rows stream.
func (s *Store) resultsBetween(ctx context.Context, q querier, orgID, checkID int64, from, to time.Time,
	fn func(checkID int64, points []ResultPoint) error) error {
	steady, err := s.segmentsBetween(ctx, q, orgID, checkID, from, to)
	if err != nil {
		return err
	}
	query, args := `SELECT id, check_id, region, state, checked_at, duration_ms, problems FROM check_results WHERE org_id = ?`, []any{orgID}
	if checkID != 0 {
		query, args = query+` AND check_id = ?`, append(args, checkID)
	}
	query += ` AND checked_at >= ? AND checked_at < ? ORDER BY check_id, checked_at`
	rows, err := q.QueryContext(ctx, s.q(query), append(args, from.UTC(), to.UTC())...)
	if err != nil {
		return fmt.Errorf("store: read results: %w", err)
	}
	defer rows.Close()
	var cur int64
	var points []ResultPoint
	done := map[int64]bool{}
	flush := func() error {
		if len(points) == 0 {
			return nil
		}
		done[cur] = true
		merged, err := decodeBetween(points, cur, steady[cur], from, to)
		if err != nil {
			return err
		}
		sort.SliceStable(merged, func(i, j int) bool { return merged[i].CheckedAt.Before(merged[j].CheckedAt) })
		return fn(cur, merged)
	}
	// A check with samples but no row sorts before the next check with rows.
	var pending []int64
	for id := range steady {
		pending = append(pending, id)
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i] < pending[j] })
	only := func(before int64, all bool) error {
		for len(pending) > 0 && (all || pending[0] < before) {
			id := pending[0]
			pending = pending[1:]
			if done[id] || id == before {
				continue
			}
			pts, err := decodeBetween(nil, id, steady[id], from, to)
			if err != nil {
				return err
			}
			sort.SliceStable(pts, func(i, j int) bool { return pts[i].CheckedAt.Before(pts[j].CheckedAt) })
			if err := fn(id, pts); err != nil {
				return err
			}
		}
		return nil
	}
	for rows.Next() {
		var p ResultPoint
		var problems string
		if err := rows.Scan(&p.ID, &p.CheckID, &p.Region, &p.State, &p.CheckedAt, &p.DurationMS, &problems); err != nil {
			return fmt.Errorf("store: read results: %w", err)
		}
		p.CheckedAt, p.Problems = p.CheckedAt.UTC(), []byte(problems)
		if p.CheckID != cur || len(points) == 0 {
			if err := flush(); err != nil {
				return err
			}
			if err := only(p.CheckID, false); err != nil {
				return err
			}
			cur, points = p.CheckID, nil
		}
		points = append(points, p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read results: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	return only(0, true)
}

// ResultsBetween returns the check's results checked in [from, to), full
// rows and steady samples, oldest first.
func (s *Store) ResultsBetween(ctx context.Context, orgID, checkID int64, from, to time.Time) ([]ResultPoint, error) {
	var out []ResultPoint
	err := s.resultsBetween(ctx, s.db, orgID, checkID, from, to, func(_ int64, points []ResultPoint) error {
		out = append(out, points...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: results of check %d: %w", checkID, err)
	}
	return out, nil
}

// LatestResults returns the check's newest limit results, full rows and
// steady samples, newest first. The newest limit full rows bound the
// answer: anything older than the oldest of them is not among the newest
// limit, so only segments from its hour on are read.
func (s *Store) LatestResults(ctx context.Context, orgID, checkID int64, limit int) ([]ResultPoint, error) {
	full, err := collect(ctx, s.db, fmt.Sprintf("latest results of check %d", checkID), func(row rowScanner) (ResultPoint, error) {
		p := ResultPoint{CheckID: checkID}
		var problems string
		err := row.Scan(&p.ID, &p.Region, &p.State, &p.CheckedAt, &p.DurationMS, &problems)
		p.CheckedAt, p.Problems = p.CheckedAt.UTC(), []byte(problems)
		return p, err
	}, s.q(`SELECT id, region, state, checked_at, duration_ms, problems FROM check_results
		WHERE check_id = ? AND org_id = ? ORDER BY checked_at DESC LIMIT ?`), checkID, orgID, limit)
	if err != nil {
		return nil, err
	}
	from := time.Unix(0, 0).UTC()
	if len(full) == limit && limit > 0 {
		from = full[len(full)-1].CheckedAt
	}
	to := time.Now().Add(24 * time.Hour)
	segs, err := s.segmentsBetween(ctx, s.db, orgID, checkID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: latest results of check %d: %w", checkID, err)
	}
	out, err := decodeBetween(full, checkID, segs[checkID], from, to)
	if err != nil {
		return nil, fmt.Errorf("store: latest results of check %d: %w", checkID, err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CheckedAt.After(out[j].CheckedAt) })
	return out[:min(len(out), max(0, limit))], nil
}

// ResultCounts returns how many results each region of the organisation
// reported from since on, full rows and steady samples.
func (s *Store) ResultCounts(ctx context.Context, orgID int64, since time.Time) (map[string]int, error) {
	since = since.UTC()
	out := map[string]int{}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT region, COUNT(*) FROM check_results WHERE checked_at >= ? AND org_id = ? GROUP BY region`),
		since, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: region result counts: %w", err)
	}
	err = scanAll(rows, func() error {
		var region string
		var n int
		err := rows.Scan(&region, &n)
		out[region] += n
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: region result counts: %w", err)
	}
	// Whole hours count their segments' n; the hour since falls in is decoded.
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT region, hour, n, CASE WHEN hour < ? THEN samples ELSE NULL END
		FROM result_segments WHERE hour >= ? AND org_id = ?`), since, since.Truncate(time.Hour), orgID)
	if err != nil {
		return nil, fmt.Errorf("store: region sample counts: %w", err)
	}
	err = scanAll(rows, func() error {
		var region string
		var hour time.Time
		var n int
		var samples []byte
		if err := rows.Scan(&region, &hour, &n, &samples); err != nil {
			return err
		}
		if samples == nil {
			out[region] += n
			return nil
		}
		return decodeSamples(hour.UTC(), samples, func(at time.Time, _ string, _ int64) {
			if !at.Before(since) {
				out[region]++
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: region sample counts: %w", err)
	}
	return out, nil
}
