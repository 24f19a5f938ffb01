package aggregate

import (
	"context"
	"log/slog"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// maintenanceEntry caches a page's maintenance windows, parsed.
type maintenanceEntry struct {
	windows []window
	at      time.Time
}

// window is one maintenance window of a page and the components it covers.
type window struct {
	components map[int64]bool
	recurring  *incident.Window // nil for a one-off window
	starts     *time.Time
	ends       *time.Time
	completed  bool
}

// active reports whether the window covers t. A recurring window follows
// its schedule in its own time zone (incident.Window); a one-off window runs
// from its start to its end (open-ended without one) unless an operator
// marked it completed.
func (w window) active(t time.Time) bool {
	if w.recurring != nil {
		_, _, ok := w.recurring.Active(t)
		return ok
	}
	if w.completed || w.starts == nil || t.Before(*w.starts) {
		return false
	}
	return w.ends == nil || t.Before(*w.ends)
}

// inMaintenance reports whether a maintenance window of the check's page
// that includes its component is active at t.
func (a *Aggregator) inMaintenance(ctx context.Context, tx *store.Tx, info store.CheckInfo, t time.Time) (bool, error) {
	a.mu.Lock()
	e, ok := a.maintenance[info.PageID]
	a.mu.Unlock()
	if !ok || !a.fresh(e.at) {
		ws, err := tx.MaintenanceWindows(ctx, info.OrgID, info.PageID)
		if err != nil {
			return false, err
		}
		e = maintenanceEntry{at: a.opts.Now()}
		for _, w := range ws {
			pw := window{components: map[int64]bool{}, starts: w.StartsAt, ends: w.EndsAt, completed: w.Status == "completed"}
			for _, id := range w.ComponentIDs {
				pw.components[id] = true
			}
			if w.Schedule != "" {
				rw, err := incident.ParseWindow(w.Schedule, w.Duration, w.TimeZone)
				if err != nil {
					a.log.Warn("maintenance window ignored", slog.Int64("window_id", w.ID), slog.Any("error", err))
					continue
				}
				pw.recurring = &rw
			}
			e.windows = append(e.windows, pw)
		}
		a.mu.Lock()
		a.maintenance[info.PageID] = e
		a.mu.Unlock()
	}
	for _, w := range e.windows {
		if w.components[info.ComponentID] && w.active(t) {
			return true, nil
		}
	}
	return false, nil
}
