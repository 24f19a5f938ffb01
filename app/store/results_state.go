package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"pharos/app/incident"
)

// The aggregator's judgements: check states, component statuses and region
// health. Writes happen only on a change, so a steady batch costs nothing
// here.

// StateChange is a new state for one check or a new status for one
// component.
type StateChange struct {
	OrgID int64
	ID    int64
	State string
	At    time.Time
}

// SetCheckStates writes new check states, stamping state_changed_at.
func (tx *Tx) SetCheckStates(ctx context.Context, changes []StateChange) error {
	sort.Slice(changes, func(i, j int) bool { return changes[i].ID < changes[j].ID })
	for _, c := range changes {
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE checks SET state = ?, state_changed_at = ?
			WHERE org_id = ? AND id = ? AND state <> ?`), c.State, c.At.UTC(), c.OrgID, c.ID, c.State); err != nil {
			return fmt.Errorf("store: set state of check %d: %w", c.ID, err)
		}
	}
	return nil
}

// ComponentCheckStates returns the distinct states of the enabled checks
// of the given components (organisation id → component ids), keyed by
// component: what incident.ComponentStatus needs, as a component's status
// depends on which states its checks are in, not on how many are in each.
//
// The states are found one after another in the index of enabled checks
// by component and state (migration 0027), each the least above the one
// before: a seek per state and component, so a component of 10,000 checks
// costs as little as one of ten.
func (tx *Tx) ComponentCheckStates(ctx context.Context, ids map[int64][]int64) (map[int64][]incident.State, error) {
	out := map[int64][]incident.State{}
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		list, arg := tx.s.idRows(chunk)
		rows, err := tx.tx.QueryContext(ctx, tx.s.q(`WITH RECURSIVE s (component_id, state) AS (
				SELECT c.id, (SELECT MIN(state) FROM checks WHERE org_id = ? AND component_id = c.id AND enabled)
				FROM `+list+` AS c
				UNION ALL
				SELECT s.component_id, (SELECT MIN(state) FROM checks
					WHERE org_id = ? AND component_id = s.component_id AND enabled AND state > s.state)
				FROM s WHERE s.state IS NOT NULL)
			SELECT component_id, state FROM s WHERE state IS NOT NULL`), orgID, arg, orgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var state string
			if err := rows.Scan(&id, &state); err != nil {
				return err
			}
			out[id] = append(out[id], incident.State(state))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: component check states: %w", err)
	}
	return out, nil
}

// SetComponentStatuses writes new component statuses and returns those that
// really changed (another writer may have got there first).
func (tx *Tx) SetComponentStatuses(ctx context.Context, changes []StateChange) ([]StateChange, error) {
	sort.Slice(changes, func(i, j int) bool { return changes[i].ID < changes[j].ID })
	var changed []StateChange
	for _, c := range changes {
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE components SET status = ?, updated_at = ?
			WHERE org_id = ? AND id = ? AND status <> ?`), c.State, c.At.UTC(), c.OrgID, c.ID, c.State)
		if err != nil {
			return nil, fmt.Errorf("store: set status of component %d: %w", c.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("store: set status of component %d: %w", c.ID, err)
		}
		if n > 0 {
			changed = append(changed, c)
		}
	}
	return changed, nil
}

// UnhealthyRegions returns the organisation's regions currently recorded as
// unhealthy.
func (tx *Tx) UnhealthyRegions(ctx context.Context, orgID int64) ([]string, error) {
	regions, err := tx.queryStrings(ctx, tx.s.q(`SELECT region FROM region_health WHERE org_id = ? AND NOT healthy ORDER BY region`), orgID)
	if err != nil {
		return nil, fmt.Errorf("store: unhealthy regions: %w", err)
	}
	return regions, nil
}

// SetRegionHealth records whether a region is healthy for the organisation
// and reports whether that changed the record. A region never recorded
// counts as healthy, so recording it healthy is no change. Concurrent
// callers agree: exactly one of them sees a given change.
func (tx *Tx) SetRegionHealth(ctx context.Context, orgID int64, region string, healthy bool, at time.Time) (changed bool, err error) {
	if healthy {
		res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE region_health SET healthy = TRUE, changed_at = ?
			WHERE org_id = ? AND region = ? AND NOT healthy`), at.UTC(), orgID, region)
		if err != nil {
			return false, fmt.Errorf("store: region %s healthy: %w", region, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("store: region %s healthy: %w", region, err)
		}
		return n > 0, nil
	}
	got, err := tx.queryStrings(ctx, tx.s.q(`INSERT INTO region_health (org_id, region, healthy, changed_at) VALUES (?, ?, FALSE, ?)
		ON CONFLICT (org_id, region) DO UPDATE SET healthy = FALSE, changed_at = excluded.changed_at
		WHERE region_health.healthy RETURNING region`), orgID, region, at.UTC())
	if err != nil {
		return false, fmt.Errorf("store: region %s unhealthy: %w", region, err)
	}
	return len(got) > 0, nil
}
