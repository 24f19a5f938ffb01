package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Reads behind the console's check detail: what a check last saw per region
// and node, its recent results, its response times, how its state moved and
// which incidents its component had. Every read is scoped by organisation.

// RegionLatest is a check's latest word from one region: the whole-check
// row, the stored result it came from (nil once retention pruned it) and
// the row of each node.
type RegionLatest struct {
	Region    string
	State     string
	CheckedAt time.Time
	Problems  []byte // JSON array
	Result    []byte // the whole probes.Result as JSON; nil when pruned
	Nodes     []Latest
}

// CheckLatestResults returns the check's latest rows by region, with the
// result each region's whole-check row points to.
func (s *Store) CheckLatestResults(ctx context.Context, orgID, checkID int64) ([]RegionLatest, error) {
	// A steady result is stored compactly (result ""): its region's detail
	// is then the newest full result, at most an hour older.
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT l.region, l.node, l.state, l.result_id, l.streak, l.checked_at, l.problems,
			CASE WHEN r.result = '' THEN (SELECT f.result FROM check_results f
				WHERE f.check_id = l.check_id AND f.org_id = l.org_id AND f.region = l.region AND f.result <> ''
					AND f.checked_at <= l.checked_at
				ORDER BY f.checked_at DESC LIMIT 1) ELSE r.result END
		FROM check_latest l LEFT JOIN check_results r ON l.node = '' AND r.id = l.result_id AND r.org_id = l.org_id
		WHERE l.org_id = ? AND l.check_id = ? ORDER BY l.region, l.node`), orgID, checkID)
	if err != nil {
		return nil, fmt.Errorf("store: latest results of check %d: %w", checkID, err)
	}
	defer rows.Close()
	var out []RegionLatest
	for rows.Next() {
		l := Latest{OrgID: orgID, CheckID: checkID}
		var problems string
		var result sql.NullString
		if err := rows.Scan(&l.Region, &l.Node, &l.State, &l.ResultID, &l.Streak, &l.CheckedAt, &problems, &result); err != nil {
			return nil, fmt.Errorf("store: latest results of check %d: %w", checkID, err)
		}
		l.CheckedAt, l.Problems = l.CheckedAt.UTC(), []byte(problems)
		if len(out) == 0 || out[len(out)-1].Region != l.Region {
			out = append(out, RegionLatest{Region: l.Region})
		}
		r := &out[len(out)-1]
		if l.Node != "" {
			r.Nodes = append(r.Nodes, l)
			continue
		}
		r.State, r.CheckedAt, r.Problems = l.State, l.CheckedAt, l.Problems
		if result.Valid {
			r.Result = []byte(result.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest results of check %d: %w", checkID, err)
	}
	return out, nil
}

// ResultSummary is one stored result without its full JSON.
type ResultSummary struct {
	ID         string
	Region     string
	State      string
	CheckedAt  time.Time
	DurationMS int64
	Problems   []byte // JSON array
}

// RecentResults returns the check's newest limit results, newest first:
// full rows and steady samples (LatestResults), a sample without an id.
func (s *Store) RecentResults(ctx context.Context, orgID, checkID int64, limit int) ([]ResultSummary, error) {
	points, err := s.LatestResults(ctx, orgID, checkID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ResultSummary, len(points))
	for i, p := range points {
		out[i] = ResultSummary{ID: p.ID, Region: p.Region, State: p.State, CheckedAt: p.CheckedAt,
			DurationMS: p.DurationMS, Problems: p.Problems}
	}
	return out, nil
}

// LatencyPoint is the response time of one region over one bucket of time:
// nearest-rank percentiles of the results that were not down (a failed
// probe's duration is its timeout, not the service's latency), as in
// daily rollups.
type LatencyPoint struct {
	Region string
	Start  time.Time
	Count  int
	P50MS  int64
	P95MS  int64
}

// LatencyBuckets returns the check's p50/p95 per region and bucket of the
// given width, for the results checked from since, ordered by region and
// time; buckets without results are absent.
func (s *Store) LatencyBuckets(ctx context.Context, orgID, checkID int64, since time.Time, bucket time.Duration) ([]LatencyPoint, error) {
	since = since.UTC().Truncate(bucket)
	// Full rows and steady samples alike (ResultsBetween).
	points, err := s.ResultsBetween(ctx, orgID, checkID, since, time.Now().Add(time.Hour))
	if err != nil {
		return nil, fmt.Errorf("store: latency of check %d: %w", checkID, err)
	}
	type key struct {
		region string
		start  time.Time
	}
	samples := map[key][]int64{}
	for _, p := range points {
		if p.State == "down" {
			continue
		}
		k := key{p.Region, p.CheckedAt.UTC().Truncate(bucket)}
		samples[k] = append(samples[k], p.DurationMS)
	}
	out := make([]LatencyPoint, 0, len(samples))
	for k, ms := range samples {
		sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
		out = append(out, LatencyPoint{Region: k.region, Start: k.start, Count: len(ms),
			P50MS: nearestRank(ms, 0.50), P95MS: nearestRank(ms, 0.95)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Start.Before(out[j].Start)
	})
	return out, nil
}

// RegionStateChange is a region's results changing state.
type RegionStateChange struct {
	Region string
	From   string // "" for the first result of the window
	To     string
	At     time.Time
}

// RegionStateChanges returns, newest first, up to limit changes of state
// between consecutive results of each region checked from since. The first
// result of each region in the window counts as a change from "".
//
// Only full rows of check_results are read: a steady sample (a segment's)
// repeats its region's state by definition, so every change is a full row.
// The first result of a window is its first full row, at most an hour
// after its first sample.
//
// The newest changes are found by walking the check's results backwards
// through its (check_id, checked_at) index, a page at a time, and stopping
// once limit changes are known: a week of results need not be read for the
// fifty newest changes. A window function (LAG over the region) would read
// and sort every result of the week first.
func (s *Store) RegionStateChanges(ctx context.Context, orgID, checkID int64, since time.Time, limit int) ([]RegionStateChange, error) {
	if limit <= 0 {
		return nil, nil
	}
	w := changeWalk{newer: map[string]RegionStateChange{}, limit: limit}
	var cursor *resultKey
	for page := statePageMin; ; page = min(2*page, statePageMax) {
		n, last, err := s.stateChangesPage(ctx, orgID, checkID, since.UTC(), cursor, page, w.add)
		if err != nil {
			return nil, fmt.Errorf("store: state changes of check %d: %w", checkID, err)
		}
		if n < page || w.done() {
			break
		}
		cursor = &last
	}
	return w.result(), nil
}

// The pages of results RegionStateChanges reads: small first (a check that
// changes often has its newest changes among its newest results), larger
// while the walk goes on.
const (
	statePageMin = 256
	statePageMax = 4096
)

// resultKey orders results as the walk reads them: by time, then id.
type resultKey struct {
	at time.Time
	id string
}

// stateChangesPage reads up to page results of the check checked from
// since and before cursor (all when nil), newest first, and hands each to
// visit. It returns how many it read and the key of the last.
func (s *Store) stateChangesPage(ctx context.Context, orgID, checkID int64, since time.Time, cursor *resultKey, page int,
	visit func(region, state string, at time.Time)) (int, resultKey, error) {
	query := `SELECT id, region, state, checked_at FROM check_results WHERE check_id = ? AND checked_at >= ? AND org_id = ?`
	args := []any{checkID, since, orgID}
	if cursor != nil {
		query += ` AND checked_at <= ? AND (checked_at < ? OR id < ?)`
		args = append(args, cursor.at, cursor.at, cursor.id)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY checked_at DESC, id DESC LIMIT ?`), append(args, page)...)
	if err != nil {
		return 0, resultKey{}, err
	}
	n, last := 0, resultKey{}
	err = scanAll(rows, func() error {
		var region, state string
		if err := rows.Scan(&last.id, &region, &state, &last.at); err != nil {
			return err
		}
		n++
		visit(region, state, last.at.UTC())
		return nil
	})
	return n, last, err
}

// changeWalk finds state changes in results read newest first. A region's
// newest result read so far is a change once an older result of the region
// has another state, or once no older result remains.
type changeWalk struct {
	newer   map[string]RegionStateChange // per region, the oldest result read so far
	changes []RegionStateChange          // found, in the order found
	limit   int
}

func (w *changeWalk) add(region, state string, at time.Time) {
	if n, ok := w.newer[region]; ok && n.To != state {
		n.From = state
		w.changes = append(w.changes, n)
	}
	w.newer[region] = RegionStateChange{Region: region, To: state, At: at}
}

// done reports whether the limit newest changes are known: limit changes
// are found that are newer than every region's pending result, the
// newest a change still to be found can be.
func (w *changeWalk) done() bool {
	if len(w.changes) < w.limit {
		return false
	}
	var pending time.Time
	for _, n := range w.newer {
		if n.At.After(pending) {
			pending = n.At
		}
	}
	newer := 0
	for _, c := range w.changes {
		if c.At.After(pending) {
			newer++
		}
	}
	return newer >= w.limit
}

// result is the newest limit changes, newest first, with each region's
// oldest result read counting as a change from "" (the walk reached the
// start of the window).
func (w *changeWalk) result() []RegionStateChange {
	all := w.changes
	if !w.done() {
		for _, n := range w.newer {
			all = append(all, n)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].At.After(all[j].At) })
	return all[:min(len(all), w.limit)]
}

// CheckIncident is an incident of a check or of its component.
type CheckIncident struct {
	ID         int64
	Name       string
	Status     string
	Impact     string
	StartedAt  time.Time
	ResolvedAt *time.Time
	Automatic  bool
	Draft      bool
}

// CheckIncidents returns, newest first, up to limit incidents opened for
// the check or its component.
func (s *Store) CheckIncidents(ctx context.Context, orgID, checkID, componentID int64, limit int) ([]CheckIncident, error) {
	return collect(ctx, s.db, fmt.Sprintf("incidents of check %d", checkID), func(row rowScanner) (CheckIncident, error) {
		var in CheckIncident
		var res sql.NullTime
		err := row.Scan(&in.ID, &in.Name, &in.Status, &in.Impact, &in.StartedAt, &res, &in.Automatic, &in.Draft)
		in.StartedAt, in.ResolvedAt = in.StartedAt.UTC(), nullTime(res)
		return in, err
	}, s.q(`SELECT id, name, status, impact, started_at, resolved_at, automatic, draft FROM incidents
		WHERE org_id = ? AND (component_id = ? OR check_id = ?) ORDER BY started_at DESC, id DESC LIMIT ?`),
		orgID, componentID, checkID, limit)
}

// CheckStateSince returns when the check's state last changed (nil when
// it never did).
func (s *Store) CheckStateSince(ctx context.Context, orgID, checkID int64) (*time.Time, error) {
	var at sql.NullTime
	err := s.db.QueryRowContext(ctx, s.q(`SELECT state_changed_at FROM checks WHERE org_id = ? AND id = ?`), orgID, checkID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: check %d: %w", checkID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: check %d state since: %w", checkID, err)
	}
	return nullTime(at), nil
}
