package aggregate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// Automatic incidents are per component (issue 8): the checks of a
// component in trouble join one incident, worded by incident.Describe from
// what every one of them reports. The incident's auto_state remembers each
// troubled check's last report, so a batch that judges only some of the
// component's checks (they live on other shards) still words and decides
// for the whole component.

// componentCase is one component whose automatic incident a batch must
// consider.
type componentCase struct {
	orgID, pageID, componentID int64
	name, slug                 string
	oldStatus, status          string // before and after the batch
	inMaint                    bool
	verdicts                   []verdict
	at                         time.Time
	// locked: the component's open incident, or its absence, was read
	// under lock (LockAutomaticIncident), not only looked at.
	locked bool
}

// incidents gathers the batch's verdicts by component and carries out, for
// each component in trouble or with an open automatic incident, what
// incident.Decide says: open, update, resolve or repeat, with the update's
// public text and technical detail and an outbox event, all in the batch's
// transaction. A steady, healthy batch reads nothing here.
func (a *Aggregator) incidents(ctx context.Context, tx *store.Tx, verdicts []verdict, components map[int64]string, out *outcome) error {
	cases := map[int64]*componentCase{}
	var order []int64
	need := map[int64]bool{}
	for _, v := range verdicts {
		cid := v.info.ComponentID
		c := cases[cid]
		if c == nil {
			c = &componentCase{orgID: v.info.OrgID, pageID: v.info.PageID, componentID: cid, name: v.info.ComponentName,
				slug: v.info.PageSlug, oldStatus: v.info.ComponentStatus, status: components[cid]}
			cases[cid] = c
			order = append(order, cid)
		}
		c.verdicts = append(c.verdicts, v)
		c.inMaint = c.inMaint || v.inMaint
		if v.at.After(c.at) {
			c.at = v.at
		}
		if v.info.IncidentOpen || broken(v.alert) {
			need[cid] = true
		}
	}
	comps, pages := map[int64][]int64{}, map[int64][]int64{}
	for _, cid := range order {
		if c := cases[cid]; need[cid] {
			comps[c.orgID] = append(comps[c.orgID], cid)
			pages[c.orgID] = append(pages[c.orgID], c.pageID)
		}
	}
	if len(comps) == 0 {
		return nil
	}
	open, err := tx.OpenAutomaticIncidents(ctx, comps)
	if err != nil {
		return err
	}
	settings, err := tx.PageIncidentSettings(ctx, pages)
	if err != nil {
		return err
	}
	if a.afterIncidentsRead != nil {
		a.afterIncidentsRead()
	}
	states := make(map[int64]autoState, len(open)) // component → its open incident's state, decoded once
	for cid, in := range open {
		states[cid] = a.autoStateOf(in.ID, in.AutoState)
	}
	enabled, err := tx.EnabledChecks(ctx, troubledChecks(cases, comps, states))
	if err != nil {
		return err
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	for _, cid := range order {
		if !need[cid] {
			continue
		}
		c := cases[cid]
		in, isOpen := open[cid]
		var current *store.OpenIncident
		if isOpen {
			current = &in
		}
		if err := a.component(ctx, tx, c, current, states[cid], settings[c.pageID], enabled, out); err != nil {
			return err
		}
	}
	return nil
}

// troubledChecks are the checks whose enabled state the components
// (organisation id → component ids) need: those in trouble in this batch
// and those their open incidents remember (states: component → its open
// incident's state).
func troubledChecks(cases map[int64]*componentCase, comps map[int64][]int64, states map[int64]autoState) map[int64][]int64 {
	out := map[int64][]int64{}
	for org, cids := range comps {
		for _, cid := range cids {
			for _, c := range states[cid].Checks {
				out[org] = append(out[org], c.ID)
			}
			for _, v := range cases[cid].verdicts {
				if broken(v.alert) {
					out[org] = append(out[org], v.info.ID)
				}
			}
		}
	}
	return out
}

// component decides and acts for one component. in is its open automatic
// incident, nil when none is open, and before that incident's state.
func (a *Aggregator) component(ctx context.Context, tx *store.Tx, c *componentCase, in *store.OpenIncident,
	before autoState, settings store.IncidentSettings, enabled map[int64]bool, out *outcome) error {
	after := before.apply(c.verdicts, enabled)
	trouble := incident.Trouble{Component: c.name, State: after.worst(), Checks: after.Checks, Excluded: excluded(c.verdicts),
		Partial: c.status == incident.PartialOutage}
	after.Kinds = nil
	if broken(trouble.State) {
		after.Kinds = incident.KindsOf(after.Checks)
	}
	impact := incident.StatusImpact(c.status)
	if impact == "none" {
		impact = incident.Impact(trouble.State)
	}
	s := incident.Situation{Prev: before.worst(), Now: trouble.State, InMaintenance: c.inMaint, IncidentOpen: in != nil, At: c.at}
	if in != nil {
		if len(before.Checks) == 0 { // an incident of the per-check era
			s.Prev = incident.ImpactState(in.Impact)
		}
		s.Changed = !incident.SameKinds(before.Kinds, after.Kinds) || impact != in.Impact || !sameChecks(before, after)
		s.Acknowledged = in.AcknowledgedAt != nil
		if in.LastAlertAt != nil {
			s.LastAlert = *in.LastAlertAt
		}
		if broken(s.Now) && !s.Acknowledged {
			var err error
			if s.RepeatEvery, err = a.repeatEvery(ctx, tx, c.orgID); err != nil {
				return err
			}
		}
	}
	action := incident.Decide(s)
	if action == incident.Open && settings.AutoIncidents == store.AutoOff {
		return nil
	}
	state, err := after.encode()
	if err != nil {
		return err
	}
	if action == incident.None && (in == nil || state == in.AutoState) {
		return nil
	}
	if in != nil {
		if handled, err := a.lockCurrent(ctx, tx, c, in, settings, enabled, out); handled || err != nil {
			return err
		}
	}
	if action == incident.None {
		return tx.SetIncidentAutoState(ctx, c.orgID, in.ID, state)
	}
	// Worded only now: most batches of a component in trouble change
	// nothing, and wording is the dearest part of deciding that.
	text := incident.Describe(trouble, settings.PublicDetail == store.DetailTechnical)
	ch := store.IncidentChange{
		OrgID: c.orgID, PageID: c.pageID, ComponentID: c.componentID, Impact: impact, AutoState: state,
		OldComponentStatus: c.oldStatus, NewComponentStatus: c.status, At: c.at, Technical: text.Technical,
	}
	if in != nil {
		ch.IncidentID, ch.Status, ch.Draft, ch.CheckID = in.ID, in.Status, in.Draft, in.CheckID
	}
	kind := "incident.updated"
	switch action {
	case incident.Open:
		kind = "incident.opened"
		ch.Name, ch.Status, ch.Body, ch.Alert = text.Title, store.IncidentInvestigating, text.Body, true
		ch.Draft, ch.CheckID = settings.AutoIncidents == store.AutoDraft, firstTroubled(c.verdicts)
	case incident.Worsen, incident.Improve, incident.Change:
		// The title follows the trouble too: "API partly unavailable" must
		// not stay once the whole component is down.
		ch.Name, ch.Body, ch.Alert = text.Title, incident.Update(action, text), action == incident.Worsen
	case incident.Resolve:
		kind = "incident.resolved"
		ch.Status, ch.Impact, ch.Body = store.IncidentResolved, in.Impact, incident.Recovered(c.name)
		ch.Technical = recoveredDetail(c.verdicts)
	case incident.Repeat:
		kind = "incident.repeated"
		ch.Alert, ch.Technical = true, ""
	}
	incidentID, updateID, err := tx.ApplyIncidentChange(ctx, ch)
	if errors.Is(err, store.ErrConflict) && in == nil {
		// Another aggregator opened the component's incident since this
		// batch looked: join it.
		joined, ok, err := tx.LockAutomaticIncident(ctx, c.orgID, c.componentID)
		if err != nil {
			return err
		}
		c.locked = true
		if ok {
			return a.rejudge(ctx, tx, c, joined, settings, enabled, out)
		}
		return fmt.Errorf("aggregate: incident of component %d: opened elsewhere but not found", c.componentID)
	}
	if err != nil {
		return err
	}
	out.actions[action]++
	out.outbox = append(out.outbox, outboxEvent(kind, action, c, ch, text, after, incidentID, updateID))
	if !ch.Draft {
		out.event(c.slug).addIncident(incidentID, ch.Status, ch.Impact)
	}
	return nil
}

// lockCurrent locks the component's open incident in, read without a lock,
// before the batch writes to it. If another aggregator changed or resolved
// it meanwhile (checks of one component travel on several shards), the
// component is judged again on what is there now, and handled is true: a
// decision taken on the incident as it was would undo the other's write.
// Batches that write nothing (most of those of a component in trouble)
// so never wait for each other.
func (a *Aggregator) lockCurrent(ctx context.Context, tx *store.Tx, c *componentCase, in *store.OpenIncident,
	settings store.IncidentSettings, enabled map[int64]bool, out *outcome) (handled bool, err error) {
	if c.locked {
		return false, nil
	}
	c.locked = true
	now, ok, err := tx.LockAutomaticIncident(ctx, c.orgID, c.componentID)
	switch {
	case err != nil:
		return true, err
	case !ok:
		return true, a.component(ctx, tx, c, nil, autoState{}, settings, enabled, out)
	case !now.Same(*in):
		return true, a.rejudge(ctx, tx, c, now, settings, enabled, out)
	}
	return false, nil
}

// rejudge judges the component again against its incident in as read
// under lock. The incident may remember checks (of other shards) whose
// enabled state the batch did not ask for.
func (a *Aggregator) rejudge(ctx context.Context, tx *store.Tx, c *componentCase, in store.OpenIncident,
	settings store.IncidentSettings, enabled map[int64]bool, out *outcome) error {
	state := a.autoStateOf(in.ID, in.AutoState)
	more, err := tx.EnabledChecks(ctx, troubledChecks(map[int64]*componentCase{c.componentID: c},
		map[int64][]int64{c.orgID: {c.componentID}}, map[int64]autoState{c.componentID: state}))
	if err != nil {
		return err
	}
	maps.Copy(more, enabled)
	return a.component(ctx, tx, c, &in, state, settings, more, out)
}

// outboxEvent is an incident transition for the notifier. The public part
// (name, body, statuses) is what subscribers may read; everything a probe
// said (checks, URLs, codes, nodes, regions, raw messages) stays under
// "technical", for operators only. A draft's event is marked so: nothing of
// it is public yet.
func outboxEvent(kind string, action incident.Action, c *componentCase, ch store.IncidentChange, text incident.Text,
	st autoState, incidentID, updateID int64) store.OutboxEvent {
	key := fmt.Sprintf("%s:%d", kind, incidentID)
	switch action {
	case incident.Worsen, incident.Improve, incident.Change:
		key = fmt.Sprintf("%s:%d:%d", kind, incidentID, updateID)
	case incident.Repeat:
		key = fmt.Sprintf("%s:%d:%d", kind, incidentID, c.at.UnixNano())
	}
	var checkIDs []int64
	var checkNames, regions []string
	for _, t := range st.Checks {
		checkIDs = append(checkIDs, t.ID)
		checkNames = append(checkNames, t.Name)
		regions = append(regions, t.Regions...)
	}
	checkID := ch.CheckID // the check that opened the incident
	if checkID == 0 && len(c.verdicts) > 0 {
		checkID = c.verdicts[0].info.ID
	}
	return store.OutboxEvent{
		OrgID: c.orgID, Kind: kind, IdempotencyKey: key, At: c.at,
		Payload: map[string]any{
			"incident_id": incidentID, "update_id": updateID, "page_id": c.pageID, "page_slug": c.slug,
			"component_id": c.componentID, "component_name": c.name, "component_status": c.status,
			"name": text.Title, "status": ch.Status, "impact": ch.Impact, "body": ch.Body, "draft": ch.Draft,
			"alert": ch.Alert, "action": action, "at": c.at, "check_id": checkID,
			"technical": map[string]any{
				"detail": ch.Technical, "check_ids": checkIDs, "check_names": checkNames, "regions": uniqueSorted(regions),
				"excluded_regions": excluded(c.verdicts), "kinds": st.Kinds,
			},
		},
	}
}

func broken(s incident.State) bool { return s == incident.Down || s == incident.Degraded }

// firstTroubled is the check whose verdict opens a component's incident.
func firstTroubled(vs []verdict) int64 {
	for _, v := range vs {
		if broken(v.alert) {
			return v.info.ID
		}
	}
	return 0
}

// excluded are the unhealthy probe regions the batch's verdicts ignored.
func excluded(vs []verdict) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ev.Excluded...)
	}
	return uniqueSorted(out)
}

func uniqueSorted(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// repeatEntry caches an organisation's alert repeat interval.
type repeatEntry struct {
	every time.Duration
	at    time.Time
}

func (a *Aggregator) repeatEvery(ctx context.Context, tx *store.Tx, org int64) (time.Duration, error) {
	a.mu.Lock()
	e, ok := a.repeat[org]
	a.mu.Unlock()
	if ok && a.fresh(e.at) {
		return e.every, nil
	}
	every, err := tx.AlertRepeatEvery(ctx, org)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	a.repeat[org] = repeatEntry{every: every, at: a.opts.Now()}
	a.mu.Unlock()
	return every, nil
}
