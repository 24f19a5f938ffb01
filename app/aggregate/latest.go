package aggregate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// updateLatest applies the stored results, in order, to the latest state
// per check × region × node (tx.AdvanceLatest counts the streaks with
// incident.NextStreak's rule). An older result arriving after a newer one
// is stored but does not move the latest state back. It returns every
// region's whole-check row (node "") of the touched checks, by check, and
// keeps the rows it wrote in out for the cache.
func (a *Aggregator) updateLatest(ctx context.Context, tx *store.Tx, stored []pipeline.Result, out *outcome) (map[int64][]store.Latest, error) {
	writes := make([]store.LatestWrite, 0, 2*len(stored))
	add := func(r pipeline.Result, node string, state probes.State, problems []probes.Problem) error {
		pj, err := problemsJSON(problems)
		if err != nil {
			return fmt.Errorf("aggregate: encode problems of result %s: %w", r.ID, err)
		}
		if state == "" {
			state = probes.StateUnknown
		}
		writes = append(writes, store.LatestWrite{OrgID: r.OrgID, CheckID: r.CheckID, Region: r.Region, Node: node,
			State: string(state), ResultID: r.ID, CheckedAt: checkedAt(r), Problems: pj})
		return nil
	}
	for _, r := range stored { // ordered by check, region and time (prepare)
		if err := add(r, "", r.Result.State, r.Result.Problems); err != nil {
			return nil, err
		}
		for _, n := range r.Result.Nodes {
			if n.Address == "" {
				continue
			}
			if err := add(r, n.Address, n.State, n.Problems); err != nil {
				return nil, err
			}
		}
	}
	after, err := tx.AdvanceLatest(ctx, writes)
	if err != nil {
		return nil, err
	}
	out.latest = after.Written
	return after.Whole, nil
}

// problemsJSON encodes problems as a JSON array; none is "[]".
func problemsJSON(problems []probes.Problem) ([]byte, error) {
	if len(problems) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(problems)
}

// healthEntry is one organisation's region health as last judged.
type healthEntry struct {
	unhealthy map[string]bool
	seen      map[string]bool // regions with observations in the window
	at        time.Time
}

// regionHealth returns each touched organisation's unhealthy regions
// (DESIGN §4): judged with incident.RegionHealth over the latest
// whole-check states of the window, recorded in the database so a
// transition is reported once (region.unhealthy / region.healthy operator
// events), and reused for RefreshEvery.
func (a *Aggregator) regionHealth(ctx context.Context, tx *store.Tx, stored []pipeline.Result, now time.Time, out *outcome) (map[int64]map[string]bool, error) {
	refs := map[int64]time.Time{} // the newest result per organisation ends its window
	for _, r := range stored {
		if at := checkedAt(r); at.After(refs[r.OrgID]) {
			refs[r.OrgID] = at
		}
	}
	result := make(map[int64]map[string]bool, len(refs))
	for org, ref := range refs {
		a.mu.Lock()
		cached, ok := a.health[org]
		a.mu.Unlock()
		if ok && a.fresh(cached.at) {
			result[org] = cached.unhealthy
			continue
		}
		h, err := a.judgeRegions(ctx, tx, org, ref, now, out)
		if err != nil {
			return nil, err
		}
		out.health[org] = h
		result[org] = h.unhealthy
	}
	return result, nil
}

func (a *Aggregator) judgeRegions(ctx context.Context, tx *store.Tx, org int64, ref, now time.Time, out *outcome) (healthEntry, error) {
	states, err := tx.RecentRegionStates(ctx, org, ref.Add(-a.opts.RegionWindow))
	if err != nil {
		return healthEntry{}, err
	}
	h := healthEntry{unhealthy: map[string]bool{}, seen: map[string]bool{}, at: now}
	obs := make([]incident.Observation, 0, len(states))
	for _, s := range states {
		h.seen[s.Region] = true
		obs = append(obs, incident.Observation{Region: s.Region, Target: s.CheckID, Failed: s.State == string(probes.StateDown)})
	}
	recorded, err := tx.UnhealthyRegions(ctx, org)
	if err != nil {
		return healthEntry{}, err
	}
	for _, region := range incident.RegionHealth(obs, a.opts.RegionPolicy) {
		h.unhealthy[region] = true
		changed, err := tx.SetRegionHealth(ctx, org, region, false, now)
		if err != nil {
			return healthEntry{}, err
		}
		if changed {
			a.log.Warn("region unhealthy", slog.Int64("org_id", org), slog.String("region", region))
			out.outbox = append(out.outbox, regionEvent(org, region, false, now))
		}
	}
	for _, region := range recorded {
		if h.unhealthy[region] {
			continue
		}
		if !h.seen[region] { // no word from it: keep excluding it
			h.unhealthy[region] = true
			continue
		}
		changed, err := tx.SetRegionHealth(ctx, org, region, true, now)
		if err != nil {
			return healthEntry{}, err
		}
		if changed {
			a.log.Info("region healthy again", slog.Int64("org_id", org), slog.String("region", region))
			out.outbox = append(out.outbox, regionEvent(org, region, true, now))
		}
	}
	return h, nil
}

func regionEvent(org int64, region string, healthy bool, at time.Time) store.OutboxEvent {
	kind := "region.unhealthy"
	if healthy {
		kind = "region.healthy"
	}
	return store.OutboxEvent{
		OrgID:          org,
		Kind:           kind,
		IdempotencyKey: fmt.Sprintf("%s:%d:%s:%d", kind, org, region, at.UnixNano()),
		At:             at,
		Payload:        map[string]any{"region": region, "healthy": healthy, "at": at.UTC()},
	}
}
