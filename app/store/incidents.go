package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Automatic incidents (opened, changed and resolved by the aggregator) and
// the outbox those transitions write to, always inside the caller's
// transaction so that a state change and its notifications commit together.

// Incident statuses (Statuspage's vocabulary).
const (
	IncidentInvestigating = "investigating"
	IncidentIdentified    = "identified"
	IncidentMonitoring    = "monitoring"
	IncidentResolved      = "resolved"
	IncidentPostmortem    = "postmortem"
)

// OpenIncident is an automatic incident that is not resolved yet.
type OpenIncident struct {
	ID             int64
	OrgID          int64
	PageID         int64
	CheckID        int64
	Name           string
	Status         string
	Impact         string
	StartedAt      time.Time
	AcknowledgedAt *time.Time
	LastAlertAt    *time.Time
}

// OpenAutomaticIncidents returns the open automatic incident of each of the
// given checks (organisation id → check ids) that has one, keyed by check id.
func (tx *Tx) OpenAutomaticIncidents(ctx context.Context, ids map[int64][]int64) (map[int64]OpenIncident, error) {
	out := map[int64]OpenIncident{}
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT id, org_id, page_id, check_id, name, status, impact, started_at,
			acknowledged_at, last_alert_at FROM incidents
			WHERE org_id = ? AND check_id IN (`+placeholders(len(chunk))+`) AND automatic AND resolved_at IS NULL`), orgArgs(orgID, chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var in OpenIncident
			var ack, alert sql.NullTime
			if err := rows.Scan(&in.ID, &in.OrgID, &in.PageID, &in.CheckID, &in.Name, &in.Status, &in.Impact, &in.StartedAt, &ack, &alert); err != nil {
				return err
			}
			in.StartedAt, in.AcknowledgedAt, in.LastAlertAt = in.StartedAt.UTC(), nullTime(ack), nullTime(alert)
			out[in.CheckID] = in
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: open automatic incidents: %w", err)
	}
	return out, nil
}

// IncidentChange is one step of an automatic incident: its opening, a
// change of impact, a repeat or its resolution, with the update row that
// tells the public what happened.
type IncidentChange struct {
	OrgID       int64
	PageID      int64
	CheckID     int64
	ComponentID int64
	// IncidentID is 0 to open a new incident.
	IncidentID int64
	Name       string // the new incident's title
	Status     string // the incident's status after the change
	Impact     string
	Body       string // the update's text (Markdown)
	// OldComponentStatus and NewComponentStatus record what the change did
	// to the check's component.
	OldComponentStatus string
	NewComponentStatus string
	// Alert marks a change that alerts (opening, worsening, repeat): the
	// incident's last alert time moves to At.
	Alert bool
	At    time.Time
}

// ApplyIncidentChange opens (IncidentID 0), updates or resolves (Status
// resolved) an automatic incident and adds its update row, returning the
// incident and update ids. Opening fails with ErrConflict when the check
// already has an open automatic incident.
func (tx *Tx) ApplyIncidentChange(ctx context.Context, c IncidentChange) (incidentID, updateID int64, err error) {
	at := c.At.UTC()
	var alertAt sql.NullTime
	if c.Alert {
		alertAt = sql.NullTime{Time: at, Valid: true}
	}
	var resolvedAt sql.NullTime
	if c.Status == IncidentResolved {
		resolvedAt = sql.NullTime{Time: at, Valid: true}
	}
	incidentID = c.IncidentID
	if incidentID == 0 {
		err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO incidents (org_id, page_id, check_id, name, status, impact,
			started_at, resolved_at, created_at, updated_at, automatic, last_alert_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?) RETURNING id`),
			c.OrgID, c.PageID, c.CheckID, c.Name, c.Status, c.Impact, at, resolvedAt, at, at, alertAt).Scan(&incidentID)
		if isUniqueViolation(err) {
			return 0, 0, fmt.Errorf("store: open incident for check %d: %w", c.CheckID, ErrConflict)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("store: open incident for check %d: %w", c.CheckID, err)
		}
	} else {
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incidents SET status = ?, impact = ?, updated_at = ?,
			resolved_at = COALESCE(resolved_at, ?), last_alert_at = COALESCE(?, last_alert_at)
			WHERE org_id = ? AND id = ? AND automatic`),
			c.Status, c.Impact, at, resolvedAt, alertAt, c.OrgID, incidentID)
		if err := oneRowAffected(res, err, "update incident", incidentID); err != nil {
			return 0, 0, err
		}
	}
	if c.Body == "" { // a repeat adds no public update
		return incidentID, 0, nil
	}
	err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO incident_updates (org_id, incident_id, status, body,
		deliver_notifications, display_at, created_at, updated_at) VALUES (?, ?, ?, ?, TRUE, ?, ?, ?) RETURNING id`),
		c.OrgID, incidentID, c.Status, c.Body, at, at, at).Scan(&updateID)
	if err != nil {
		return 0, 0, fmt.Errorf("store: add update to incident %d: %w", incidentID, err)
	}
	if c.ComponentID == 0 {
		return incidentID, updateID, nil
	}
	a := AffectedComponent{ComponentID: c.ComponentID, OldStatus: c.OldComponentStatus, NewStatus: c.NewComponentStatus}
	if err := tx.linkComponent(ctx, c.OrgID, incidentID, updateID, a); err != nil {
		return 0, 0, err
	}
	return incidentID, updateID, nil
}

// linkComponent records what an update did to a component: for ever in
// incident_update_components, and as the incident's current link in
// incident_components (whose old status stays the one before the
// incident). updateID 0 links the incident alone.
func (tx *Tx) linkComponent(ctx context.Context, orgID, incidentID, updateID int64, a AffectedComponent) error {
	update := sql.NullInt64{Int64: updateID, Valid: updateID != 0}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO incident_components (org_id, incident_id, update_id, component_id,
		old_status, new_status) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id, component_id) DO UPDATE SET update_id = excluded.update_id, new_status = excluded.new_status`),
		orgID, incidentID, update, a.ComponentID, a.OldStatus, a.NewStatus); err != nil {
		return fmt.Errorf("store: link incident %d to component %d: %w", incidentID, a.ComponentID, err)
	}
	if updateID == 0 {
		return nil
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO incident_update_components (org_id, update_id, component_id,
		old_status, new_status) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (update_id, component_id) DO UPDATE SET old_status = excluded.old_status, new_status = excluded.new_status`),
		orgID, updateID, a.ComponentID, a.OldStatus, a.NewStatus); err != nil {
		return fmt.Errorf("store: record update %d of component %d: %w", updateID, a.ComponentID, err)
	}
	return nil
}

// OutboxEvent is a notification-worthy event for the notifier, written in
// the transaction that caused it. IdempotencyKey is derived from the ids of
// what happened, so a replayed transition never writes a second event.
type OutboxEvent struct {
	OrgID          int64
	Kind           string
	IdempotencyKey string
	Payload        any // marshalled to JSON
	At             time.Time
}

// AddOutbox writes events, skipping any whose idempotency key is already
// there, and reports how many were new.
func (tx *Tx) AddOutbox(ctx context.Context, events []OutboxEvent) (int, error) {
	const cols = 5
	added := 0
	for start := 0; start < len(events); {
		end := min(len(events), start+maxBulkParams/cols)
		args := make([]any, 0, (end-start)*cols)
		for _, e := range events[start:end] {
			payload, err := jsonText(e.Payload)
			if err != nil {
				return added, err
			}
			at := e.At
			if at.IsZero() {
				at = now()
			}
			args = append(args, e.OrgID, e.Kind, e.IdempotencyKey, payload, at.UTC())
		}
		query := tx.s.bulk(`INSERT INTO outbox (org_id, kind, idempotency_key, payload, created_at) VALUES `,
			cols, end-start, ` ON CONFLICT (idempotency_key) DO NOTHING`)
		res, err := tx.tx.ExecContext(ctx, query, args...)
		if err != nil {
			return added, fmt.Errorf("store: add outbox events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return added, fmt.Errorf("store: add outbox events: %w", err)
		}
		added += int(n)
		start = end
	}
	return added, nil
}

// AlertRepeatEvery is the organisation's repeat interval for alerts that
// keep firing: the shortest positive repeat of its enabled alert channels,
// 0 when none repeats.
func (tx *Tx) AlertRepeatEvery(ctx context.Context, orgID int64) (time.Duration, error) {
	var secs sql.NullInt64
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT MIN(repeat_seconds) FROM alert_channels
		WHERE org_id = ? AND enabled AND repeat_seconds > 0`), orgID).Scan(&secs)
	if err != nil {
		return 0, fmt.Errorf("store: alert repeat interval: %w", err)
	}
	return secondsDuration(secs.Int64), nil
}
