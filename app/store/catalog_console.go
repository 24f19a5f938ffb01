package store

import (
	"context"
	"fmt"
)

// The catalogue's reads and writes the console needs beyond what `pharos
// apply` uses (catalog_write.go): a component group by id inside a
// transaction, deleting a page, and the managed mark that tells the two
// apart. Pages, components and checks by id are queries (catalog.go), on
// the Store and the Tx alike.

// ComponentGroup returns one component group of the organisation.
func (tx *Tx) ComponentGroup(ctx context.Context, orgID, id int64) (ComponentGroup, error) {
	var g ComponentGroup
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT id, org_id, page_id, name, position, managed FROM component_groups
		WHERE org_id = ? AND id = ?`), orgID, id).Scan(&g.ID, &g.OrgID, &g.PageID, &g.Name, &g.Position, &g.Managed)
	return g, notFound(err, "component group", id)
}

// DeletePage deletes a page and, by cascade, everything on it: groups,
// components, checks and their results, incidents, maintenance windows and
// subscribers.
func (tx *Tx) DeletePage(ctx context.Context, orgID, id int64) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM pages WHERE org_id = ? AND id = ?`), orgID, id)
	return oneRowAffected(res, err, "delete page", id)
}

// MarkPageManaged marks the page and every group, component, check and
// maintenance window on it as owned by a configuration file. `pharos
// apply` calls it after writing a page: the file names everything left on
// it.
func (tx *Tx) MarkPageManaged(ctx context.Context, orgID, pageID int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE pages SET managed = ? WHERE org_id = ? AND id = ? AND managed = ?`),
		true, orgID, pageID, false); err != nil {
		return fmt.Errorf("store: mark page %d managed: %w", pageID, err)
	}
	for _, table := range []string{"component_groups", "components", "checks", "maintenance_windows"} { // constant names, never input
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE `+table+` SET managed = ? WHERE org_id = ? AND page_id = ? AND managed = ?`),
			true, orgID, pageID, false); err != nil {
			return fmt.Errorf("store: mark %s of page %d managed: %w", table, pageID, err)
		}
	}
	return nil
}
