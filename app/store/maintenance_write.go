package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"pharos/app/incident"
)

// Maintenance statuses (Statuspage's vocabulary), as app/incident defines them.
const (
	MaintenanceScheduled  = incident.MaintenanceScheduled
	MaintenanceInProgress = incident.MaintenanceInProgress
	MaintenanceVerifying  = incident.MaintenanceVerifying
	MaintenanceCompleted  = incident.MaintenanceCompleted
)

// Window parses the window's definition: recurring when it has a
// schedule, one-off otherwise. The error is an *incident.WindowError naming
// the field at fault.
func (w MaintenanceWindow) Window() (incident.Window, error) {
	if w.Schedule != "" {
		if w.StartsAt != nil || w.EndsAt != nil {
			return incident.Window{}, &incident.WindowError{Field: "schedule", Message: "a window has either a schedule and a duration or a start and an end, not both"}
		}
		return incident.ParseWindow(w.Schedule, w.Duration, w.TimeZone)
	}
	if w.StartsAt == nil || w.EndsAt == nil {
		field := "start"
		if w.StartsAt != nil {
			field = "end"
		}
		return incident.Window{}, &incident.WindowError{Field: field, Message: "required (or a schedule and a duration)"}
	}
	return incident.OneOffWindow(*w.StartsAt, *w.EndsAt, w.TimeZone)
}

// validMaintenance checks what CreateMaintenance and UpdateMaintenance
// write: a name, a valid window and a known status. Errors are
// *incident.WindowError.
func validMaintenance(w *MaintenanceWindow) error {
	w.Name = strings.TrimSpace(w.Name)
	if w.Name == "" {
		return &incident.WindowError{Field: "name", Message: "required"}
	}
	if w.TimeZone == "" {
		w.TimeZone = "UTC"
	}
	if _, err := w.Window(); err != nil {
		return err
	}
	switch w.Status {
	case "", MaintenanceScheduled, MaintenanceInProgress, MaintenanceVerifying, MaintenanceCompleted:
	default:
		return &incident.WindowError{Field: "status", Message: fmt.Sprintf("%q: want scheduled, in_progress, verifying or completed", w.Status)}
	}
	if w.Schedule != "" {
		w.StartsAt, w.EndsAt = nil, nil
	} else {
		w.Duration = 0
	}
	slices.Sort(w.ComponentIDs)
	w.ComponentIDs = slices.Compact(w.ComponentIDs)
	return nil
}

// maintenanceAudit is the audit detail of a window change.
func maintenanceAudit(w MaintenanceWindow) map[string]any {
	d := map[string]any{"page_id": w.PageID, "name": w.Name, "time_zone": w.TimeZone, "components": w.ComponentIDs}
	if w.Schedule != "" {
		d["schedule"], d["duration_seconds"] = w.Schedule, wholeSeconds(w.Duration)
	} else if w.StartsAt != nil && w.EndsAt != nil {
		d["starts_at"], d["ends_at"] = w.StartsAt.UTC(), w.EndsAt.UTC()
	}
	return d
}

// CreateMaintenance validates and creates a maintenance window of the
// organisation's page (w.PageID) with its components and body, and records
// actor in the audit log in the same transaction. A page or component of
// another organisation (or another page) is ErrNotFound, a taken name
// ErrConflict, a bad definition an *incident.WindowError.
func (s *Store) CreateMaintenance(ctx context.Context, orgID int64, actor Actor, w MaintenanceWindow) (MaintenanceWindow, error) {
	w.OrgID = orgID
	if err := validMaintenance(&w); err != nil {
		return MaintenanceWindow{}, err
	}
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if w, err = tx.CreateMaintenanceWindow(ctx, w); err != nil {
			return err
		}
		return tx.Audit(ctx, orgID, actor, "maintenance.create", fmt.Sprintf("maintenance %d", w.ID), maintenanceAudit(w))
	})
	if err != nil {
		return MaintenanceWindow{}, err
	}
	return w, nil
}

// UpdateMaintenance validates and rewrites window w.ID of the
// organisation's page w.PageID: definition, body, components and, when
// w.Status is set, the status (a one-off window given new times without a
// status is scheduled again). Components the change puts in or out of a
// running window follow at once (Tx.UpdateMaintenanceWindow). It records
// actor in the audit log in the same transaction and returns the window as stored. Another
// organisation's (or page's) window is ErrNotFound.
func (s *Store) UpdateMaintenance(ctx context.Context, orgID int64, actor Actor, w MaintenanceWindow) (MaintenanceWindow, error) {
	w.OrgID = orgID
	if err := validMaintenance(&w); err != nil {
		return MaintenanceWindow{}, err
	}
	var out MaintenanceWindow
	err := s.InTx(ctx, func(tx *Tx) error {
		old, err := tx.MaintenanceWindow(ctx, orgID, w.PageID, w.ID)
		if err != nil {
			return err
		}
		if w.Status == "" && w.Schedule == "" && (!sameTime(old.StartsAt, w.StartsAt) || !sameTime(old.EndsAt, w.EndsAt)) {
			// A one-off window moved runs again: the maintenance tick
			// announces, starts and completes the new run.
			w.Status = MaintenanceScheduled
		}
		if err := tx.UpdateMaintenanceWindow(ctx, w); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("store: maintenance window %q: %w", w.Name, ErrConflict)
			}
			return err
		}
		detail := maintenanceAudit(w)
		if w.Status != "" && w.Status != old.Status {
			detail["status"] = old.Status + "→" + w.Status
		}
		if err := tx.Audit(ctx, orgID, actor, "maintenance.update", fmt.Sprintf("maintenance %d", w.ID), detail); err != nil {
			return err
		}
		out, err = tx.MaintenanceWindow(ctx, orgID, w.PageID, w.ID)
		return err
	})
	if err != nil {
		return MaintenanceWindow{}, err
	}
	return out, nil
}

// DeleteMaintenance deletes window id of the organisation's page (with its
// component links), gives back the components it held under maintenance,
// and records actor in the audit log in the same
// transaction. Another organisation's (or page's) window is ErrNotFound.
func (s *Store) DeleteMaintenance(ctx context.Context, orgID int64, actor Actor, pageID, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		old, err := tx.MaintenanceWindow(ctx, orgID, pageID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteMaintenanceWindow(ctx, orgID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, orgID, actor, "maintenance.delete", fmt.Sprintf("maintenance %d", id), maintenanceAudit(old))
	})
}

// MaintenanceWindow returns window id of the organisation's page with its
// component ids; another organisation's (or page's) window is ErrNotFound.
func (qs queries) MaintenanceWindow(ctx context.Context, orgID, pageID, id int64) (MaintenanceWindow, error) {
	w, err := scanMaintenance(qs.conn.QueryRowContext(ctx, qs.q(`SELECT `+maintenanceColumns+`
		FROM maintenance_windows WHERE org_id = ? AND page_id = ? AND id = ?`), orgID, pageID, id))
	if err != nil {
		return MaintenanceWindow{}, notFound(err, "maintenance window", id)
	}
	ws := []MaintenanceWindow{w}
	err = attachMaintenanceComponents(ctx, qs.conn, ws, qs.q(`SELECT maintenance_id, component_id
		FROM maintenance_components WHERE org_id = ? AND maintenance_id = ? ORDER BY component_id`), orgID, id)
	if err != nil {
		return MaintenanceWindow{}, err
	}
	return ws[0], nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// settleComponents puts the page's components ids under maintenance when a
// window running now covers them, and gives those under maintenance that
// none covers back to their checks: after a window changed or went, its
// components need not wait for the maintenance tick, which acts only when
// a run begins or ends. Other statuses a person set are left alone.
func (tx *Tx) settleComponents(ctx context.Context, orgID, pageID int64, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	windows, err := tx.pageTickWindows(ctx, orgID, pageID)
	if err != nil {
		return err
	}
	covered := map[int64]bool{}
	for _, w := range windows {
		if incident.MaintenanceActive(w.window, w.Status, at) {
			for _, id := range w.ComponentIDs {
				covered[id] = true
			}
		}
	}
	current, err := tx.componentStatusesOf(ctx, orgID, ids)
	if err != nil {
		return err
	}
	var enter []StateChange
	var leave []int64
	for id, status := range current {
		switch {
		case covered[id] && status != incident.UnderMaintenance:
			enter = append(enter, StateChange{OrgID: orgID, ID: id, State: incident.UnderMaintenance, At: at})
		case !covered[id] && status == incident.UnderMaintenance:
			leave = append(leave, id)
		}
	}
	if _, err := tx.SetComponentStatuses(ctx, enter); err != nil {
		return err
	}
	if len(leave) == 0 {
		return nil
	}
	states, err := tx.ComponentCheckStates(ctx, map[int64][]int64{orgID: leave})
	if err != nil {
		return err
	}
	var back []StateChange
	for _, id := range leave {
		back = append(back, StateChange{OrgID: orgID, ID: id, State: incident.ComponentStatus(states[id], false), At: at})
	}
	_, err = tx.SetComponentStatuses(ctx, back)
	return err
}
