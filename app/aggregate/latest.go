package aggregate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

type latestKey struct {
	check  int64
	region string
	node   string
}

// updateLatest applies the stored results, in order, to the latest state
// per check × region × node, counting streaks with incident.NextStreak. An
// older result arriving after a newer one is stored but does not move the
// latest state back. It returns every region's whole-check row (node "")
// of the touched checks, by check.
func (a *Aggregator) updateLatest(ctx context.Context, tx *store.Tx, stored []pipeline.Result) (map[int64][]store.Latest, error) {
	prev, err := tx.LatestForChecks(ctx, orgChecks(stored))
	if err != nil {
		return nil, err
	}
	cur := make(map[latestKey]store.Latest, len(prev)+len(stored))
	for _, l := range prev {
		cur[latestKey{l.CheckID, l.Region, l.Node}] = l
	}
	dirty := map[latestKey]bool{}
	set := func(r pipeline.Result, node string, state probes.State, problems []probes.Problem) error {
		k := latestKey{r.CheckID, r.Region, node}
		at := checkedAt(r)
		old, ok := cur[k]
		if ok && at.Before(old.CheckedAt) {
			return nil
		}
		streak := 1
		if ok {
			streak = incident.NextStreak(incident.State(old.State), old.Streak, incident.State(state))
		}
		if problems == nil {
			problems = []probes.Problem{}
		}
		pj, err := json.Marshal(problems)
		if err != nil {
			return fmt.Errorf("aggregate: encode problems of result %s: %w", r.ID, err)
		}
		if state == "" {
			state = probes.StateUnknown
		}
		cur[k] = store.Latest{OrgID: r.OrgID, CheckID: r.CheckID, Region: r.Region, Node: node,
			State: string(state), ResultID: r.ID, Streak: streak, CheckedAt: at, Problems: pj}
		dirty[k] = true
		return nil
	}
	for _, r := range stored {
		if err := set(r, "", r.Result.State, r.Result.Problems); err != nil {
			return nil, err
		}
		for _, n := range r.Result.Nodes {
			if n.Address == "" {
				continue
			}
			if err := set(r, n.Address, n.State, n.Problems); err != nil {
				return nil, err
			}
		}
	}
	rows := make([]store.Latest, 0, len(dirty))
	for k := range dirty {
		rows = append(rows, cur[k])
	}
	if err := tx.UpsertLatest(ctx, rows); err != nil {
		return nil, err
	}
	byCheck := map[int64][]store.Latest{}
	for k, l := range cur {
		if k.node == "" {
			byCheck[k.check] = append(byCheck[k.check], l)
		}
	}
	for _, ls := range byCheck {
		sort.Slice(ls, func(i, j int) bool { return ls[i].Region < ls[j].Region })
	}
	return byCheck, nil
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
