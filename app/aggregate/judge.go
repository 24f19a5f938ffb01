package aggregate

import (
	"context"
	"slices"
	"sort"
	"time"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
)

// verdict is the judgement on one touched check.
type verdict struct {
	info store.CheckInfo
	ev   incident.Evaluation
	// state is the check's state as shown (DESIGN §4); Unknown leaves the
	// stored state alone.
	state incident.State
	// alert is the state incidents follow: like state, except that trouble
	// seen by fewer healthy regions than the quorum (one region's word) is
	// shown as degraded but opens no incident.
	alert   incident.State
	reports []store.Latest
	inMaint bool
	at      time.Time // the newest result of the check
	// nodes are the server addresses the batch's results of the check
	// probed, to tell "1 of 3 servers".
	nodes []string
}

// judge evaluates every check the batch touched and writes the
// consequences: check states, component statuses, automatic incidents and
// their outbox events.
func (a *Aggregator) judge(ctx context.Context, tx *store.Tx, stored []pipeline.Result, checks map[int64]store.CheckInfo,
	latest map[int64][]store.Latest, regions map[int64]regionView, now time.Time, out *outcome) error {
	newest := map[int64]time.Time{}
	nodes := map[int64][]string{}
	for _, r := range stored {
		if at := checkedAt(r); at.After(newest[r.CheckID]) {
			newest[r.CheckID] = at
		}
		for _, n := range r.Result.Nodes {
			if n.Address != "" && !slices.Contains(nodes[r.CheckID], n.Address) {
				nodes[r.CheckID] = append(nodes[r.CheckID], n.Address)
			}
		}
	}
	ids := make([]int64, 0, len(newest))
	for id := range newest {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })

	verdicts := make([]verdict, 0, len(ids))
	var stateChanges []store.StateChange
	for _, id := range ids {
		info := checks[id]
		v := evaluate(info, latest[id], regions[info.OrgID], newest[id])
		v.nodes = nodes[id]
		if misconfigured(v) {
			v.state, v.alert = incident.Misconfigured, incident.Up
		}
		inMaint, err := a.inMaintenance(ctx, tx, info, v.at)
		if err != nil {
			return err
		}
		v.inMaint = inMaint
		verdicts = append(verdicts, v)
		if v.state != incident.Unknown && string(v.state) != info.State {
			stateChanges = append(stateChanges, store.StateChange{OrgID: info.OrgID, ID: id, State: string(v.state), At: v.at})
		}
	}
	if err := tx.SetCheckStates(ctx, stateChanges); err != nil {
		return err
	}
	components, err := a.componentStatuses(ctx, tx, verdicts, stateChanges, now, out)
	if err != nil {
		return err
	}
	return a.incidents(ctx, tx, verdicts, components, out)
}

// evaluate judges one check from its regions' latest reports with
// incident.Evaluate. Reports from regions the check no longer probes,
// reports much older than the check's newest (a region that went quiet)
// and reports of regions not yet judged do not count.
func evaluate(info store.CheckInfo, rows []store.Latest, regions regionView, at time.Time) verdict {
	v := verdict{info: info, at: at}
	stale := 3 * info.Interval
	if stale < time.Minute {
		stale = time.Minute
	}
	configured := map[string]bool{}
	for _, r := range info.Regions {
		configured[r] = true
	}
	voters := info.Regions // the regions the default quorum is a majority of
	reports, trouble := make([]incident.Report, 0, len(rows)), make([]incident.Report, 0, len(rows))
	v.reports = make([]store.Latest, 0, len(rows))
	for _, l := range rows {
		if len(configured) > 0 && !configured[l.Region] {
			continue
		}
		if l.CheckedAt.Before(at.Add(-stale)) || regions.unjudged[l.Region] {
			continue
		}
		if len(configured) == 0 {
			voters = append(voters, l.Region)
		}
		v.reports = append(v.reports, l)
		st := incident.State(l.State)
		reports = append(reports, incident.Report{Region: l.Region, State: st, Streak: l.Streak})
		if st == incident.Degraded {
			st = incident.Down // any trouble is a vote when counting trouble
		}
		trouble = append(trouble, incident.Report{Region: l.Region, State: st, Streak: l.Streak})
	}
	healthy := func(region string) bool { return !regions.unhealthy[region] }
	policy := incident.Policy{Quorum: info.Quorum, Confirm: info.ConfirmRounds}
	prev := incident.State(info.State)
	v.ev = incident.Evaluate(prev, reports, voters, healthy, policy)
	v.state, v.alert = v.ev.State, v.ev.State
	if v.ev.State == incident.Degraded && incident.Evaluate(prev, trouble, voters, healthy, policy).State != incident.Down {
		v.alert = incident.Up
	}
	return v
}

// componentStatuses recomputes the status of every component whose check
// changed state or whose maintenance began or ended, writes the changes and
// returns each touched component's status after the batch.
func (a *Aggregator) componentStatuses(ctx context.Context, tx *store.Tx, verdicts []verdict, changes []store.StateChange,
	now time.Time, out *outcome) (map[int64]string, error) {
	changed := map[int64]bool{}
	for _, c := range changes {
		changed[c.ID] = true
	}
	current := map[int64]string{}
	inMaint := map[int64]bool{}
	byComponent := map[int64]verdict{}
	recompute := map[int64][]int64{} // org → components
	checkChanged := map[int64]bool{} // component → one of its checks changed state
	for _, v := range verdicts {
		cid := v.info.ComponentID
		current[cid] = v.info.ComponentStatus
		inMaint[cid] = inMaint[cid] || v.inMaint
		byComponent[cid] = v
		checkChanged[cid] = checkChanged[cid] || changed[v.info.ID]
	}
	for cid, v := range byComponent {
		wasMaint := current[cid] == incident.UnderMaintenance
		if inMaint[cid] != wasMaint || checkChanged[cid] {
			recompute[v.info.OrgID] = append(recompute[v.info.OrgID], cid)
		}
	}
	if len(recompute) == 0 {
		return current, nil
	}
	states, err := tx.ComponentCheckStates(ctx, recompute)
	if err != nil {
		return nil, err
	}
	var updates []store.StateChange
	for org, cids := range recompute {
		for _, cid := range cids {
			status := incident.ComponentStatus(states[cid], inMaint[cid])
			if status != current[cid] {
				updates = append(updates, store.StateChange{OrgID: org, ID: cid, State: status, At: now})
			}
		}
	}
	done, err := tx.SetComponentStatuses(ctx, updates)
	if err != nil {
		return nil, err
	}
	for _, c := range done {
		current[c.ID] = c.State
		out.event(byComponent[c.ID].info.PageSlug).addComponent(c.ID, c.State)
	}
	return current, nil
}
