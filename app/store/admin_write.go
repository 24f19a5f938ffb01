package store

import (
	"context"
	"fmt"
)

// SetCheckEnabled pauses or resumes one of the organisation's checks inside
// the transaction; another organisation's check is ErrNotFound. It reports
// whether anything changed.
func (tx *Tx) SetCheckEnabled(ctx context.Context, orgID, id int64, enabled bool) (changed bool, err error) {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE checks SET enabled = ?, updated_at = ?
		WHERE org_id = ? AND id = ? AND enabled <> ?`), enabled, now(), orgID, id, enabled)
	if err != nil {
		return false, fmt.Errorf("store: set check %d enabled: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: set check %d enabled: %w", id, err)
	}
	if n > 0 {
		return true, nil
	}
	// Nothing updated: either it already had that value, or it is not ours.
	var one int
	if err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT 1 FROM checks WHERE org_id = ? AND id = ?`), orgID, id).Scan(&one); err != nil {
		return false, notFound(err, "check", id)
	}
	return false, nil
}

// SetCheckEnabledBy pauses or resumes a check and records who did it, in
// one transaction; it reports whether anything changed (an unchanged check
// is not audited).
func (s *Store) SetCheckEnabledBy(ctx context.Context, orgID int64, actor Actor, id int64, enabled bool) (changed bool, err error) {
	err = s.InTx(ctx, func(tx *Tx) error {
		if changed, err = tx.SetCheckEnabled(ctx, orgID, id, enabled); err != nil || !changed {
			return err
		}
		return tx.Audit(ctx, orgID, actor, "check.enabled", fmt.Sprintf("check %d", id), map[string]bool{"enabled": enabled})
	})
	return changed, err
}
