package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Changes to an existing incident: updates on its timeline, edits of an
// update's text, the postmortem, deletion, and the publishing or discarding
// of automatic drafts. Each is one transaction with its audit row and, when
// subscribers may hear of it, its outbox event.

// incidentRow is what a write needs to know of an incident.
type incidentRow struct {
	id, pageID                             int64
	slug, name, status, impact, postmortem string
	draft, resolved                        bool
}

func (r incidentRow) written(updateID int64) IncidentWritten {
	return IncidentWritten{IncidentID: r.id, UpdateID: updateID, PageID: r.pageID, PageSlug: r.slug}
}

// incident reads one of the organisation's incidents, or ErrNotFound.
func (tx *Tx) incident(ctx context.Context, orgID, id int64) (incidentRow, error) {
	r := incidentRow{id: id}
	var resolved sql.NullTime
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT i.page_id, p.slug, i.name, i.status, i.impact, i.postmortem, i.draft, i.resolved_at
		FROM incidents i JOIN pages p ON p.id = i.page_id AND p.org_id = i.org_id
		WHERE i.org_id = ? AND i.id = ?`), orgID, id).
		Scan(&r.pageID, &r.slug, &r.name, &r.status, &r.impact, &r.postmortem, &r.draft, &resolved)
	r.resolved = resolved.Valid
	return r, notFound(err, "incident", id)
}

// AddIncidentUpdate changes an incident: a status, a body or component
// statuses add an update recording old → new for each component (the old
// being its status at that moment); monitoring stamps monitoring_at,
// resolving stamps resolved_at (and any other status reopens it). Name and
// Impact edit the incident. Subscribers hear of it through incident.updated
// or incident.resolved, unless the incident is an unpublished draft.
func (s *Store) AddIncidentUpdate(ctx context.Context, orgID int64, actor Actor, incidentID int64, in IncidentChangeInput) (IncidentWritten, error) {
	if in.Status != "" && !validWrittenStatus(in.Status) {
		return IncidentWritten{}, statusError(in.Status)
	}
	if in.Impact != "" && !validImpact(in.Impact) {
		return IncidentWritten{}, impactError(in.Impact)
	}
	if err := validateComponents(in.Components); err != nil {
		return IncidentWritten{}, err
	}
	var w IncidentWritten
	err := s.InTx(ctx, func(tx *Tx) error {
		cur, err := tx.incident(ctx, orgID, incidentID)
		if err != nil {
			return err
		}
		w = cur.written(0)
		at := now()
		name, status, impact := cur.name, cur.status, cur.impact
		if in.Name != "" {
			name = in.Name
		}
		if in.Status != "" {
			status = in.Status
		}
		var affected []AffectedComponent
		addsUpdate := in.Status != "" || in.Body != "" || len(in.Components) > 0
		if !addsUpdate && name == cur.name && (in.Impact == "" || in.Impact == impact) {
			return nil // nothing to change, nothing to audit
		}
		if addsUpdate {
			u := writtenUpdate{status: status, body: in.Body, deliver: in.DeliverNotifications, displayAt: at,
				components: in.Components, actor: actor, at: at}
			if affected, err = tx.addWrittenUpdate(ctx, orgID, cur.pageID, cur.id, &u); err != nil {
				return err
			}
			w.UpdateID = u.id
		}
		if in.Impact != "" {
			impact = in.Impact
		} else if len(affected) > 0 {
			statuses := make([]string, len(affected))
			for i, a := range affected {
				statuses[i] = a.NewStatus
			}
			if d := DerivedImpact(statuses); impactRank(d) > impactRank(impact) {
				impact = d
			}
		}
		closed := status == IncidentResolved || status == IncidentPostmortem
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incidents SET name = ?, status = ?, impact = ?, updated_at = ?,
			monitoring_at = CASE WHEN ? AND monitoring_at IS NULL THEN ? ELSE monitoring_at END,
			resolved_at = CASE WHEN ? THEN COALESCE(resolved_at, ?) ELSE NULL END
			WHERE org_id = ? AND id = ?`),
			name, status, impact, at, status == IncidentMonitoring, at, closed, at, orgID, cur.id)
		if isUniqueViolation(err) { // reopening an automatic incident whose check has another open one
			return fmt.Errorf("store: reopen incident %d: %w", cur.id, ErrConflict)
		}
		if err := oneRowAffected(res, err, "update incident", cur.id); err != nil {
			return err
		}
		if err := tx.Audit(ctx, orgID, actor, "incident.update", incidentTarget(cur.id), map[string]any{
			"update_id": w.UpdateID, "name": name, "status": status, "impact": impact,
			"old_name": cur.name, "old_status": cur.status, "old_impact": cur.impact}); err != nil {
			return err
		}
		if !addsUpdate || cur.draft {
			return nil
		}
		kind := EventIncidentUpdated
		if status == IncidentResolved && !cur.resolved {
			kind = EventIncidentResolved
		}
		return tx.queueIncidentEvents(ctx, orgID, kind, w, incidentEvent{name: name, status: status, impact: impact,
			body: in.Body, deliver: in.DeliverNotifications, affected: affected, at: at})
	})
	if err != nil {
		return IncidentWritten{}, err
	}
	return w, nil
}

// EditUpdateBody corrects the text of one of an incident's updates,
// stamping edited_at; the audit row keeps the old and the new text.
// Subscribers are not told again.
func (s *Store) EditUpdateBody(ctx context.Context, orgID int64, actor Actor, incidentID, updateID int64, body string) (IncidentWritten, error) {
	var w IncidentWritten
	err := s.InTx(ctx, func(tx *Tx) error {
		cur, err := tx.incident(ctx, orgID, incidentID)
		if err != nil {
			return err
		}
		w = cur.written(updateID)
		var old string
		err = tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT body FROM incident_updates WHERE org_id = ? AND incident_id = ? AND id = ?`),
			orgID, incidentID, updateID).Scan(&old)
		if err != nil {
			return notFound(err, "incident update", updateID)
		}
		at := now()
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incident_updates SET body = ?, edited_at = ?, updated_at = ?
			WHERE org_id = ? AND incident_id = ? AND id = ?`), body, at, at, orgID, incidentID, updateID)
		if err := oneRowAffected(res, err, "edit incident update", updateID); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incidents SET updated_at = ? WHERE org_id = ? AND id = ?`),
			at, orgID, incidentID); err != nil {
			return fmt.Errorf("store: touch incident %d: %w", incidentID, err)
		}
		return tx.Audit(ctx, orgID, actor, "incident.update.edit", incidentTarget(incidentID),
			map[string]any{"update_id": updateID, "old_body": old, "new_body": body})
	})
	if err != nil {
		return IncidentWritten{}, err
	}
	return w, nil
}

// SetPostmortem publishes (or replaces) a resolved incident's postmortem
// and moves it to status postmortem; the first one queues
// incident.postmortem.
func (s *Store) SetPostmortem(ctx context.Context, orgID int64, actor Actor, incidentID int64, body string, deliver bool) (IncidentWritten, error) {
	if body == "" {
		return IncidentWritten{}, invalid("postmortem", "a postmortem needs a text")
	}
	var w IncidentWritten
	err := s.InTx(ctx, func(tx *Tx) error {
		cur, err := tx.incident(ctx, orgID, incidentID)
		if err != nil {
			return err
		}
		if !cur.resolved {
			return invalid("status", "incident %d is not resolved: a postmortem follows the resolution", incidentID)
		}
		w = cur.written(0)
		at := now()
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incidents SET postmortem = ?, status = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`), body, IncidentPostmortem, at, orgID, incidentID)
		if err := oneRowAffected(res, err, "set postmortem of incident", incidentID); err != nil {
			return err
		}
		if err := tx.Audit(ctx, orgID, actor, "incident.postmortem", incidentTarget(incidentID),
			map[string]any{"old_body": cur.postmortem, "new_body": body}); err != nil {
			return err
		}
		if cur.draft {
			return nil
		}
		return tx.queueIncidentEvents(ctx, orgID, EventIncidentPostmortem, w, incidentEvent{name: cur.name,
			status: IncidentPostmortem, impact: cur.impact, body: body, deliver: deliver, at: at})
	})
	if err != nil {
		return IncidentWritten{}, err
	}
	return w, nil
}

// DeleteIncident removes an incident with its updates and component
// history; the audit row keeps its name. Component statuses stay as they
// are.
func (s *Store) DeleteIncident(ctx context.Context, orgID int64, actor Actor, incidentID int64) (IncidentWritten, error) {
	return s.removeIncident(ctx, orgID, actor, incidentID, false)
}

// DiscardDraft deletes an automatic draft nobody published; a published
// incident is ErrNotFound here.
func (s *Store) DiscardDraft(ctx context.Context, orgID int64, actor Actor, incidentID int64) (IncidentWritten, error) {
	return s.removeIncident(ctx, orgID, actor, incidentID, true)
}

func (s *Store) removeIncident(ctx context.Context, orgID int64, actor Actor, incidentID int64, draftOnly bool) (IncidentWritten, error) {
	var w IncidentWritten
	err := s.InTx(ctx, func(tx *Tx) error {
		cur, err := tx.incident(ctx, orgID, incidentID)
		if err != nil {
			return err
		}
		if draftOnly && !cur.draft {
			return fmt.Errorf("store: draft incident %d: %w", incidentID, ErrNotFound)
		}
		w = cur.written(0)
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM incidents WHERE org_id = ? AND id = ?`), orgID, incidentID)
		if err := oneRowAffected(res, err, "delete incident", incidentID); err != nil {
			return err
		}
		action := "incident.delete"
		if draftOnly {
			action = "incident.draft.discard"
		}
		return tx.Audit(ctx, orgID, actor, action, incidentTarget(incidentID),
			map[string]any{"name": cur.name, "status": cur.status, "page": cur.slug})
	})
	if err != nil {
		return IncidentWritten{}, err
	}
	return w, nil
}

// PublishDraft makes an automatic draft public and queues incident.created
// with its latest update, so subscribers hear of it now.
func (s *Store) PublishDraft(ctx context.Context, orgID int64, actor Actor, incidentID int64) (IncidentWritten, error) {
	var w IncidentWritten
	err := s.InTx(ctx, func(tx *Tx) error {
		cur, err := tx.incident(ctx, orgID, incidentID)
		if err != nil {
			return err
		}
		if !cur.draft {
			return fmt.Errorf("store: draft incident %d: %w", incidentID, ErrNotFound)
		}
		at := now()
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incidents SET draft = FALSE, updated_at = ? WHERE org_id = ? AND id = ?`),
			at, orgID, incidentID)
		if err := oneRowAffected(res, err, "publish incident", incidentID); err != nil {
			return err
		}
		var updateID sql.NullInt64
		var body sql.NullString
		err = tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT id, body FROM incident_updates WHERE org_id = ? AND incident_id = ?
			ORDER BY display_at DESC, id DESC LIMIT 1`), orgID, incidentID).Scan(&updateID, &body)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("store: latest update of incident %d: %w", incidentID, err)
		}
		w = cur.written(updateID.Int64)
		affected, err := tx.incidentComponents(ctx, orgID, incidentID)
		if err != nil {
			return err
		}
		if err := tx.Audit(ctx, orgID, actor, "incident.draft.publish", incidentTarget(incidentID),
			map[string]any{"name": cur.name}); err != nil {
			return err
		}
		kind := EventIncidentCreated
		if cur.resolved {
			kind = EventIncidentResolved
		}
		// Components were set when the aggregator opened the draft: the
		// event lists them, but no component.updated is queued now.
		return tx.queueIncidentEvents(ctx, orgID, kind, w, incidentEvent{name: cur.name, status: cur.status,
			impact: cur.impact, body: body.String, deliver: true, affected: affected, componentsAlreadyTold: true, at: at})
	})
	if err != nil {
		return IncidentWritten{}, err
	}
	return w, nil
}

// incidentComponents is the incident's current link per component.
func (tx *Tx) incidentComponents(ctx context.Context, orgID, incidentID int64) ([]AffectedComponent, error) {
	return collect(ctx, tx.tx, "incident components", func(row rowScanner) (AffectedComponent, error) {
		var a AffectedComponent
		var update sql.NullInt64
		err := row.Scan(&a.ComponentID, &update, &a.Name, &a.OldStatus, &a.NewStatus)
		a.UpdateID = update.Int64
		return a, err
	}, tx.s.q(`SELECT ic.component_id, ic.update_id, c.name, ic.old_status, ic.new_status
		FROM incident_components ic JOIN components c ON c.id = ic.component_id AND c.org_id = ic.org_id
		WHERE ic.org_id = ? AND ic.incident_id = ? ORDER BY c.position, c.id`), orgID, incidentID)
}
