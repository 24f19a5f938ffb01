package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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
// changed, enabled, disabled or deleted, in any organisation (deleted with
// its component, page or organisation too): the scheduler polls it and
// reloads EnabledChecks only when it moved.
//
// It is a counter that triggers on the checks table move (migration 0028):
// every insert and delete, and every update that sets updated_at, which
// each write of a check's configuration or of its enabled flag does; the
// aggregator's state changes do not, so they cause no reload.
func (s *Store) ChecksVersion(ctx context.Context) (string, error) {
	var version int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM checks_version`).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // no row: no check was ever written
		return "", fmt.Errorf("store: checks version: %w", err)
	}
	return strconv.FormatInt(version, 10), nil
}
