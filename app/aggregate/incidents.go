package aggregate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/probes"
)

// incidents asks incident.Decide what each verdict means for its check's
// automatic incident and carries it out: the incident row, a public update
// naming the check, regions and problems, and an outbox event, all in the
// batch's transaction.
func (a *Aggregator) incidents(ctx context.Context, tx *store.Tx, verdicts []verdict, components map[int64]string, out *outcome) error {
	ids := map[int64][]int64{}
	for _, v := range verdicts {
		if v.info.IncidentOpen { // only automatic incidents are opened here, by the check's shard owner
			ids[v.info.OrgID] = append(ids[v.info.OrgID], v.info.ID)
		}
	}
	open := map[int64]store.OpenIncident{}
	var err error
	if len(ids) > 0 {
		if open, err = tx.OpenAutomaticIncidents(ctx, ids); err != nil {
			return err
		}
	}
	for _, v := range verdicts {
		in, isOpen := open[v.info.ID]
		s := incident.Situation{
			Prev: incident.State(v.info.State), Now: v.alert, InMaintenance: v.inMaint,
			IncidentOpen: isOpen, At: v.at,
		}
		if isOpen {
			s.Prev = incident.ImpactState(in.Impact)
			s.Acknowledged = in.AcknowledgedAt != nil
			if in.LastAlertAt != nil {
				s.LastAlert = *in.LastAlertAt
			}
			if broken(v.alert) && !s.Acknowledged {
				if s.RepeatEvery, err = a.repeatEvery(ctx, tx, v.info.OrgID); err != nil {
					return err
				}
			}
		}
		action := incident.Decide(s)
		if action == incident.None {
			continue
		}
		if err := a.act(ctx, tx, action, v, in, components[v.info.ComponentID], out); err != nil {
			return err
		}
		out.actions[action]++
	}
	return nil
}

// act carries out one incident action.
func (a *Aggregator) act(ctx context.Context, tx *store.Tx, action incident.Action, v verdict, in store.OpenIncident,
	componentStatus string, out *outcome) error {
	c := store.IncidentChange{
		OrgID: v.info.OrgID, PageID: v.info.PageID, CheckID: v.info.ID, ComponentID: v.info.ComponentID,
		IncidentID: in.ID, Status: in.Status, Impact: incident.Impact(v.alert),
		OldComponentStatus: v.info.ComponentStatus, NewComponentStatus: componentStatus, At: v.at,
	}
	kind := "incident.updated"
	switch action {
	case incident.Open:
		kind = "incident.opened"
		c.Name = fmt.Sprintf("%s is %s", v.info.Name, v.alert)
		c.Status, c.Body, c.Alert = store.IncidentInvestigating, describe(v), true
	case incident.Worsen, incident.Improve:
		c.Body, c.Alert = describe(v), action == incident.Worsen
	case incident.Resolve:
		kind = "incident.resolved"
		c.Status, c.Impact, c.Body = store.IncidentResolved, in.Impact, describeRecovery(v)
	case incident.Repeat:
		kind = "incident.repeated"
		c.Impact, c.Alert = in.Impact, true
	}
	incidentID, updateID, err := tx.ApplyIncidentChange(ctx, c)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%s:%d", kind, incidentID)
	switch action {
	case incident.Worsen, incident.Improve:
		key = fmt.Sprintf("%s:%d:%d", kind, incidentID, updateID)
	case incident.Repeat:
		key = fmt.Sprintf("%s:%d:%d", kind, incidentID, v.at.UnixNano())
	}
	out.outbox = append(out.outbox, store.OutboxEvent{
		OrgID: v.info.OrgID, Kind: kind, IdempotencyKey: key, At: v.at,
		Payload: map[string]any{
			"incident_id": incidentID, "update_id": updateID, "page_id": v.info.PageID, "page_slug": v.info.PageSlug,
			"check_id": v.info.ID, "check_name": v.info.Name, "component_id": v.info.ComponentID,
			"component_status": componentStatus, "status": c.Status, "impact": c.Impact, "state": v.alert,
			"regions": troubleRegions(v), "excluded_regions": v.ev.Excluded, "body": c.Body,
			"alert": c.Alert, "action": action, "at": v.at,
		},
	})
	out.event(v.info.PageSlug).addIncident(incidentID, c.Status, c.Impact)
	return nil
}

func broken(s incident.State) bool { return s == incident.Down || s == incident.Degraded }

// troubleRegions are the healthy regions behind the verdict: the confirmed
// down votes for a down check, every region seeing trouble otherwise.
func troubleRegions(v verdict) []string {
	if v.alert == incident.Down {
		return v.ev.DownRegions
	}
	excluded := map[string]bool{}
	for _, r := range v.ev.Excluded {
		excluded[r] = true
	}
	var out []string
	for _, l := range v.reports {
		if !excluded[l.Region] && broken(incident.State(l.State)) {
			out = append(out, l.Region)
		}
	}
	return out
}

// describe is an incident update's text: which check, from where, and the
// problems the probes reported there.
func describe(v verdict) string {
	regions := troubleRegions(v)
	var b strings.Builder
	fmt.Fprintf(&b, "Pharos sees **%s** (%s) %s from %s.", v.info.Name, v.info.URL, v.alert, joinOr(regions, "its regions"))
	inRegion := map[string]bool{}
	for _, r := range regions {
		inRegion[r] = true
	}
	seen := map[string]bool{}
	var lines []string
	for _, l := range v.reports {
		if !inRegion[l.Region] {
			continue
		}
		var problems []probes.Problem
		if err := json.Unmarshal(l.Problems, &problems); err != nil {
			continue // the text is a courtesy; the state is what counts
		}
		for _, p := range problems {
			key := string(p.Code) + "|" + p.Node
			if seen[key] || p.Severity == probes.SeverityInfo || len(lines) >= 5 {
				continue
			}
			seen[key] = true
			line := "- `" + string(p.Code) + "`"
			if p.Node != "" {
				line += " on " + p.Node
			}
			lines = append(lines, line+": "+p.Message)
		}
	}
	if len(lines) > 0 {
		b.WriteString("\n\n" + strings.Join(lines, "\n"))
	}
	if len(v.ev.Excluded) > 0 {
		fmt.Fprintf(&b, "\n\nNot counted (probe region unhealthy): %s.", strings.Join(v.ev.Excluded, ", "))
	}
	return b.String()
}

func describeRecovery(v verdict) string {
	var up []string
	for _, l := range v.reports {
		if incident.State(l.State) == incident.Up {
			up = append(up, l.Region)
		}
	}
	return fmt.Sprintf("**%s** (%s) is up again from %s.", v.info.Name, v.info.URL, joinOr(up, "its healthy regions"))
}

func joinOr(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, ", ")
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
