package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"pharos/app/incident"
)

// PostMaintenanceUpdate is an operator's step of a window's run (the
// console's buttons, the management API's PATCH of a scheduled
// maintenance): status with its text (body; "" takes the automatic
// wording), audited, in one transaction. The run is the one in progress
// at now, or else the next. The steps a person may take are the ones the
// clock cannot:
//
//   - scheduled: reword the announcement of a run not yet begun;
//   - in_progress: reword the start of a run in progress;
//   - verifying: while a run of a one-off window is in progress;
//   - completed: end a one-off window early, or cancel it before it
//     begins (its components get back what their checks say).
//
// A run has one update per status: posting a status again rewords it.
// Anything else is an *incident.WindowError about "status"; another
// organisation's window is ErrNotFound. The caller publishes the page's
// event after it returns (the page cache's TTL covers a lost one).
func (s *Store) PostMaintenanceUpdate(ctx context.Context, orgID int64, actor Actor, pageID, id int64, status, body string,
	now time.Time) (MaintenanceUpdate, error) {
	now = now.UTC()
	var out MaintenanceUpdate
	err := s.InTx(ctx, func(tx *Tx) error {
		w, err := tx.MaintenanceWindow(ctx, orgID, pageID, id)
		if err != nil {
			return err
		}
		pw, err := w.Window()
		if err != nil {
			return err
		}
		start, end, running := pw.Active(now)
		running = running && incident.MaintenanceActive(pw, w.Status, now)
		if err := allowedStep(pw, w.Status, status, running, start, now); err != nil {
			return err
		}
		if body == "" {
			body = incident.MaintenanceUpdateBody(status, w.Body)
		}
		var existing int64
		err = tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT id FROM maintenance_updates
			WHERE maintenance_id = ? AND occurrence_start = ? AND status = ?`), id, start, status).Scan(&existing)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("store: maintenance update: %w", err)
		}
		if existing != 0 {
			if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE maintenance_updates SET body = ? WHERE id = ?`), body, existing); err != nil {
				return fmt.Errorf("store: reword maintenance update %d: %w", existing, err)
			}
		} else {
			tw := &tickWindow{MaintenanceWindow: w, window: pw}
			step := incident.MaintenanceStep{Run: incident.Occurrence{Start: start, End: end}, Status: status, DisplayAt: now}
			switch {
			case status == incident.MaintenanceInProgress:
				step.Effect = incident.EnterMaintenance
			case status == incident.MaintenanceCompleted && tx.hasUpdate(ctx, id, start, incident.MaintenanceInProgress):
				step.Effect = incident.LeaveMaintenance
			}
			var others []tickWindow
			if step.Effect == incident.LeaveMaintenance {
				if others, err = tx.pageTickWindows(ctx, orgID, pageID); err != nil {
					return err
				}
			}
			newStatus := ""
			if status != w.Status && status != incident.MaintenanceScheduled {
				newStatus = status
			}
			if _, err := tx.advanceWindowWith(ctx, tw, others, []incident.MaintenanceStep{step}, newStatus, now, body); err != nil {
				return err
			}
		}
		if err := tx.Audit(ctx, orgID, actor, "maintenance.update_posted", fmt.Sprintf("maintenance %d", id),
			map[string]any{"status": status, "run_start": start}); err != nil {
			return err
		}
		out, err = scanMaintenanceUpdate(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT id, org_id, maintenance_id, occurrence_start,
			occurrence_end, status, body, affected, display_at, created_at FROM maintenance_updates
			WHERE maintenance_id = ? AND occurrence_start = ? AND status = ?`), id, start, status))
		return err
	})
	if err != nil {
		return MaintenanceUpdate{}, err
	}
	return out, nil
}

// allowedStep refuses the steps PostMaintenanceUpdate does not take.
func allowedStep(w incident.Window, stored, status string, running bool, start, now time.Time) error {
	refuse := func(msg string) error { return &incident.WindowError{Field: "status", Message: msg} }
	if stored == incident.MaintenanceCompleted && !w.Recurring() {
		return refuse("the maintenance is completed")
	}
	switch status {
	case incident.MaintenanceScheduled:
		if running || !start.After(now) {
			return refuse("the run has begun: post in_progress, verifying or completed")
		}
	case incident.MaintenanceInProgress:
		if !running {
			return refuse(fmt.Sprintf("the run begins at %s, on its own", start.Format(time.RFC3339)))
		}
	case incident.MaintenanceVerifying:
		if !running || w.Recurring() {
			return refuse("verifying is for a one-off window in progress")
		}
	case incident.MaintenanceCompleted:
		if w.Recurring() {
			return refuse("a recurring window's runs end on their schedule")
		}
	default:
		return refuse(fmt.Sprintf("%q: want scheduled, in_progress, verifying or completed", status))
	}
	return nil
}

// hasUpdate reports whether the run's update of that status exists.
func (tx *Tx) hasUpdate(ctx context.Context, windowID int64, start time.Time, status string) bool {
	var one int
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT 1 FROM maintenance_updates
		WHERE maintenance_id = ? AND occurrence_start = ? AND status = ?`), windowID, start.UTC(), status).Scan(&one)
	return err == nil
}

// pageTickWindows reads a page's windows, parsed, for leaveMaintenance's
// "covered by another running window".
func (tx *Tx) pageTickWindows(ctx context.Context, orgID, pageID int64) ([]tickWindow, error) {
	ws, err := tx.MaintenanceWindows(ctx, orgID, pageID)
	if err != nil {
		return nil, err
	}
	var out []tickWindow
	for _, w := range ws {
		if pw, err := w.Window(); err == nil {
			out = append(out, tickWindow{MaintenanceWindow: w, window: pw})
		}
	}
	return out, nil
}
