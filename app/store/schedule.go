package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The scheduler is a system role: it schedules the checks of every
// organisation, so the two reads below are deliberately not tenant-scoped.
// Nothing else should call them.

// EnabledChecks returns every enabled check of every organisation, by id.
func (s *Store) EnabledChecks(ctx context.Context) ([]Check, error) {
	return collect(ctx, s.db, "enabled checks", scanCheck,
		s.q(`SELECT `+checkColumns+` FROM checks WHERE enabled = ? ORDER BY id`), true)
}

// ChecksVersion returns a value that changes whenever a check is created,
// changed, enabled, disabled or deleted, in any organisation: the
// scheduler polls it and reloads EnabledChecks only when it moved.
//
// It is the number of checks, the sum of their ids and the latest
// updated_at. Every write of a check's configuration or of its enabled flag
// bumps updated_at; state changes written by the aggregator do not, so they
// cause no reload.
func (s *Store) ChecksVersion(ctx context.Context) (string, error) {
	var (
		count, idSum int64
		latest       sql.NullString
	)
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(id), 0), MAX(updated_at) FROM checks`).
		Scan(&count, &idSum, &latest)
	if err != nil {
		return "", fmt.Errorf("store: checks version: %w", err)
	}
	return fmt.Sprintf("%d/%d/%s", count, idSum, latest.String), nil
}
