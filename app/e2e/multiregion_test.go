package e2e

import (
	"fmt"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/store"
)

// TestMultiRegionOutageAndTargetDown runs the whole distributed pipeline —
// scheduler, one probe worker in each of fra, iad and sin, aggregator —
// over real Redis and PostgreSQL against four HTTPS targets on loopback,
// with 2s intervals:
//
//  1. sin's network refuses every connection: sin is marked unhealthy
//     (region_health and a region.unhealthy operator event), no check goes
//     down and no incident opens; with sin excluded every check is up.
//  2. One target stops for everyone: its check is not down after the first
//     round that sees it refused, is down after the confirm rounds (2), and
//     an automatic incident opens with an incident.opened outbox event;
//     once the target is back the incident resolves.
//  3. Over the whole run, check_results holds exactly one row per (check,
//     region, round) the scheduler enqueued (see ledger.verify).
func TestMultiRegionOutageAndTargetDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	regions := []string{"fra", "iad", "sin"}
	const interval = 2 * time.Second

	var targets []*target
	var checks []store.Check
	for i, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"} {
		tg := h.target(ip, ok())
		targets = append(targets, tg)
		checks = append(checks, h.addCheck(fmt.Sprintf("edge-%d", i+1), tg, interval, regions))
	}
	flaky, flakyTarget := checks[3], targets[3]

	led := h.ledger(regions)
	stopAggregator := h.startAggregator()
	workers := []*workerRun{
		h.startWorker("fra", "fra-1", realProber(), bus.Options{}),
		h.startWorker("iad", "iad-1", realProber(), bus.Options{}),
		h.startWorker("sin", "sin-1", cutOffProber(), bus.Options{}),
	}
	schedReg, stopScheduler := h.startScheduler()
	mon := h.watch(flaky.ID, []string{"fra", "iad"}, 2, 2) // quorum: a majority of 3 regions

	// 1. Region outage: every target unreachable from sin only.
	waitFor(t, 20*time.Second, "sin marked unhealthy with a region.unhealthy event", func() bool {
		return h.count(`SELECT count(*) FROM region_health WHERE org_id = $1 AND region = 'sin' AND NOT healthy`, h.org) == 1 &&
			h.outbox("region.unhealthy", `payload::jsonb->>'region' = 'sin'`) == 1
	})
	waitFor(t, 15*time.Second, "every check up with sin excluded, 3 more rounds from sin stored", func() bool {
		for _, c := range checks {
			if h.checkStates()[c.ID] != "up" {
				return false
			}
		}
		return h.count(`SELECT count(*) FROM check_results WHERE org_id = $1 AND region = 'sin'
			AND checked_at > (SELECT changed_at FROM region_health WHERE org_id = $1 AND region = 'sin')`, h.org) >= 3*len(checks)
	})
	if n := h.count(`SELECT count(*) FROM region_health WHERE org_id = $1 AND NOT healthy AND region <> 'sin'`, h.org); n != 0 {
		t.Errorf("got %d other regions unhealthy, want only sin", n)
	}
	if n := h.count(`SELECT count(*) FROM check_results WHERE org_id = $1 AND region = 'sin' AND state <> 'down'`, h.org); n != 0 {
		t.Errorf("sin stored %d results that are not down, want every one down (its dialer refuses all)", n)
	}
	if n := h.count(`SELECT count(*) FROM incidents WHERE org_id = $1`, h.org); n != 0 {
		t.Fatalf("region outage: got %d incidents, want none", n)
	}
	if v := mon.violations(); len(v) > 0 {
		t.Fatalf("region outage: %v", v)
	}

	// 2. One target down from every region.
	flakyTarget.stop()
	waitFor(t, 20*time.Second, "the stopped target's check down", func() bool {
		return h.checkStates()[flaky.ID] == "down"
	})
	waitFor(t, 10*time.Second, "an automatic incident with an incident.opened event", func() bool {
		return h.count(`SELECT count(*) FROM incidents WHERE org_id = $1 AND check_id = $2 AND automatic AND resolved_at IS NULL`,
			h.org, flaky.ID) == 1 &&
			h.outbox("incident.opened", fmt.Sprintf(`(payload::jsonb->>'check_id')::bigint = %d`, flaky.ID)) == 1
	})
	if !mon.sawUnconfirmed() {
		t.Errorf("never saw the check refused by a healthy region for one round only and not down (confirm rounds skipped?)")
	}
	flakyTarget.restart()
	waitFor(t, 20*time.Second, "the check up again and its incident resolved", func() bool {
		return h.checkStates()[flaky.ID] == "up" &&
			h.count(`SELECT count(*) FROM incidents WHERE org_id = $1 AND check_id = $2 AND status = 'resolved' AND resolved_at IS NOT NULL`,
				h.org, flaky.ID) == 1 &&
			h.outbox("incident.resolved", fmt.Sprintf(`(payload::jsonb->>'check_id')::bigint = %d`, flaky.ID)) == 1
	})
	mon.stop()
	for _, v := range mon.violations() {
		t.Error(v)
	}
	if n := h.outbox("incident.opened", "true"); n != 1 {
		t.Errorf("got %d incident.opened events, want 1 (the stopped target's check only)", n)
	}
	if n := h.count(`SELECT count(*) FROM incidents WHERE org_id = $1`, h.org); n != 1 {
		t.Errorf("got %d incidents, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM region_health WHERE org_id = $1 AND region = 'sin' AND NOT healthy`, h.org); n != 1 {
		t.Errorf("sin is no longer marked unhealthy while its network still refuses everything")
	}

	// 3. Nothing lost, nothing twice.
	stopScheduler()
	led.settle(20 * time.Second)
	for _, w := range workers {
		w.stop()
	}
	stopAggregator()
	perRegion := led.verify(t)
	scheduled := metricByLabel(t, schedReg, "pharos_scheduler_jobs_scheduled_total", "region")
	for _, r := range regions {
		if int(scheduled[r]) != perRegion[r] {
			t.Errorf("%s: scheduler counted %v jobs, %d rounds stored", r, scheduled[r], perRegion[r])
		}
		// The phases above take at least 5 rounds of every check.
		if perRegion[r] < 5*len(checks) {
			t.Errorf("%s: only %d rounds stored, want at least 5 per check", r, perRegion[r])
		}
	}
	for _, w := range workers {
		for _, name := range []string{"pharos_jobs_dropped_late_total", "pharos_worker_results_dropped_total"} {
			if n := metric(t, w.reg, name); n != 0 {
				t.Errorf("worker %s: %s = %v, want 0", w.w.Consumer(), name, n)
			}
		}
	}
	t.Logf("rounds stored per region: %v (scheduler: %v); results republished: %d", perRegion, scheduled, led.resultDup)
}

// outbox counts the organisation's outbox events of kind matching the SQL
// condition where.
func (h *harness) outbox(kind, where string) int {
	h.t.Helper()
	return h.count(`SELECT count(*) FROM outbox WHERE org_id = $1 AND kind = $2 AND `+where, h.org, kind)
}
