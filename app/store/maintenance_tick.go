package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"pharos/app/incident"
)

// MaintenanceAffected is one component a maintenance update changed.
type MaintenanceAffected struct {
	ComponentID int64  `json:"component_id"`
	OldStatus   string `json:"old_status"`
	NewStatus   string `json:"new_status"`
}

// MaintenanceChange is what one window's tick wrote, for the page's live
// event: the page, and the components whose status changed.
type MaintenanceChange struct {
	OrgID      int64
	PageID     int64
	PageSlug   string
	WindowID   int64
	Updates    int
	Components []StateChange
}

// tickWindow is a window with its page's slug and parsed definition.
type tickWindow struct {
	MaintenanceWindow
	slug   string
	window incident.Window
}

// AdvanceMaintenance moves every organisation's maintenance windows on at
// now (incident.PlanMaintenance): it writes the missing scheduled,
// in_progress and completed updates, puts components under maintenance
// when a run begins and gives them back to their checks when it ends, and
// keeps each window's status. Each window is one transaction; an update
// is written once (unique per window, run and status), and only the
// process that wrote it changes components, so concurrent or replayed
// ticks are harmless. Runs that began before now-lookback are left alone.
// A window that fails to parse or write is skipped and reported in the
// joined error; the others still advance.
func (s *Store) AdvanceMaintenance(ctx context.Context, now time.Time, lookback time.Duration) ([]MaintenanceChange, error) {
	now = now.UTC()
	windows, bad, err := s.tickWindows(ctx)
	if err != nil {
		return nil, err
	}
	// A run of interest began at most lookback plus the longest run ago.
	longest := time.Duration(0)
	for _, w := range windows {
		longest = max(longest, w.window.Duration())
	}
	done, err := s.maintenanceDone(ctx, now.Add(-lookback-longest))
	if err != nil {
		return nil, err
	}
	errs := bad
	var changes []MaintenanceChange
	for i := range windows {
		w := &windows[i]
		steps, status := incident.PlanMaintenance(incident.MaintenanceRuns{
			Window: w.window, Status: w.Status, Since: w.CreatedAt,
			Done: func(start time.Time, status string) bool { return done[doneKey(w.ID, start, status)] },
		}, now, lookback)
		if len(steps) == 0 && status == "" {
			continue
		}
		var ch MaintenanceChange
		err := s.InTx(ctx, func(tx *Tx) error {
			var err error
			ch, err = tx.advanceWindow(ctx, w, windows, steps, status, now)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("store: advance maintenance window %d: %w", w.ID, err))
			continue
		}
		if ch.Updates > 0 || len(ch.Components) > 0 || status != "" {
			changes = append(changes, ch)
		}
	}
	return changes, errors.Join(errs...)
}

// advanceWindow writes one window's steps and status in tx.
func (tx *Tx) advanceWindow(ctx context.Context, w *tickWindow, all []tickWindow, steps []incident.MaintenanceStep,
	status string, now time.Time) (MaintenanceChange, error) {
	return tx.advanceWindowWith(ctx, w, all, steps, status, now, "")
}

// advanceWindowWith is advanceWindow with the updates' text: body, or
// the automatic wording when it is "".
func (tx *Tx) advanceWindowWith(ctx context.Context, w *tickWindow, all []tickWindow, steps []incident.MaintenanceStep,
	status string, now time.Time, body string) (MaintenanceChange, error) {
	ch := MaintenanceChange{OrgID: w.OrgID, PageID: w.PageID, PageSlug: w.slug, WindowID: w.ID}
	for _, step := range steps {
		text := body
		if text == "" {
			text = incident.MaintenanceUpdateBody(step.Status, w.Body)
		}
		var id int64
		err := tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO maintenance_updates
			(org_id, maintenance_id, occurrence_start, occurrence_end, status, body, display_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (maintenance_id, occurrence_start, status) DO NOTHING RETURNING id`),
			w.OrgID, w.ID, step.Run.Start.UTC(), step.Run.End.UTC(), step.Status,
			text, step.DisplayAt.UTC(), now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // another tick wrote it: its writer also did its effect
		}
		if err != nil {
			return ch, fmt.Errorf("write %s update: %w", step.Status, err)
		}
		ch.Updates++
		if err := tx.queueMaintenanceEvent(ctx, w, step, id, text, now); err != nil {
			return ch, err
		}
		var affected []MaintenanceAffected
		switch step.Effect {
		case incident.EnterMaintenance:
			affected, err = tx.enterMaintenance(ctx, w, now)
		case incident.LeaveMaintenance:
			affected, err = tx.leaveMaintenance(ctx, w, all, now)
		}
		if err != nil {
			return ch, err
		}
		if len(affected) == 0 {
			continue
		}
		for _, a := range affected {
			ch.Components = append(ch.Components, StateChange{OrgID: w.OrgID, ID: a.ComponentID, State: a.NewStatus, At: now})
		}
		b, err := json.Marshal(affected)
		if err != nil {
			return ch, fmt.Errorf("encode affected components: %w", err)
		}
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE maintenance_updates SET affected = ? WHERE id = ?`), string(b), id); err != nil {
			return ch, fmt.Errorf("record affected components: %w", err)
		}
	}
	if status != "" {
		// Only from the status the plan saw: an operator's change since wins.
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE maintenance_windows SET status = ?, updated_at = ?
			WHERE org_id = ? AND id = ? AND status = ?`), status, now, w.OrgID, w.ID, w.Status); err != nil {
			return ch, fmt.Errorf("set status %s: %w", status, err)
		}
	}
	return ch, nil
}

// enterMaintenance puts the window's components under maintenance.
func (tx *Tx) enterMaintenance(ctx context.Context, w *tickWindow, now time.Time) ([]MaintenanceAffected, error) {
	current, err := tx.componentStatusesOf(ctx, w.OrgID, w.ComponentIDs)
	if err != nil {
		return nil, err
	}
	var changes []StateChange
	for _, id := range w.ComponentIDs {
		if st, ok := current[id]; ok && st != incident.UnderMaintenance {
			changes = append(changes, StateChange{OrgID: w.OrgID, ID: id, State: incident.UnderMaintenance, At: now})
		}
	}
	return tx.applyMaintenanceStatuses(ctx, changes, current)
}

// leaveMaintenance gives the window's components that are under
// maintenance, and covered by no other window running now, the status
// their checks say (incident.ComponentStatus, as the aggregator computes
// it): operational when they have no judged check.
func (tx *Tx) leaveMaintenance(ctx context.Context, w *tickWindow, all []tickWindow, now time.Time) ([]MaintenanceAffected, error) {
	covered := map[int64]bool{}
	for i := range all {
		o := &all[i]
		if o.ID == w.ID || o.PageID != w.PageID || !incident.MaintenanceActive(o.window, o.Status, now) {
			continue
		}
		for _, id := range o.ComponentIDs {
			covered[id] = true
		}
	}
	current, err := tx.componentStatusesOf(ctx, w.OrgID, w.ComponentIDs)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, id := range w.ComponentIDs {
		if current[id] == incident.UnderMaintenance && !covered[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	states, err := tx.ComponentCheckStates(ctx, map[int64][]int64{w.OrgID: ids})
	if err != nil {
		return nil, err
	}
	var changes []StateChange
	for _, id := range ids {
		changes = append(changes, StateChange{OrgID: w.OrgID, ID: id, State: incident.ComponentStatus(states[id], false), At: now})
	}
	return tx.applyMaintenanceStatuses(ctx, changes, current)
}

func (tx *Tx) applyMaintenanceStatuses(ctx context.Context, changes []StateChange, old map[int64]string) ([]MaintenanceAffected, error) {
	done, err := tx.SetComponentStatuses(ctx, changes)
	if err != nil {
		return nil, err
	}
	var out []MaintenanceAffected
	for _, c := range done {
		out = append(out, MaintenanceAffected{ComponentID: c.ID, OldStatus: old[c.ID], NewStatus: c.State})
	}
	return out, nil
}

// componentStatusesOf reads the current status of the organisation's
// components ids.
func (tx *Tx) componentStatusesOf(ctx context.Context, orgID int64, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT id, status FROM components
		WHERE org_id = ? AND id IN (`+placeholders(len(ids))+`)`), orgArgs(orgID, ids)...)
	if err != nil {
		return nil, fmt.Errorf("store: component statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			return nil, fmt.Errorf("store: component statuses: %w", err)
		}
		out[id] = status
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: component statuses: %w", err)
	}
	return out, nil
}

// tickWindows reads every organisation's windows with their pages' slugs
// and components, parsed; the windows that do not parse are returned as
// errors.
func (s *Store) tickWindows(ctx context.Context) ([]tickWindow, []error, error) {
	rows, err := collect(ctx, s.db, "maintenance windows", func(row rowScanner) (tickWindow, error) {
		var w tickWindow
		var durationSeconds int64
		var startsAt, endsAt sql.NullTime
		err := row.Scan(&w.ID, &w.OrgID, &w.PageID, &w.Name, &w.Body, &w.Schedule, &durationSeconds, &w.TimeZone,
			&startsAt, &endsAt, &w.Status, &w.CreatedAt, &w.UpdatedAt, &w.slug)
		w.Duration = secondsDuration(durationSeconds)
		w.StartsAt, w.EndsAt = nullTime(startsAt), nullTime(endsAt)
		w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
		return w, err
	}, s.q(`SELECT w.id, w.org_id, w.page_id, w.name, w.body, w.schedule, w.duration_seconds, w.time_zone, w.starts_at,
		w.ends_at, w.status, w.created_at, w.updated_at, p.slug
		FROM maintenance_windows w JOIN pages p ON p.id = w.page_id AND p.org_id = w.org_id ORDER BY w.id`))
	if err != nil {
		return nil, nil, err
	}
	links, err := collect(ctx, s.db, "maintenance components", func(row rowScanner) ([2]int64, error) {
		var l [2]int64
		err := row.Scan(&l[0], &l[1])
		return l, err
	}, `SELECT maintenance_id, component_id FROM maintenance_components ORDER BY maintenance_id, component_id`)
	if err != nil {
		return nil, nil, err
	}
	index := make(map[int64]int, len(rows))
	for i, w := range rows {
		index[w.ID] = i
	}
	for _, l := range links {
		if i, ok := index[l[0]]; ok {
			rows[i].ComponentIDs = append(rows[i].ComponentIDs, l[1])
		}
	}
	var bad []error
	out := rows[:0]
	for _, w := range rows {
		pw, err := w.MaintenanceWindow.Window()
		if err != nil {
			bad = append(bad, fmt.Errorf("store: maintenance window %d: %w", w.ID, err))
			continue
		}
		w.window = pw
		out = append(out, w)
	}
	return out, bad, nil
}

// maintenanceDone reads which updates exist for runs that began since.
func (s *Store) maintenanceDone(ctx context.Context, since time.Time) (map[string]bool, error) {
	keys, err := collect(ctx, s.db, "maintenance updates", func(row rowScanner) (string, error) {
		var id int64
		var start time.Time
		var status string
		err := row.Scan(&id, &start, &status)
		return doneKey(id, start, status), err
	}, s.q(`SELECT maintenance_id, occurrence_start, status FROM maintenance_updates WHERE occurrence_start >= ?`), since.UTC())
	if err != nil {
		return nil, err
	}
	done := make(map[string]bool, len(keys))
	for _, k := range keys {
		done[k] = true
	}
	return done, nil
}

func doneKey(windowID int64, start time.Time, status string) string {
	return strconv.FormatInt(windowID, 10) + "|" + strconv.FormatInt(start.Unix(), 10) + "|" + status
}
