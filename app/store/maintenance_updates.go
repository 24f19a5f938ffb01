package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// MaintenanceUpdate is one public update of a maintenance run: the
// automatic scheduled, in_progress, (verifying) and completed steps.
type MaintenanceUpdate struct {
	ID              int64
	OrgID           int64
	MaintenanceID   int64
	OccurrenceStart time.Time // the run it is about (recurring windows have many)
	OccurrenceEnd   time.Time
	Status          string
	Body            string
	Affected        []MaintenanceAffected
	DisplayAt       time.Time
	CreatedAt       time.Time
}

// MaintenanceUpdates lists the organisation's page's maintenance updates,
// newest shown first, at most limit of them (0: 100); windowID, when not
// 0, keeps one window's. Another organisation's page lists nothing.
func (s *Store) MaintenanceUpdates(ctx context.Context, orgID, pageID, windowID int64, limit int) ([]MaintenanceUpdate, error) {
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT u.id, u.org_id, u.maintenance_id, u.occurrence_start, u.occurrence_end, u.status, u.body, u.affected,
		u.display_at, u.created_at
		FROM maintenance_updates u JOIN maintenance_windows w ON w.id = u.maintenance_id AND w.org_id = u.org_id
		WHERE u.org_id = ? AND w.page_id = ?`
	args := []any{orgID, pageID}
	if windowID != 0 {
		query += ` AND u.maintenance_id = ?`
		args = append(args, windowID)
	}
	query += ` ORDER BY u.display_at DESC, u.id DESC LIMIT ?`
	args = append(args, limit)
	return collect(ctx, s.db, "maintenance updates", scanMaintenanceUpdate, s.q(query), args...)
}

func scanMaintenanceUpdate(row rowScanner) (MaintenanceUpdate, error) {
	var u MaintenanceUpdate
	var affected string
	if err := row.Scan(&u.ID, &u.OrgID, &u.MaintenanceID, &u.OccurrenceStart, &u.OccurrenceEnd, &u.Status, &u.Body, &affected,
		&u.DisplayAt, &u.CreatedAt); err != nil {
		return MaintenanceUpdate{}, err
	}
	if err := json.Unmarshal([]byte(affected), &u.Affected); err != nil {
		return MaintenanceUpdate{}, fmt.Errorf("maintenance update %d affected: %w", u.ID, err)
	}
	u.OccurrenceStart, u.OccurrenceEnd = u.OccurrenceStart.UTC(), u.OccurrenceEnd.UTC()
	u.DisplayAt, u.CreatedAt = u.DisplayAt.UTC(), u.CreatedAt.UTC()
	return u, nil
}
