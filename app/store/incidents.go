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

// OpenIncident is an automatic incident that is not resolved yet: the one
// of its component.
type OpenIncident struct {
	ID             int64
	OrgID          int64
	PageID         int64
	ComponentID    int64
	CheckID        int64 // the check that opened it; 0 when deleted
	Name           string
	Status         string
	Impact         string
	Draft          bool
	StartedAt      time.Time
	AcknowledgedAt *time.Time
	LastAlertAt    *time.Time
	// AutoState is the aggregator's record of what the component's checks
	// reported (JSON, "" for an incident of the per-check era).
	AutoState string
}

// Same reports whether in and o are the same incident in the same state.
func (in OpenIncident) Same(o OpenIncident) bool {
	sameTime := func(a, b *time.Time) bool { return a == nil && b == nil || a != nil && b != nil && a.Equal(*b) }
	return in.ID == o.ID && in.OrgID == o.OrgID && in.PageID == o.PageID && in.ComponentID == o.ComponentID &&
		in.CheckID == o.CheckID && in.Name == o.Name && in.Status == o.Status && in.Impact == o.Impact &&
		in.Draft == o.Draft && in.StartedAt.Equal(o.StartedAt) && sameTime(in.AcknowledgedAt, o.AcknowledgedAt) &&
		sameTime(in.LastAlertAt, o.LastAlertAt) && in.AutoState == o.AutoState
}

// OpenAutomaticIncidents returns the open automatic incident of each of the
// given components (organisation id → component ids) that has one, keyed by
// component id. It locks nothing: most batches of a component in trouble
// change nothing of its incident, and those that do lock it first
// (LockAutomaticIncident) and look again.
func (tx *Tx) OpenAutomaticIncidents(ctx context.Context, ids map[int64][]int64) (map[int64]OpenIncident, error) {
	return tx.openAutomaticIncidents(ctx, ids, false)
}

// LockAutomaticIncident returns the open automatic incident of a
// component, if it has one. On PostgreSQL its row stays locked until the
// transaction ends, so aggregators writing to the incident of one
// component from different shards take turns, each seeing what the one
// before wrote; on SQLite a writing transaction is alone anyway.
func (tx *Tx) LockAutomaticIncident(ctx context.Context, orgID, componentID int64) (OpenIncident, bool, error) {
	open, err := tx.openAutomaticIncidents(ctx, map[int64][]int64{orgID: {componentID}}, true)
	in, ok := open[componentID]
	return in, ok, err
}

func (tx *Tx) openAutomaticIncidents(ctx context.Context, ids map[int64][]int64, locked bool) (map[int64]OpenIncident, error) {
	out := map[int64]OpenIncident{}
	lock := ""
	if locked && tx.s.dialect == Postgres {
		lock = " ORDER BY id FOR UPDATE"
	}
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		in, args := tx.s.anyOf("component_id", orgID, chunk)
		rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT id, org_id, page_id, component_id, check_id, name, status, impact,
			draft, started_at, acknowledged_at, last_alert_at, auto_state FROM incidents
			WHERE org_id = ? AND `+in+` AND automatic AND resolved_at IS NULL`+lock), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var in OpenIncident
			var check sql.NullInt64
			var ack, alert sql.NullTime
			if err := rows.Scan(&in.ID, &in.OrgID, &in.PageID, &in.ComponentID, &check, &in.Name, &in.Status, &in.Impact,
				&in.Draft, &in.StartedAt, &ack, &alert, &in.AutoState); err != nil {
				return err
			}
			in.CheckID = check.Int64
			in.StartedAt, in.AcknowledgedAt, in.LastAlertAt = in.StartedAt.UTC(), nullTime(ack), nullTime(alert)
			out[in.ComponentID] = in
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: open automatic incidents: %w", err)
	}
	return out, nil
}

// IncidentChange is one step of a component's automatic incident: its
// opening, a change of impact or of problems, a repeat or its resolution,
// with the update row that tells the public what happened.
type IncidentChange struct {
	OrgID       int64
	PageID      int64
	ComponentID int64
	// CheckID is the check whose verdict opened the incident (0: none).
	CheckID int64
	// IncidentID is 0 to open a new incident.
	IncidentID int64
	// Name is the incident's title; on an update "" keeps the current one.
	Name   string
	Status string // the incident's status after the change
	Impact string
	// Draft opens the incident as a draft, invisible to the public until an
	// editor publishes it (the page's auto_incidents: draft).
	Draft bool
	Body  string // the update's public text (Markdown)
	// Technical is the update's console-only detail.
	Technical string
	// AutoState is the aggregator's new record of the component's checks
	// (JSON); "" on an update keeps the current one.
	AutoState string
	// OldComponentStatus and NewComponentStatus record what the change did
	// to the component.
	OldComponentStatus string
	NewComponentStatus string
	// Alert marks a change that alerts (opening, worsening, repeat): the
	// incident's last alert time moves to At.
	Alert bool
	At    time.Time
}

// ApplyIncidentChange opens (IncidentID 0), updates or resolves (Status
// resolved) a component's automatic incident and adds its update row,
// returning the incident and update ids. Opening fails with ErrConflict,
// leaving the transaction usable, when the component already has an open
// automatic incident (another aggregator opened it first).
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
	check := sql.NullInt64{Int64: c.CheckID, Valid: c.CheckID != 0}
	incidentID = c.IncidentID
	if incidentID == 0 {
		ids, err := tx.queryInt64s(ctx, tx.s.q(`INSERT INTO incidents (org_id, page_id, component_id, check_id, name, status,
			impact, draft, started_at, resolved_at, created_at, updated_at, automatic, last_alert_at, auto_state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?)
			ON CONFLICT (component_id) WHERE automatic AND resolved_at IS NULL DO NOTHING RETURNING id`),
			c.OrgID, c.PageID, c.ComponentID, check, c.Name, c.Status, c.Impact, c.Draft, at, resolvedAt, at, at, alertAt, c.AutoState)
		if err != nil {
			return 0, 0, fmt.Errorf("store: open incident for component %d: %w", c.ComponentID, err)
		}
		if len(ids) == 0 {
			return 0, 0, fmt.Errorf("store: open incident for component %d: %w", c.ComponentID, ErrConflict)
		}
		incidentID = ids[0]
	} else {
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incidents SET status = ?, impact = ?, updated_at = ?,
			resolved_at = COALESCE(resolved_at, ?), last_alert_at = COALESCE(?, last_alert_at),
			name = COALESCE(NULLIF(?, ''), name), auto_state = COALESCE(NULLIF(?, ''), auto_state)
			WHERE org_id = ? AND id = ? AND automatic`),
			c.Status, c.Impact, at, resolvedAt, alertAt, c.Name, c.AutoState, c.OrgID, incidentID)
		if err := oneRowAffected(res, err, "update incident", incidentID); err != nil {
			return 0, 0, err
		}
	}
	if c.Body == "" { // a repeat adds no public update
		return incidentID, 0, nil
	}
	err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO incident_updates (org_id, incident_id, status, body, technical,
		deliver_notifications, display_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, TRUE, ?, ?, ?) RETURNING id`),
		c.OrgID, incidentID, c.Status, c.Body, c.Technical, at, at, at).Scan(&updateID)
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
	err := tx.s.eachChunk(len(events), cols, `INSERT INTO outbox (org_id, kind, idempotency_key, payload, created_at) VALUES `,
		` ON CONFLICT (idempotency_key) DO NOTHING`, func(start, end int, query string) error {
			args := make([]any, 0, (end-start)*cols)
			for _, e := range events[start:end] {
				payload, err := jsonText(e.Payload)
				if err != nil {
					return err
				}
				at := e.At
				if at.IsZero() {
					at = now()
				}
				args = append(args, e.OrgID, e.Kind, e.IdempotencyKey, payload, at.UTC())
			}
			res, err := tx.tx.ExecContext(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("store: add outbox events: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("store: add outbox events: %w", err)
			}
			added += int(n)
			return nil
		})
	if err != nil {
		return added, err
	}
	if added > 0 {
		tx.wroteOutbox = true
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
