package store

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Beacon is one probe worker's word about itself: alive in Region at
// SeenAt and, when a canary is configured, the canary's probe state
// (CanaryState "" when none is) and its first problem.
type Beacon struct {
	Region      string
	Worker      string
	SeenAt      time.Time
	CanaryState string
	CanaryError string
}

// workerForget is how long a worker that sent no beacon is remembered.
const workerForget = 7 * 24 * time.Hour

// RecordBeacons keeps each worker's newest beacon (an older one arriving
// late changes nothing) and forgets workers silent for a week.
func (tx *Tx) RecordBeacons(ctx context.Context, beacons []Beacon) error {
	if len(beacons) == 0 {
		return nil
	}
	type key struct{ region, worker string }
	newest := map[key]Beacon{}
	for _, b := range beacons {
		k := key{b.Region, b.Worker}
		if have, ok := newest[k]; !ok || b.SeenAt.After(have.SeenAt) {
			newest[k] = b
		}
	}
	args := make([]any, 0, 5*len(newest))
	var oldest time.Time
	for _, b := range newest {
		args = append(args, b.Region, b.Worker, b.SeenAt.UTC(), b.CanaryState, b.CanaryError)
		if oldest.IsZero() || b.SeenAt.Before(oldest) {
			oldest = b.SeenAt
		}
	}
	query := tx.s.bulk(`INSERT INTO probe_workers (region, worker, seen_at, canary_state, canary_error) VALUES `, 5, len(newest),
		` ON CONFLICT (region, worker) DO UPDATE SET seen_at = excluded.seen_at, canary_state = excluded.canary_state,
		canary_error = excluded.canary_error WHERE probe_workers.seen_at < excluded.seen_at`)
	if _, err := tx.tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("store: record beacons: %w", err)
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM probe_workers WHERE seen_at < ?`), oldest.Add(-workerForget).UTC()); err != nil {
		return fmt.Errorf("store: forget silent workers: %w", err)
	}
	return nil
}

// RecentBeacons returns the beacons of workers seen since since.
func (tx *Tx) RecentBeacons(ctx context.Context, since time.Time) ([]Beacon, error) {
	return collect(ctx, tx.tx, "beacons", scanBeacon, tx.s.q(`SELECT region, worker, seen_at, canary_state, canary_error
		FROM probe_workers WHERE seen_at >= ? ORDER BY region, worker`), since.UTC())
}

func scanBeacon(row rowScanner) (Beacon, error) {
	var b Beacon
	err := row.Scan(&b.Region, &b.Worker, &b.SeenAt, &b.CanaryState, &b.CanaryError)
	b.SeenAt = b.SeenAt.UTC()
	return b, err
}

// RegionVerdict is the aggregators' verdict on a probe region: Health is
// healthy, unhealthy or unjudged (incident.Health), Reason says why.
type RegionVerdict struct {
	Region    string
	Health    string
	Reason    string
	ChangedAt time.Time // when Health last changed
	JudgedAt  time.Time
}

// SetRegionVerdicts records the verdicts judged at at; a region's
// ChangedAt moves only when its health changes.
func (tx *Tx) SetRegionVerdicts(ctx context.Context, verdicts []RegionVerdict, at time.Time) error {
	if len(verdicts) == 0 {
		return nil
	}
	args := make([]any, 0, 5*len(verdicts))
	for _, v := range verdicts {
		args = append(args, v.Region, v.Health, v.Reason, at.UTC(), at.UTC())
	}
	query := tx.s.bulk(`INSERT INTO probe_regions (region, health, reason, changed_at, judged_at) VALUES `, 5, len(verdicts),
		` ON CONFLICT (region) DO UPDATE SET reason = excluded.reason, judged_at = excluded.judged_at,
		changed_at = CASE WHEN probe_regions.health = excluded.health THEN probe_regions.changed_at ELSE excluded.changed_at END,
		health = excluded.health`)
	if _, err := tx.tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("store: record region verdicts: %w", err)
	}
	return nil
}

// ProbeRegion is what operators see of one probe region: the verdict,
// the workers seen since the given time, and what its canary said.
type ProbeRegion struct {
	RegionVerdict
	Workers []Beacon // seen since, newest beacon each
}

// Canary is the region's newest canary state among its workers ("" when
// no worker probes one) and that worker's error.
func (p ProbeRegion) Canary() (state, errText string, at time.Time) {
	for _, w := range p.Workers {
		if w.CanaryState != "" && w.SeenAt.After(at) {
			state, errText, at = w.CanaryState, w.CanaryError, w.SeenAt
		}
	}
	return state, errText, at
}

// ProbeRegions returns every region with a verdict or a worker seen since
// since, by name. A region with workers but no verdict yet is unjudged.
func (s *Store) ProbeRegions(ctx context.Context, since time.Time) ([]ProbeRegion, error) {
	verdicts, err := collect(ctx, s.db, "region verdicts", func(row rowScanner) (RegionVerdict, error) {
		var v RegionVerdict
		err := row.Scan(&v.Region, &v.Health, &v.Reason, &v.ChangedAt, &v.JudgedAt)
		v.ChangedAt, v.JudgedAt = v.ChangedAt.UTC(), v.JudgedAt.UTC()
		return v, err
	}, `SELECT region, health, reason, changed_at, judged_at FROM probe_regions`)
	if err != nil {
		return nil, err
	}
	workers, err := collect(ctx, s.db, "probe workers", scanBeacon, s.q(`SELECT region, worker, seen_at, canary_state, canary_error
		FROM probe_workers WHERE seen_at >= ? ORDER BY region, worker`), since.UTC())
	if err != nil {
		return nil, err
	}
	byRegion := map[string]*ProbeRegion{}
	get := func(region string) *ProbeRegion {
		p, ok := byRegion[region]
		if !ok {
			p = &ProbeRegion{RegionVerdict: RegionVerdict{Region: region, Health: "unjudged"}}
			byRegion[region] = p
		}
		return p
	}
	for _, v := range verdicts {
		get(v.Region).RegionVerdict = v
	}
	for _, w := range workers {
		p := get(w.Region)
		p.Workers = append(p.Workers, w)
	}
	out := make([]ProbeRegion, 0, len(byRegion))
	for _, p := range byRegion {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out, nil
}

// RegionStatus is one probe region as an organisation's operators see it:
// the verdict across every organisation with its workers and canary, and
// the organisation's own record and traffic from the region.
type RegionStatus struct {
	ProbeRegion
	Org RegionActivity
}

// RegionStatuses returns every region that has a verdict, a worker seen
// since since, or results or a health record of the organisation, by name.
func (s *Store) RegionStatuses(ctx context.Context, orgID int64, since time.Time) ([]RegionStatus, error) {
	probe, err := s.ProbeRegions(ctx, since)
	if err != nil {
		return nil, err
	}
	activity, err := s.RegionActivities(ctx, orgID, since)
	if err != nil {
		return nil, err
	}
	byRegion := map[string]*RegionStatus{}
	for _, p := range probe {
		byRegion[p.Region] = &RegionStatus{ProbeRegion: p, Org: RegionActivity{Region: p.Region, Healthy: true}}
	}
	for _, a := range activity {
		st, ok := byRegion[a.Region]
		if !ok {
			st = &RegionStatus{ProbeRegion: ProbeRegion{RegionVerdict: RegionVerdict{Region: a.Region, Health: "unjudged"}}}
			byRegion[a.Region] = st
		}
		st.Org = a
	}
	out := make([]RegionStatus, 0, len(byRegion))
	for _, st := range byRegion {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out, nil
}

// OrgHealth is the region's health for the organisation: the verdict across
// organisations, except that a region the organisation was told is
// unhealthy stays so until judged healthy (as the aggregator treats it).
func (r RegionStatus) OrgHealth() string {
	if !r.Org.Healthy && r.RegionVerdict.Health != "healthy" {
		return "unhealthy"
	}
	return r.RegionVerdict.Health
}

// MissedRounds are check rounds that never reported, of one organisation
// and region in one hour.
type MissedRounds struct {
	OrgID  int64
	Region string
	Hour   time.Time
	Missed int
}

// AddMissedRounds adds to each organisation's, region's and hour's count,
// and forgets counts older than 30 days.
func (tx *Tx) AddMissedRounds(ctx context.Context, rows []MissedRounds) error {
	if len(rows) == 0 {
		return nil
	}
	for _, r := range rows {
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO missed_rounds (org_id, region, hour, missed) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id, region, hour) DO UPDATE SET missed = missed_rounds.missed + excluded.missed`),
			r.OrgID, r.Region, r.Hour.UTC().Truncate(time.Hour), r.Missed); err != nil {
			return fmt.Errorf("store: add missed rounds: %w", err)
		}
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM missed_rounds WHERE hour < ?`),
		rows[0].Hour.UTC().Add(-30*24*time.Hour)); err != nil {
		return fmt.Errorf("store: forget missed rounds: %w", err)
	}
	return nil
}

// MissedRoundsSince returns the organisation's missed rounds per region
// counted in the hours from since on.
func (s *Store) MissedRoundsSince(ctx context.Context, orgID int64, since time.Time) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT region, SUM(missed) FROM missed_rounds WHERE org_id = ? AND hour >= ? GROUP BY region`),
		orgID, since.UTC().Truncate(time.Hour))
	if err != nil {
		return nil, fmt.Errorf("store: missed rounds: %w", err)
	}
	out := map[string]int{}
	err = scanAll(rows, func() error {
		var region string
		var n int
		if err := rows.Scan(&region, &n); err != nil {
			return err
		}
		out[region] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: missed rounds: %w", err)
	}
	return out, nil
}
