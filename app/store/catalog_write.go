package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"pharos/app/incident"
)

// This file holds the transactional reads and writes of the catalogue
// (pages, component groups, components, checks, maintenance windows) that
// `pharos apply` runs inside one transaction. Every statement is scoped by
// organisation, and every id a caller passes for a parent row is checked to
// belong to the same organisation and page before it is referenced.

// PageBySlug returns the organisation's page with this slug, or ErrNotFound
// (also when another organisation owns the slug: see SlugOwner).
func (tx *Tx) PageBySlug(ctx context.Context, orgID int64, slug string) (Page, error) {
	p, err := scanPage(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+pageColumns+` FROM pages WHERE org_id = ? AND slug = ?`), orgID, slug))
	return p, notFound(err, "page", slug)
}

// PageSlugDomainTaken reports whether a page other than exceptPageID (0 for none)
// already uses the slug or the custom domain (domain "" is never taken). Slugs
// and domains are global: another organisation's page counts too, but
// nothing about it is returned.
func (tx *Tx) PageSlugDomainTaken(ctx context.Context, slug, domain string, exceptPageID int64) (slugTaken, domainTaken bool, err error) {
	err = tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT
		EXISTS (SELECT 1 FROM pages WHERE slug = ? AND id <> ?),
		EXISTS (SELECT 1 FROM pages WHERE domain = ? AND id <> ?)`),
		slug, exceptPageID, domain, exceptPageID).Scan(&slugTaken, &domainTaken)
	if err != nil {
		return false, false, fmt.Errorf("store: page slug %q: %w", slug, err)
	}
	return slugTaken, domainTaken && domain != "", nil
}

// CreatePage inserts p for p.OrgID and returns it with its id.
func (tx *Tx) CreatePage(ctx context.Context, p Page) (Page, error) {
	regions, err := encodeList(p.Regions)
	if err != nil {
		return Page{}, err
	}
	p.CreatedAt = now()
	p.UpdatedAt = p.CreatedAt
	p.AutoIncidents, p.PublicDetail = pageSettings(p)
	err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO pages (org_id, slug, title, domain, time_zone, regions,
		auto_incidents, public_detail, managed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		p.OrgID, p.Slug, p.Title, optString(p.Domain), p.TimeZone, regions, p.AutoIncidents, p.PublicDetail,
		p.Managed, p.CreatedAt, p.UpdatedAt).Scan(&p.ID)
	if isUniqueViolation(err) {
		return Page{}, fmt.Errorf("store: page %q: %w", p.Slug, ErrConflict)
	}
	if err != nil {
		return Page{}, fmt.Errorf("store: create page %q: %w", p.Slug, err)
	}
	return p, nil
}

// UpdatePage writes p's slug, title, domain, time zone, regions and
// settings (not Managed: see MarkPageManaged).
func (tx *Tx) UpdatePage(ctx context.Context, p Page) error {
	regions, err := encodeList(p.Regions)
	if err != nil {
		return err
	}
	auto, detail := pageSettings(p)
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE pages SET slug = ?, title = ?, domain = ?, time_zone = ?, regions = ?,
		auto_incidents = ?, public_detail = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`), p.Slug, p.Title, optString(p.Domain), p.TimeZone, regions, auto, detail, now(), p.OrgID, p.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: page %q: %w", p.Slug, ErrConflict)
	}
	return oneRowAffected(res, err, "update page", p.ID)
}

// pageSettings are p's settings with the defaults filled in.
func pageSettings(p Page) (auto, detail string) {
	auto, detail = p.AutoIncidents, p.PublicDetail
	if auto == "" {
		auto = AutoPublish
	}
	if detail == "" {
		detail = DetailPlain
	}
	return auto, detail
}

// ComponentGroups lists a page's component groups in display order.
func (qs queries) ComponentGroups(ctx context.Context, orgID, pageID int64) ([]ComponentGroup, error) {
	return collect(ctx, qs.conn, "component groups", func(r rowScanner) (ComponentGroup, error) {
		var g ComponentGroup
		err := r.Scan(&g.ID, &g.OrgID, &g.PageID, &g.Name, &g.Position, &g.Managed)
		return g, err
	}, qs.q(`SELECT id, org_id, page_id, name, position, managed FROM component_groups
		WHERE org_id = ? AND page_id = ? ORDER BY position, id`), orgID, pageID)
}

// CreateComponentGroup inserts g on its page and returns it with its id.
func (tx *Tx) CreateComponentGroup(ctx context.Context, g ComponentGroup) (ComponentGroup, error) {
	if err := tx.owned(ctx, "pages", g.OrgID, 0, g.PageID); err != nil {
		return ComponentGroup{}, err
	}
	t := now()
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO component_groups (org_id, page_id, name, position, managed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), g.OrgID, g.PageID, g.Name, g.Position, g.Managed, t, t).Scan(&g.ID)
	if isUniqueViolation(err) {
		return ComponentGroup{}, fmt.Errorf("store: component group %q: %w", g.Name, ErrConflict)
	}
	if err != nil {
		return ComponentGroup{}, fmt.Errorf("store: create component group %q: %w", g.Name, err)
	}
	return g, nil
}

// UpdateComponentGroup writes g's name and position.
func (tx *Tx) UpdateComponentGroup(ctx context.Context, g ComponentGroup) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE component_groups SET name = ?, position = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`), g.Name, g.Position, now(), g.OrgID, g.ID)
	return oneRowAffected(res, err, "update component group", g.ID)
}

// DeleteComponentGroup deletes a group; its components stay, ungrouped.
func (tx *Tx) DeleteComponentGroup(ctx context.Context, orgID, id int64) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM component_groups WHERE org_id = ? AND id = ?`), orgID, id)
	return oneRowAffected(res, err, "delete component group", id)
}

// CreateComponent inserts c (status operational) and returns it with its id.
func (tx *Tx) CreateComponent(ctx context.Context, c Component) (Component, error) {
	if err := tx.owned(ctx, "pages", c.OrgID, 0, c.PageID); err != nil {
		return Component{}, err
	}
	if c.GroupID != nil {
		if err := tx.owned(ctx, "component_groups", c.OrgID, c.PageID, *c.GroupID); err != nil {
			return Component{}, err
		}
	}
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	c.Status, c.Showcase = incident.Operational, true
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO components (org_id, page_id, group_id, name, description, position, managed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		c.OrgID, c.PageID, optInt64(c.GroupID), c.Name, c.Description, c.Position, c.Managed, c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	if isUniqueViolation(err) {
		return Component{}, fmt.Errorf("store: component %q: %w", c.Name, ErrConflict)
	}
	if err != nil {
		return Component{}, fmt.Errorf("store: create component %q: %w", c.Name, err)
	}
	return c, nil
}

// UpdateComponent writes c's name, description, group and position. The
// status belongs to the aggregator and is left alone.
func (tx *Tx) UpdateComponent(ctx context.Context, c Component) error {
	if c.GroupID != nil {
		if err := tx.owned(ctx, "component_groups", c.OrgID, c.PageID, *c.GroupID); err != nil {
			return err
		}
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE components SET name = ?, description = ?, group_id = ?, position = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`), c.Name, c.Description, optInt64(c.GroupID), c.Position, now(), c.OrgID, c.ID)
	return oneRowAffected(res, err, "update component", c.ID)
}

// DeleteComponent deletes a component and, by cascade, its checks.
func (tx *Tx) DeleteComponent(ctx context.Context, orgID, id int64) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM components WHERE org_id = ? AND id = ?`), orgID, id)
	return oneRowAffected(res, err, "delete component", id)
}

// CreateCheck inserts c (enabled, state unknown) and returns it with its id.
func (tx *Tx) CreateCheck(ctx context.Context, c Check) (Check, error) {
	if err := tx.owned(ctx, "components", c.OrgID, c.PageID, c.ComponentID); err != nil {
		return Check{}, err
	}
	regions, err := encodeList(c.Regions)
	if err != nil {
		return Check{}, err
	}
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	c.Enabled, c.State = true, "unknown"
	err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO checks (org_id, page_id, component_id, name, url, spec, regions,
		interval_seconds, quorum, confirm_rounds, managed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		c.OrgID, c.PageID, c.ComponentID, c.Name, c.URL, string(c.Spec), regions,
		wholeSeconds(c.Interval), c.Quorum, c.ConfirmRounds, c.Managed, c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	if isUniqueViolation(err) {
		return Check{}, fmt.Errorf("store: check %q: %w", c.Name, ErrConflict)
	}
	if err != nil {
		return Check{}, fmt.Errorf("store: create check %q: %w", c.Name, err)
	}
	return c, nil
}

// UpdateCheckConfig writes c's configuration: component, name, URL, spec,
// regions, interval, quorum and confirm rounds. Enabled and state belong to
// the operator and the aggregator and are left alone.
func (tx *Tx) UpdateCheckConfig(ctx context.Context, c Check) error {
	if err := tx.owned(ctx, "components", c.OrgID, c.PageID, c.ComponentID); err != nil {
		return err
	}
	regions, err := encodeList(c.Regions)
	if err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE checks SET component_id = ?, name = ?, url = ?, spec = ?, regions = ?,
		interval_seconds = ?, quorum = ?, confirm_rounds = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`),
		c.ComponentID, c.Name, c.URL, string(c.Spec), regions, wholeSeconds(c.Interval), c.Quorum, c.ConfirmRounds, now(), c.OrgID, c.ID)
	return oneRowAffected(res, err, "update check", c.ID)
}

// DeleteCheck deletes a check and, by cascade, its results.
func (tx *Tx) DeleteCheck(ctx context.Context, orgID, id int64) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM checks WHERE org_id = ? AND id = ?`), orgID, id)
	return oneRowAffected(res, err, "delete check", id)
}

// owned returns ErrNotFound unless row id of table belongs to orgID (and to
// pageID when it is not 0): a caller can never attach a row to another
// organisation's page, group or component.
func (tx *Tx) owned(ctx context.Context, table string, orgID, pageID, id int64) error {
	switch table { // the table name is never built from input
	case "pages", "component_groups", "components":
	default:
		return fmt.Errorf("store: owned: unknown table %q", table)
	}
	query := `SELECT 1 FROM ` + table + ` WHERE id = ? AND org_id = ?`
	args := []any{id, orgID}
	if pageID != 0 {
		query += ` AND page_id = ?`
		args = append(args, pageID)
	}
	var one int
	err := tx.tx.QueryRowContext(ctx, tx.s.q(query), args...).Scan(&one)
	return notFound(err, table, id)
}

// affectedOne turns an UPDATE or DELETE of one row into ErrNotFound when no
// row of the organisation matched.
func oneRowAffected(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return fmt.Errorf("store: %s %d: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s %d: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s %d: %w", what, id, ErrNotFound)
	}
	return nil
}

func encodeList(list []string) (string, error) {
	if list == nil {
		list = []string{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return "", fmt.Errorf("store: encode list: %w", err)
	}
	return string(b), nil
}

func optString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func optInt64(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

func wholeSeconds(d time.Duration) int64 { return int64(d / time.Second) }

func secondsDuration(n int64) time.Duration { return time.Duration(n) * time.Second }

func optTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}
