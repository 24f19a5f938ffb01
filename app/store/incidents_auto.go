package store

import (
	"context"
	"fmt"
)

// What the aggregator reads to word and scope a component's automatic
// incident: the page's settings and the component's enabled checks.

// IncidentSettings are a page's choices for automatic incidents.
type IncidentSettings struct {
	// AutoIncidents is AutoPublish, AutoDraft or AutoOff.
	AutoIncidents string
	// PublicDetail is DetailPlain or DetailTechnical.
	PublicDetail string
}

// PageIncidentSettings returns the automatic-incident settings of the given
// pages (organisation id → page ids), keyed by page id.
func (tx *Tx) PageIncidentSettings(ctx context.Context, ids map[int64][]int64) (map[int64]IncidentSettings, error) {
	out := map[int64]IncidentSettings{}
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		in, args := tx.s.anyOf("id", orgID, chunk)
		rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT id, auto_incidents, public_detail FROM pages
			WHERE org_id = ? AND `+in), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var s IncidentSettings
			if err := rows.Scan(&id, &s.AutoIncidents, &s.PublicDetail); err != nil {
				return err
			}
			out[id] = s
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: page incident settings: %w", err)
	}
	return out, nil
}

// EnabledChecks returns which of the given checks (organisation id →
// check ids) exist in that organisation and are enabled: an automatic
// incident keeps only those among its troubled checks. It asks for the
// troubled checks alone, never for all of a component's, which may be
// thousands.
func (tx *Tx) EnabledChecks(ctx context.Context, ids map[int64][]int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := forEachOrgChunk(ids, func(orgID int64, chunk []int64) error {
		in, args := tx.s.anyOf("id", orgID, chunk)
		found, err := tx.queryInt64s(ctx, tx.s.q(`SELECT id FROM checks WHERE org_id = ? AND `+in+` AND enabled`), args...)
		for _, id := range found {
			out[id] = true
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: enabled checks: %w", err)
	}
	return out, nil
}

// queryInt64s runs an already rebound query returning one integer column.
func (tx *Tx) queryInt64s(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := tx.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SetIncidentAutoState records what the aggregator knows of an open
// automatic incident's component when nothing public changed (a check
// joined with the same kind of trouble, or left while others remain).
func (tx *Tx) SetIncidentAutoState(ctx context.Context, orgID, incidentID int64, state string) error {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE incidents SET auto_state = ? WHERE org_id = ? AND id = ? AND automatic`),
		state, orgID, incidentID)
	return oneRowAffected(res, err, "record state of incident", incidentID)
}
