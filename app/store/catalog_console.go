package store

import (
	"context"
	"fmt"
)

// The catalogue's reads and writes the console needs beyond what `pharos
// apply` uses (catalog_write.go): one row by id inside a transaction,
// deleting a page, and the managed mark that tells the two apart.

// ComponentGroups lists a page's component groups in display order.
func (s *Store) ComponentGroups(ctx context.Context, orgID, pageID int64) ([]ComponentGroup, error) {
	var out []ComponentGroup
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.ComponentGroups(ctx, orgID, pageID)
		return err
	})
	return out, err
}

// Page returns one page of the organisation, read in the transaction.
func (tx *Tx) Page(ctx context.Context, orgID, id int64) (Page, error) {
	p, err := scanPage(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+pageColumns+` FROM pages WHERE org_id = ? AND id = ?`), orgID, id))
	return p, notFound(err, "page", id)
}

// ComponentGroup returns one component group of the organisation.
func (tx *Tx) ComponentGroup(ctx context.Context, orgID, id int64) (ComponentGroup, error) {
	var g ComponentGroup
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT id, org_id, page_id, name, position, managed FROM component_groups
		WHERE org_id = ? AND id = ?`), orgID, id).Scan(&g.ID, &g.OrgID, &g.PageID, &g.Name, &g.Position, &g.Managed)
	return g, notFound(err, "component group", id)
}

// Component returns one component of the organisation, read in the
// transaction.
func (tx *Tx) Component(ctx context.Context, orgID, id int64) (Component, error) {
	c, err := scanComponent(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+componentColumns+` FROM components WHERE org_id = ? AND id = ?`), orgID, id))
	return c, notFound(err, "component", id)
}

// Check returns one check of the organisation, read in the transaction.
func (tx *Tx) Check(ctx context.Context, orgID, id int64) (Check, error) {
	c, err := scanCheck(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+checkColumns+` FROM checks WHERE org_id = ? AND id = ?`), orgID, id))
	return c, notFound(err, "check", id)
}

// DeletePage deletes a page and, by cascade, everything on it: groups,
// components, checks and their results, incidents, maintenance windows and
// subscribers.
func (tx *Tx) DeletePage(ctx context.Context, orgID, id int64) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM pages WHERE org_id = ? AND id = ?`), orgID, id)
	return oneRowAffected(res, err, "delete page", id)
}

// MarkPageManaged marks the page and every group, component and check on
// it as owned by a configuration file. `pharos apply` calls it after
// writing a page: the file names everything left on it.
func (tx *Tx) MarkPageManaged(ctx context.Context, orgID, pageID int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE pages SET managed = ? WHERE org_id = ? AND id = ? AND managed = ?`),
		true, orgID, pageID, false); err != nil {
		return fmt.Errorf("store: mark page %d managed: %w", pageID, err)
	}
	for _, table := range []string{"component_groups", "components", "checks"} { // constant names, never input
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE `+table+` SET managed = ? WHERE org_id = ? AND page_id = ? AND managed = ?`),
			true, orgID, pageID, false); err != nil {
			return fmt.Errorf("store: mark %s of page %d managed: %w", table, pageID, err)
		}
	}
	return nil
}
