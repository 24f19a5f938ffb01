package aggregate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// A check whose regions have no live worker gets no result, so no batch
// ever judges it: it would keep its last state (and any incident) for
// ever, or show "No data yet" with nobody told why. The sweep finds such
// checks by time and marks them misconfigured (DESIGN §4): operators see
// it in the console; the public sees no outage, and an incident it kept
// open loses it.

// sweepLock is the bus lock one aggregator at a time sweeps under.
const sweepLock = "aggregate:sweep"

// sweepLoop runs the sweep every SweepEvery while ctx lives, under the bus
// lock so that several aggregators do not sweep the same checks at once.
func (a *Aggregator) sweepLoop(ctx context.Context) {
	if a.opts.NoWorkerAfter < 0 {
		return
	}
	tick := time.NewTicker(a.opts.SweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, ok, err := a.bus.TryLock(ctx, sweepLock, a.opts.SweepEvery/2) // left to expire: one sweep per period
		if err != nil {
			a.log.Warn("sweep lock", slog.Any("error", err))
			continue
		}
		if !ok {
			continue // another aggregator sweeps this time; the lease expires by itself
		}
		n, err := a.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			a.log.Error("sweep for checks without a worker", slog.Any("error", err))
		case n > 0:
			a.log.Warn("checks misconfigured: no worker of their regions reports", slog.Int("checks", n))
		}
	}
}

// Sweep marks misconfigured every enabled check none of whose regions has
// reported any result (for any check) within max(NoWorkerAfter, 3 ×
// interval), unless the check's configuration changed within that time.
// When no region at all reported within NoWorkerAfter although some did
// before, the pipeline itself is stalled (no scheduler, the aggregator
// behind): nobody is to blame and nothing is marked; when none ever did (a
// file naming only regions no worker serves, under `pharos run`), every
// candidate is marked. The checks' components and incidents follow as for a
// batch, and their pages get live events. It returns how many checks it
// marked.
func (a *Aggregator) Sweep(ctx context.Context) (int, error) {
	now := a.opts.Now().UTC()
	var out *outcome
	var marked int
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		out = &outcome{events: map[string]*pageEvent{}, actions: map[incident.Action]int{}}
		var err error
		marked, err = a.sweep(ctx, tx, now, out)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("aggregate: sweep: %w", err)
	}
	for action, n := range out.actions {
		a.metrics.transitions.WithLabelValues(string(action)).Add(float64(n))
	}
	a.publish(ctx, out.events)
	return marked, nil
}

func (a *Aggregator) sweep(ctx context.Context, tx *store.Tx, now time.Time, out *outcome) (int, error) {
	window := a.opts.NoWorkerAfter
	alive, err := tx.RegionsSeenSince(ctx, now.Add(-window))
	if err != nil {
		return 0, err
	}
	if len(alive) == 0 {
		// Results came once and stopped everywhere: the pipeline stalled
		// (no scheduler, the aggregator behind), and no check is to blame.
		// None ever came: no region of any check has a worker.
		ever, err := tx.RegionsSeenSince(ctx, time.Time{})
		if err != nil || len(ever) > 0 {
			return 0, err
		}
	}
	candidates, err := tx.SweepableChecks(ctx, now.Add(-window))
	if err != nil {
		return 0, err
	}
	seen := map[time.Duration]map[string]bool{window: alive}
	ids := map[int64][]int64{}
	for _, c := range candidates {
		w := max(window, 3*c.Interval)
		if c.UpdatedAt.After(now.Add(-w)) {
			continue
		}
		if seen[w] == nil {
			if seen[w], err = tx.RegionsSeenSince(ctx, now.Add(-w)); err != nil {
				return 0, err
			}
		}
		if !anySeen(c.Regions, seen[w]) {
			ids[c.OrgID] = append(ids[c.OrgID], c.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	infos, err := tx.ChecksForAggregation(ctx, ids)
	if err != nil {
		return 0, err
	}
	var verdicts []verdict
	var changes []store.StateChange
	for _, id := range sortedIDs(infos) {
		info := infos[id]
		v := verdict{info: info, state: incident.Misconfigured, alert: incident.Up, at: now}
		if v.inMaint, err = a.inMaintenance(ctx, tx, info, now); err != nil {
			return 0, err
		}
		verdicts = append(verdicts, v)
		changes = append(changes, store.StateChange{OrgID: info.OrgID, ID: info.ID, State: string(incident.Misconfigured), At: now})
	}
	if err := tx.SetCheckStates(ctx, changes); err != nil {
		return 0, err
	}
	components, err := a.componentStatuses(ctx, tx, verdicts, changes, now, out)
	if err != nil {
		return 0, err
	}
	if err := a.incidents(ctx, tx, verdicts, components, out); err != nil {
		return 0, err
	}
	if _, err := tx.AddOutbox(ctx, out.outbox); err != nil {
		return 0, err
	}
	return len(changes), nil
}

func sortedIDs(infos map[int64]store.CheckInfo) []int64 {
	ids := make([]int64, 0, len(infos))
	for id := range infos {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// anySeen reports whether any of a check's regions (none configured: the
// local worker's, as the scheduler does) is among seen.
func anySeen(regions []string, seen map[string]bool) bool {
	if len(regions) == 0 {
		return seen[incident.LocalRegion]
	}
	for _, r := range regions {
		if seen[r] {
			return true
		}
	}
	return false
}
