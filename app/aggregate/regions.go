package aggregate

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// beaconWindow is how far back workers' beacons count: a few beacon
// periods, so a worker that stopped soon stops speaking for its region.
const beaconWindow = time.Minute

// unsettledEvery is how long a judgement with a region not yet judged is
// reused: far less than RefreshEvery, so start-up converges within a
// second of the evidence, yet not every batch, so a region that stays
// unjudged does not cost three queries a batch at full ingest.
const unsettledEvery = time.Second

// rejudgeClaim is how long the other batches wait for the one that set
// out to judge the regions again before one of them does it instead.
const rejudgeClaim = 10 * time.Second

// regionJudgement is the region health last judged across every
// organisation (DESIGN §4).
type regionJudgement struct {
	regions map[string]incident.RegionJudgement
	at      time.Time
	// recorded is each organisation's record of unhealthy regions as
	// first read under this judgement; nil reads it every time.
	recorded *recordedRegions
}

// recordedRegions keeps, for one judgement, the regions each organisation
// had recorded unhealthy, so a batch reads the record of only the
// organisations new to the judgement rather than of every one it touches.
// The record read before orgRegions' own writes stays right for the
// judgement's life: those writes follow from the judgement (an unhealthy
// region is excluded by it anyway; recording a healthy region again is no
// change and no event). Another aggregator's writes are seen at the next
// judgement, within RefreshEvery, like the judgement itself.
type recordedRegions struct {
	mu    sync.Mutex
	byOrg map[int64][]string
}

// unhealthy returns org's recorded unhealthy regions, from the database
// the first time under the judgement. A read in a transaction that later
// rolls back is still right: the batch had not written the record yet.
func (r *recordedRegions) unhealthy(ctx context.Context, tx *store.Tx, org int64) ([]string, error) {
	if r == nil {
		return tx.UnhealthyRegions(ctx, org)
	}
	r.mu.Lock()
	regions, ok := r.byOrg[org]
	r.mu.Unlock()
	if ok {
		return regions, nil
	}
	regions, err := tx.UnhealthyRegions(ctx, org)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.byOrg[org] = regions
	r.mu.Unlock()
	return regions, nil
}

// settled reports whether the judgement may be reused for RefreshEvery:
// one with a region not yet judged is reused for unsettledEvery only.
func (j regionJudgement) settled() bool {
	if j.regions == nil {
		return false
	}
	for _, r := range j.regions {
		if r.Health == incident.Unjudged {
			return false
		}
	}
	return true
}

// regionView is how one organisation's checks treat the regions: the
// reports of unhealthy regions are excluded (and named as such), those
// of regions not yet judged do not count.
type regionView struct {
	unhealthy map[string]bool
	unjudged  map[string]bool
}

// recordBeacons keeps the workers' beacons of the batch.
func recordBeacons(ctx context.Context, tx *store.Tx, beacons []pipeline.Result) error {
	rows := make([]store.Beacon, 0, len(beacons))
	for _, b := range beacons {
		row := store.Beacon{Region: b.Region, Worker: b.Worker, SeenAt: b.Produced, CanaryState: string(b.Result.State)}
		if row.SeenAt.IsZero() {
			row.SeenAt = checkedAt(b)
		}
		for _, p := range b.Result.Problems {
			if p.Severity != probes.SeverityInfo {
				row.CanaryError = p.Message
				break
			}
		}
		rows = append(rows, row)
	}
	return tx.RecordBeacons(ctx, rows)
}

// regionHealth judges the regions across every organisation — reused for
// RefreshEvery once every region is judged — and returns each touched
// organisation's view of them. An organisation's recorded health changes
// (region.unhealthy / region.healthy operator events) only for regions its
// checks use; a region it recorded unhealthy stays excluded until judged
// healthy again.
func (a *Aggregator) regionHealth(ctx context.Context, tx *store.Tx, stored, beacons []pipeline.Result,
	checks map[int64]store.CheckInfo, now time.Time, out *outcome) (map[int64]regionView, error) {
	var ref time.Time // the newest result or beacon ends the window
	used := map[int64]map[string]bool{}
	known := map[string]bool{} // regions the batch's checks are configured for
	for _, r := range stored {
		for _, region := range checks[r.CheckID].Regions {
			known[region] = true
		}
		ref = later(ref, checkedAt(r))
		if used[r.OrgID] == nil {
			used[r.OrgID] = map[string]bool{}
		}
		used[r.OrgID][r.Region] = true
	}
	for _, b := range beacons {
		ref = later(ref, b.Produced)
	}
	if ref.IsZero() {
		ref = now
	}
	a.mu.Lock()
	j := a.regions
	reuse := a.fresh(j.at) && (j.settled() || a.opts.Now().Sub(j.at) < unsettledEvery)
	if !reuse && j.regions != nil && a.opts.RefreshEvery > 0 {
		// One batch at a time judges again; the others use the last
		// judgement meanwhile. Every shard's batch used to find it stale
		// at once, read every recent whole-check row (66 ms of PostgreSQL
		// each at 10,000 checks × 3 regions) and queue behind the first
		// on probe_regions' rows until it committed. A claim whose batch
		// failed lapses after rejudgeClaim.
		if now := a.opts.Now(); now.Sub(a.rejudging) < rejudgeClaim {
			reuse = true
		} else {
			a.rejudging = now
		}
	}
	a.mu.Unlock()
	if j.regions == nil || !reuse {
		var err error
		if j, err = a.judgeAllRegions(ctx, tx, ref, now, slices.Collect(maps.Keys(known))); err != nil {
			return nil, err
		}
		out.regions = &j
	}
	views := make(map[int64]regionView, len(used))
	for org, regions := range used {
		v, err := a.orgRegions(ctx, tx, org, regions, j, now, out)
		if err != nil {
			return nil, err
		}
		views[org] = v
	}
	return views, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// judgeAllRegions judges every region from every organisation's latest
// results and the workers' beacons in the window, and records the verdicts
// for the console and the API.
func (a *Aggregator) judgeAllRegions(ctx context.Context, tx *store.Tx, ref, now time.Time, known []string) (regionJudgement, error) {
	states, err := tx.RecentRegionStates(ctx, ref.Add(-a.opts.RegionWindow))
	if err != nil {
		return regionJudgement{}, err
	}
	beacons, err := tx.RecentBeacons(ctx, ref.Add(-beaconWindow))
	if err != nil {
		return regionJudgement{}, err
	}
	obs := make([]incident.Observation, 0, len(states))
	for _, s := range states {
		obs = append(obs, incident.Observation{Region: s.Region, Target: s.CheckID, Failed: s.State == string(probes.StateDown)})
	}
	bs := make([]incident.Beacon, 0, len(beacons))
	for _, b := range beacons {
		st := probes.State(b.CanaryState)
		bs = append(bs, incident.Beacon{Region: b.Region, CanaryProbed: st != "",
			CanaryOK: st == probes.StateUp || st == probes.StateDegraded})
	}
	judged := incident.JudgeRegions(obs, bs, known, a.opts.RegionPolicy)
	verdicts := make([]store.RegionVerdict, 0, len(judged))
	for region, v := range judged {
		verdicts = append(verdicts, store.RegionVerdict{Region: region, Health: string(v.Health), Reason: v.Reason})
	}
	if err := tx.SetRegionVerdicts(ctx, verdicts, now); err != nil {
		return regionJudgement{}, err
	}
	return regionJudgement{regions: judged, at: now, recorded: &recordedRegions{byOrg: map[int64][]string{}}}, nil
}

// orgRegions records the judgement for one organisation and returns its
// view: regions judged unhealthy, or recorded unhealthy and not judged
// healthy since, are excluded; regions not yet judged do not count.
func (a *Aggregator) orgRegions(ctx context.Context, tx *store.Tx, org int64, used map[string]bool, j regionJudgement,
	now time.Time, out *outcome) (regionView, error) {
	v := regionView{unhealthy: map[string]bool{}, unjudged: map[string]bool{}}
	recorded, err := j.recorded.unhealthy(ctx, tx, org)
	if err != nil {
		return regionView{}, err
	}
	for region, jd := range j.regions {
		switch jd.Health {
		case incident.Unjudged:
			v.unjudged[region] = true
		case incident.Unhealthy:
			v.unhealthy[region] = true
			if !used[region] {
				continue
			}
			if err := a.recordRegion(ctx, tx, org, region, false, jd.Reason, now, out); err != nil {
				return regionView{}, err
			}
		}
	}
	for _, region := range recorded {
		if j.regions[region].Health == incident.Healthy {
			if err := a.recordRegion(ctx, tx, org, region, true, j.regions[region].Reason, now, out); err != nil {
				return regionView{}, err
			}
			continue
		}
		v.unhealthy[region] = true // no verdict since: keep excluding it
		delete(v.unjudged, region)
	}
	return v, nil
}

// recordRegion records a region's health for the organisation and, when
// that changed the record, queues the operator event.
func (a *Aggregator) recordRegion(ctx context.Context, tx *store.Tx, org int64, region string, healthy bool, reason string,
	now time.Time, out *outcome) error {
	changed, err := tx.SetRegionHealth(ctx, org, region, healthy, now)
	if err != nil || !changed {
		return err
	}
	if healthy {
		a.log.Info("region healthy again", slog.Int64("org_id", org), slog.String("region", region), slog.String("reason", reason))
	} else {
		a.log.Warn("region unhealthy", slog.Int64("org_id", org), slog.String("region", region), slog.String("reason", reason))
	}
	out.outbox = append(out.outbox, regionEvent(org, region, healthy, reason, now))
	return nil
}

func regionEvent(org int64, region string, healthy bool, reason string, at time.Time) store.OutboxEvent {
	kind := "region.unhealthy"
	if healthy {
		kind = "region.healthy"
	}
	return store.OutboxEvent{
		OrgID:          org,
		Kind:           kind,
		IdempotencyKey: fmt.Sprintf("%s:%d:%s:%d", kind, org, region, at.UnixNano()),
		At:             at,
		Payload:        map[string]any{"region": region, "healthy": healthy, "reason": reason, "at": at.UTC()},
	}
}
