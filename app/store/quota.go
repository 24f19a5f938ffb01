package store

import (
	"context"
	"fmt"
)

// Holdings are how many pages, components and checks an organisation has.
type Holdings struct {
	Pages, Components, Checks int
}

// LockOrgHoldings counts the organisation's pages, components and checks
// for a write that must keep them within its quotas. On PostgreSQL the
// organisation's row stays locked until the transaction ends (FOR NO KEY
// UPDATE: rows referring to it can still be written), so two such writes
// take turns and the second counts what the first added; SQLite
// serialises write transactions anyway.
func (tx *Tx) LockOrgHoldings(ctx context.Context, orgID int64) (Holdings, error) {
	lock := ""
	if tx.s.dialect == Postgres {
		lock = " FOR NO KEY UPDATE"
	}
	var id int64
	if err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT id FROM orgs WHERE id = ?`+lock), orgID).Scan(&id); err != nil {
		return Holdings{}, notFound(err, "organisation", orgID)
	}
	var h Holdings
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT
		(SELECT COUNT(*) FROM pages WHERE org_id = ?),
		(SELECT COUNT(*) FROM components WHERE org_id = ?),
		(SELECT COUNT(*) FROM checks WHERE org_id = ?)`), orgID, orgID, orgID).Scan(&h.Pages, &h.Components, &h.Checks)
	if err != nil {
		return Holdings{}, fmt.Errorf("store: count holdings of organisation %d: %w", orgID, err)
	}
	return h, nil
}
