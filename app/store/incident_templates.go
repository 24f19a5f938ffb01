package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// IncidentTemplate prefills the incident composer of a page: a title, a
// Markdown body, a status, an impact ("" = derived) and the components'
// statuses.
type IncidentTemplate struct {
	ID         int64
	OrgID      int64
	PageID     int64
	Name       string
	Title      string
	Body       string
	Status     string
	Impact     string
	Components map[int64]string // component id → status
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const templateColumns = `id, org_id, page_id, name, title, body, status, impact, components, created_at, updated_at`

func scanTemplate(row rowScanner) (IncidentTemplate, error) {
	var t IncidentTemplate
	var comps string
	if err := row.Scan(&t.ID, &t.OrgID, &t.PageID, &t.Name, &t.Title, &t.Body, &t.Status, &t.Impact, &comps,
		&t.CreatedAt, &t.UpdatedAt); err != nil {
		return IncidentTemplate{}, err
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(comps), &raw); err != nil {
		return IncidentTemplate{}, fmt.Errorf("template %d components: %w", t.ID, err)
	}
	t.Components = make(map[int64]string, len(raw))
	for k, v := range raw {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return IncidentTemplate{}, fmt.Errorf("template %d component id %q: %w", t.ID, k, err)
		}
		t.Components[id] = v
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

// IncidentTemplates lists a page's templates by name.
func (s *Store) IncidentTemplates(ctx context.Context, orgID, pageID int64) ([]IncidentTemplate, error) {
	return collect(ctx, s.db, "incident templates", scanTemplate, s.q(`SELECT `+templateColumns+`
		FROM incident_templates WHERE org_id = ? AND page_id = ? ORDER BY name, id`), orgID, pageID)
}

// IncidentTemplate returns one of the organisation's templates.
func (s *Store) IncidentTemplate(ctx context.Context, orgID, id int64) (IncidentTemplate, error) {
	t, err := scanTemplate(s.db.QueryRowContext(ctx, s.q(`SELECT `+templateColumns+`
		FROM incident_templates WHERE org_id = ? AND id = ?`), orgID, id))
	return t, notFound(err, "incident template", id)
}

// SaveIncidentTemplate creates (ID 0) or updates a template of the
// organisation's page, audited, and returns it as stored. Its components
// must be on the page; a name already used on the page is ErrConflict.
func (s *Store) SaveIncidentTemplate(ctx context.Context, orgID int64, actor Actor, t IncidentTemplate) (IncidentTemplate, error) {
	if t.Name == "" {
		return IncidentTemplate{}, invalid("name", "a template needs a name")
	}
	if t.Status == "" {
		t.Status = IncidentInvestigating
	}
	if !validWrittenStatus(t.Status) {
		return IncidentTemplate{}, statusError(t.Status)
	}
	if t.Impact != "" && !validImpact(t.Impact) {
		return IncidentTemplate{}, impactError(t.Impact)
	}
	raw := make(map[string]string, len(t.Components))
	for id, st := range t.Components {
		if !ValidComponentStatus(st) {
			return IncidentTemplate{}, invalid("components", "component %d: unknown status %q", id, st)
		}
		raw[strconv.FormatInt(id, 10)] = st
	}
	comps, err := jsonText(raw)
	if err != nil {
		return IncidentTemplate{}, err
	}
	var id int64
	err = s.InTx(ctx, func(tx *Tx) error {
		if err := tx.owned(ctx, "pages", orgID, 0, t.PageID); err != nil {
			return err
		}
		for cid := range t.Components {
			if err := tx.owned(ctx, "components", orgID, t.PageID, cid); err != nil {
				return err
			}
		}
		at := now()
		action := "incident_template.update"
		if t.ID == 0 {
			action = "incident_template.create"
			err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO incident_templates (org_id, page_id, name, title, body, status,
				impact, components, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
				orgID, t.PageID, t.Name, t.Title, t.Body, t.Status, t.Impact, comps, at, at).Scan(&id)
		} else {
			id = t.ID
			res, uerr := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incident_templates SET page_id = ?, name = ?, title = ?, body = ?,
				status = ?, impact = ?, components = ?, updated_at = ? WHERE org_id = ? AND id = ?`),
				t.PageID, t.Name, t.Title, t.Body, t.Status, t.Impact, comps, at, orgID, t.ID)
			err = oneRowAffected(res, uerr, "update incident template", t.ID)
		}
		if isUniqueViolation(err) {
			return fmt.Errorf("store: incident template %q: %w", t.Name, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store: save incident template %q: %w", t.Name, err)
		}
		return tx.Audit(ctx, orgID, actor, action, fmt.Sprintf("incident template %d", id), map[string]any{"name": t.Name})
	})
	if err != nil {
		return IncidentTemplate{}, err
	}
	return s.IncidentTemplate(ctx, orgID, id)
}

// DeleteIncidentTemplate deletes one of the organisation's templates,
// audited with its name.
func (s *Store) DeleteIncidentTemplate(ctx context.Context, orgID int64, actor Actor, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var name string
		err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT name FROM incident_templates WHERE org_id = ? AND id = ?`), orgID, id).Scan(&name)
		if err != nil {
			return notFound(err, "incident template", id)
		}
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM incident_templates WHERE org_id = ? AND id = ?`), orgID, id)
		if err := oneRowAffected(res, err, "delete incident template", id); err != nil {
			return err
		}
		return tx.Audit(ctx, orgID, actor, "incident_template.delete", fmt.Sprintf("incident template %d", id), map[string]any{"name": name})
	})
}
