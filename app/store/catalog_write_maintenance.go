package store

import (
	"context"
	"database/sql"
	"fmt"
)

const maintenanceColumns = `id, org_id, page_id, name, body, schedule, duration_seconds, time_zone, starts_at, ends_at, status, managed, created_at, updated_at`

// scanMaintenance reads a row of maintenanceColumns.
func scanMaintenance(row rowScanner) (MaintenanceWindow, error) {
	var w MaintenanceWindow
	var durationSeconds int64
	var startsAt, endsAt sql.NullTime
	if err := row.Scan(&w.ID, &w.OrgID, &w.PageID, &w.Name, &w.Body, &w.Schedule, &durationSeconds, &w.TimeZone,
		&startsAt, &endsAt, &w.Status, &w.Managed, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return MaintenanceWindow{}, err
	}
	w.Duration = secondsDuration(durationSeconds)
	w.StartsAt, w.EndsAt = nullTime(startsAt), nullTime(endsAt)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}

// attachMaintenanceComponents runs query, which selects (maintenance_id,
// component_id) pairs in the order the ids should be listed, and appends
// each component id to its window in ws.
func attachMaintenanceComponents(ctx context.Context, q querier, ws []MaintenanceWindow, query string, args ...any) error {
	if len(ws) == 0 {
		return nil
	}
	links, err := collect(ctx, q, "maintenance components", func(row rowScanner) ([2]int64, error) {
		var l [2]int64
		err := row.Scan(&l[0], &l[1])
		return l, err
	}, query, args...)
	if err != nil {
		return err
	}
	index := make(map[int64]int, len(ws))
	for i, w := range ws {
		index[w.ID] = i
	}
	for _, l := range links {
		if i, ok := index[l[0]]; ok {
			ws[i].ComponentIDs = append(ws[i].ComponentIDs, l[1])
		}
	}
	return nil
}

// MaintenanceWindows lists the organisation's page's maintenance windows by
// name, each with the ids of the components it covers (ascending).
func (qs queries) MaintenanceWindows(ctx context.Context, orgID, pageID int64) ([]MaintenanceWindow, error) {
	ws, err := collect(ctx, qs.conn, "maintenance windows", scanMaintenance, qs.q(`SELECT `+maintenanceColumns+`
		FROM maintenance_windows WHERE org_id = ? AND page_id = ? ORDER BY name`), orgID, pageID)
	if err != nil {
		return nil, err
	}
	err = attachMaintenanceComponents(ctx, qs.conn, ws, qs.q(`SELECT mc.maintenance_id, mc.component_id
		FROM maintenance_components mc JOIN maintenance_windows w ON w.id = mc.maintenance_id
		WHERE mc.org_id = ? AND w.org_id = ? AND w.page_id = ? ORDER BY mc.maintenance_id, mc.component_id`), orgID, orgID, pageID)
	if err != nil {
		return nil, err
	}
	return ws, nil
}

// CreateMaintenanceWindow inserts w (status scheduled) with its component
// links and returns it with its id.
func (tx *Tx) CreateMaintenanceWindow(ctx context.Context, w MaintenanceWindow) (MaintenanceWindow, error) {
	if err := tx.owned(ctx, "pages", w.OrgID, 0, w.PageID); err != nil {
		return MaintenanceWindow{}, err
	}
	w.CreatedAt = now()
	w.UpdatedAt = w.CreatedAt
	if w.Status == "" {
		w.Status = "scheduled"
	}
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO maintenance_windows (org_id, page_id, name, body, schedule,
		duration_seconds, time_zone, starts_at, ends_at, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		w.OrgID, w.PageID, w.Name, w.Body, w.Schedule, wholeSeconds(w.Duration), w.TimeZone,
		optTime(w.StartsAt), optTime(w.EndsAt), w.Status, w.CreatedAt, w.UpdatedAt).Scan(&w.ID)
	if isUniqueViolation(err) {
		return MaintenanceWindow{}, fmt.Errorf("store: maintenance window %q: %w", w.Name, ErrConflict)
	}
	if err != nil {
		return MaintenanceWindow{}, fmt.Errorf("store: create maintenance window %q: %w", w.Name, err)
	}
	if err := tx.linkMaintenanceComponents(ctx, w); err != nil {
		return MaintenanceWindow{}, err
	}
	return w, nil
}

// UpdateMaintenanceWindow writes w's definition (name, body, schedule,
// duration, time zone, start and end) and replaces its component links. The
// status is written only when w.Status is set. The components it held or
// now holds are settled (settleComponents).
func (tx *Tx) UpdateMaintenanceWindow(ctx context.Context, w MaintenanceWindow) error {
	held, err := tx.maintenanceComponentIDs(ctx, w.OrgID, w.ID)
	if err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE maintenance_windows SET name = ?, body = ?, schedule = ?,
		duration_seconds = ?, time_zone = ?, starts_at = ?, ends_at = ?, status = COALESCE(?, status), updated_at = ?
		WHERE org_id = ? AND id = ?`),
		w.Name, w.Body, w.Schedule, wholeSeconds(w.Duration), w.TimeZone, optTime(w.StartsAt), optTime(w.EndsAt),
		optString(w.Status), now(), w.OrgID, w.ID)
	if err := oneRowAffected(res, err, "update maintenance window", w.ID); err != nil {
		return err
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM maintenance_components WHERE org_id = ? AND maintenance_id = ?`),
		w.OrgID, w.ID); err != nil {
		return fmt.Errorf("store: unlink maintenance window %d: %w", w.ID, err)
	}
	if err := tx.linkMaintenanceComponents(ctx, w); err != nil {
		return err
	}
	return tx.settleComponents(ctx, w.OrgID, w.PageID, append(held, w.ComponentIDs...), now())
}

func (tx *Tx) linkMaintenanceComponents(ctx context.Context, w MaintenanceWindow) error {
	for _, cid := range w.ComponentIDs {
		if err := tx.owned(ctx, "components", w.OrgID, w.PageID, cid); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO maintenance_components (org_id, maintenance_id, component_id)
			VALUES (?, ?, ?)`), w.OrgID, w.ID, cid); err != nil {
			return fmt.Errorf("store: link maintenance window %d to component %d: %w", w.ID, cid, err)
		}
	}
	return nil
}

// DeleteMaintenanceWindow deletes a window and its component links, and
// gives back the components it held under maintenance (settleComponents).
func (tx *Tx) DeleteMaintenanceWindow(ctx context.Context, orgID, id int64) error {
	held, err := tx.maintenanceComponentIDs(ctx, orgID, id)
	if err != nil {
		return err
	}
	var pageID int64
	if err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT page_id FROM maintenance_windows WHERE org_id = ? AND id = ?`),
		orgID, id).Scan(&pageID); err != nil {
		return notFound(err, "maintenance window", id)
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM maintenance_windows WHERE org_id = ? AND id = ?`), orgID, id)
	if err := oneRowAffected(res, err, "delete maintenance window", id); err != nil {
		return err
	}
	return tx.settleComponents(ctx, orgID, pageID, held, now())
}

// maintenanceComponentIDs lists the components a window covers.
func (tx *Tx) maintenanceComponentIDs(ctx context.Context, orgID, id int64) ([]int64, error) {
	return collect(ctx, tx.tx, "maintenance components", func(row rowScanner) (int64, error) {
		var cid int64
		err := row.Scan(&cid)
		return cid, err
	}, tx.s.q(`SELECT component_id FROM maintenance_components WHERE org_id = ? AND maintenance_id = ?`), orgID, id)
}
