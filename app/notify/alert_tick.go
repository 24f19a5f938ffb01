package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// alertBatch bounds the repeats one tick considers and the channel
// deliveries one claim leases.
const alertBatch = 500

// AlertTickOnce repeats the unacknowledged alerts whose channel interval
// passed (not during their component's maintenance), tells PagerDuty of
// acknowledgements made in Pharos, and follows
// misconfigured checks: a check that became misconfigured alerts, one
// that no longer is resolves. It reports how many messages it queued.
// Run calls it on the alert tick; tests call it with an injected clock.
func (n *Notifier) AlertTickOnce(ctx context.Context) (int, error) {
	as := n.alertStore()
	if as == nil {
		return 0, nil
	}
	if err := n.followMisconfigured(ctx, as); err != nil {
		return 0, err
	}
	if err := n.followWithoutAutoIncidents(ctx, as); err != nil {
		return 0, err
	}
	cands, err := as.RepeatCandidates(ctx, alertBatch)
	if err != nil {
		return 0, err
	}
	now := n.opts.Now()
	var writes []store.AlertWrite
	for _, a := range cands {
		s := incident.RepeatSituation{Acknowledged: a.AcknowledgedAt != nil, InMaintenance: a.InMaintenance,
			Every: a.RepeatEvery, At: now}
		if a.LastSentAt != nil {
			s.LastSent = *a.LastSentAt
		}
		if incident.ShouldRepeat(s) {
			writes = append(writes, store.AlertWrite{Step: store.AlertStepRepeat, Alert: a, Sends: a.Sends, At: now})
		}
	}
	acked, err := as.AcknowledgedUntold(ctx, alertBatch)
	if err != nil {
		return 0, err
	}
	for _, a := range acked {
		writes = append(writes, store.AlertWrite{Step: store.AlertStepAcknowledge, Alert: a, Sends: a.Sends, At: now})
	}
	if len(writes) == 0 {
		return 0, nil
	}
	queued, err := as.ApplyAlerts(ctx, writes, n.ackHash, n.renderAlert)
	if err != nil {
		return 0, err
	}
	if queued > 0 {
		n.log.Info("alert messages queued by the tick", slog.Int("messages", queued))
		n.wakeAlerts()
	}
	return queued, nil
}

// followMisconfigured reconciles check_misconfigured alerts with the
// checks' states: the aggregator records the state and writes no outbox
// event for it, so the tick looks.
func (n *Notifier) followMisconfigured(ctx context.Context, as AlertStore) error {
	checks, err := as.MisconfiguredChecks(ctx)
	if err != nil {
		return err
	}
	open, err := as.SubjectsWithOpenAlerts(ctx, string(incident.AlertCheckMisconfigured))
	if err != nil {
		return err
	}
	firing := map[string]bool{}
	for _, c := range checks {
		subject := "check:" + strconv.FormatInt(c.CheckID, 10)
		firing[subject] = true
		err := n.applyCondition(ctx, as, condition{orgID: c.OrgID, subject: subject, componentID: c.ComponentID,
			checkID: c.CheckID, subjectName: c.Component + " (" + c.Name + ")", maintenance: c.InMaintenance,
			firing: []incident.AlertKind{incident.AlertCheckMisconfigured},
			detail: fmt.Sprintf("**%s** (%s) is misconfigured: the prober may not reach its target (SSRF guard) "+
				"or no worker of its regions reports. The public page does not show it.", c.Name, c.URL)})
		if err != nil {
			return err
		}
	}
	for org, subjects := range open {
		for _, subject := range subjects {
			if firing[subject] {
				continue
			}
			if err := n.applyCondition(ctx, as, condition{orgID: org, subject: subject,
				detail: "The check is configured correctly again."}); err != nil {
				return err
			}
		}
	}
	return nil
}

// followWithoutAutoIncidents alerts on the checks in trouble of pages
// whose automatic incidents are off: operators hear of an outage whatever
// the public page is set to show. Without incident events, the tick reads
// the checks' states (down or degraded; no certificate detail).
func (n *Notifier) followWithoutAutoIncidents(ctx context.Context, as AlertStore) error {
	checks, err := as.TroubleWithoutAutoIncidents(ctx)
	if err != nil {
		return err
	}
	open, err := as.OpenAlertsWithoutAutoIncidents(ctx)
	if err != nil {
		return err
	}
	conds := map[string]*condition{}
	var order []string
	for _, c := range checks {
		subject := "component:" + strconv.FormatInt(c.ComponentID, 10)
		cond, ok := conds[subject]
		if !ok {
			cond = &condition{orgID: c.OrgID, subject: subject, subjectName: c.Component, componentID: c.ComponentID,
				checkID: c.CheckID, maintenance: c.InMaintenance, firing: []incident.AlertKind{incident.AlertCheckDegraded}}
			conds[subject] = cond
			order = append(order, subject)
		}
		if c.State == string(incident.Down) {
			cond.firing = []incident.AlertKind{incident.AlertCheckDown}
		}
		if cond.detail != "" {
			cond.detail += "\n"
		}
		cond.detail += fmt.Sprintf("**%s** (%s) is %s.", c.Name, c.URL, c.State)
	}
	for _, subject := range order {
		if err := n.applyCondition(ctx, as, *conds[subject]); err != nil {
			return err
		}
	}
	for org, subjects := range open {
		for _, subject := range subjects {
			if conds[subject] != nil {
				continue
			}
			if err := n.applyCondition(ctx, as, condition{orgID: org, subject: subject,
				detail: "Every check of the component is up again."}); err != nil {
				return err
			}
		}
	}
	return nil
}

// alertLoop runs the alert tick and the channel deliveries until ctx ends.
func (n *Notifier) alertLoop(ctx context.Context) error {
	if n.alertStore() == nil {
		<-ctx.Done()
		return nil
	}
	tick := n.opts.Alerts.Tick
	if tick <= 0 {
		tick = DefaultAlertTick
	}
	var lastTick time.Time
	wait := n.opts.Poll
	for ctx.Err() == nil {
		if time.Since(lastTick) >= tick {
			lastTick = time.Now()
			if _, err := n.AlertTickOnce(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("alert tick failed", slog.Any("error", err))
			}
		}
		did, err := n.DeliverAlertsOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			n.log.Error("alert delivery failed", slog.Any("error", err))
			wait = min(2*wait, 30*time.Second)
		case err == nil && did > 0:
			wait = n.opts.Poll
			continue
		default:
			wait = n.opts.Poll
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-n.alertQueued:
		}
		t.Stop()
	}
	return nil
}

// wakeAlerts tells the alert loop messages are queued.
func (n *Notifier) wakeAlerts() {
	select {
	case n.alertQueued <- struct{}{}:
	default:
	}
}
