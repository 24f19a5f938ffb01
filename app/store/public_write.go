package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Writes that set up what the public page shows: complete incidents as
// given (fixtures, seeding, imports) and rollups. The live pipeline writes
// through the aggregator's methods instead.

// IncidentRecord is a complete incident to insert: its updates oldest
// first, and the components it affected.
type IncidentRecord struct {
	OrgID        int64
	PageID       int64
	Name         string
	Status       string
	Impact       string
	Postmortem   string
	StartedAt    time.Time
	MonitoringAt *time.Time
	ResolvedAt   *time.Time
	Updates      []UpdateRecord
	Components   []AffectedComponent // UpdateID is ignored: linked to the last update
}

// UpdateRecord is one update of an IncidentRecord.
type UpdateRecord struct {
	Status    string
	Body      string
	DisplayAt time.Time
}

// InsertIncident writes an incident with its updates and component links in
// one transaction and returns its id. created_at is StartedAt; updated_at is
// the last update's time.
func (s *Store) InsertIncident(ctx context.Context, r IncidentRecord) (int64, error) {
	started := r.StartedAt.UTC()
	updated := started
	for _, u := range r.Updates {
		if u.DisplayAt.After(updated) {
			updated = u.DisplayAt.UTC()
		}
	}
	var id int64
	err := s.InTx(ctx, func(tx *Tx) error {
		if err := tx.owned(ctx, "pages", r.OrgID, 0, r.PageID); err != nil {
			return err
		}
		err := tx.tx.QueryRowContext(ctx, s.q(`INSERT INTO incidents (org_id, page_id, name, status, impact, postmortem,
			started_at, monitoring_at, resolved_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			r.OrgID, r.PageID, r.Name, r.Status, r.Impact, r.Postmortem, started, optTime(r.MonitoringAt), optTime(r.ResolvedAt),
			started, updated).Scan(&id)
		if err != nil {
			return fmt.Errorf("store: insert incident %q: %w", r.Name, err)
		}
		var last sql.NullInt64
		for _, u := range r.Updates {
			at := u.DisplayAt.UTC()
			if err := tx.tx.QueryRowContext(ctx, s.q(`INSERT INTO incident_updates (org_id, incident_id, status, body,
				deliver_notifications, display_at, created_at, updated_at) VALUES (?, ?, ?, ?, TRUE, ?, ?, ?) RETURNING id`),
				r.OrgID, id, u.Status, u.Body, at, at, at).Scan(&last.Int64); err != nil {
				return fmt.Errorf("store: insert update of incident %d: %w", id, err)
			}
			last.Valid = true
		}
		for _, c := range r.Components {
			if err := tx.owned(ctx, "components", r.OrgID, r.PageID, c.ComponentID); err != nil {
				return err
			}
			if err := tx.linkComponent(ctx, r.OrgID, id, last.Int64, c); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// PutRollups upserts daily rollups as given (seeding and tests; the
// housekeeper computes real ones with RollupDay).
func (s *Store) PutRollups(ctx context.Context, rollups []Rollup) error {
	return s.InTx(ctx, func(tx *Tx) error {
		for _, r := range rollups {
			if err := s.putRollup(ctx, tx.tx, r); err != nil {
				return fmt.Errorf("store: put rollup of check %d on %s: %w", r.CheckID, r.Day.Format(dayLayout), err)
			}
		}
		return nil
	})
}

// SetComponentStatus sets one component's status (tests and seeding; the
// aggregator owns statuses in production).
func (s *Store) SetComponentStatus(ctx context.Context, orgID, id int64, status string, at time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		_, err := tx.SetComponentStatuses(ctx, []StateChange{{OrgID: orgID, ID: id, State: status, At: at}})
		return err
	})
}
