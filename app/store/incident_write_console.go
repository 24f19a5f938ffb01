package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ConsoleIncident is an incident as the console lists it: with drafts and
// the updates' technical detail, and the page it is on.
type ConsoleIncident struct {
	PublicIncident
	PageSlug  string
	PageTitle string
}

const maxConsoleIncidents = 200

// OrgIncidents lists the organisation's incidents on every page, open ones
// first, then the most recently started; drafts included. limit ≤ 0 (or
// above 200) means 200.
func (s *Store) OrgIncidents(ctx context.Context, orgID int64, limit int) ([]ConsoleIncident, error) {
	if limit <= 0 || limit > maxConsoleIncidents {
		limit = maxConsoleIncidents
	}
	return s.consoleIncidents(ctx, orgID, `i.org_id = ?`, []any{orgID, limit})
}

// ConsoleIncidentByID returns one of the organisation's incidents, drafts
// and technical detail included, or ErrNotFound.
func (s *Store) ConsoleIncidentByID(ctx context.Context, orgID, id int64) (ConsoleIncident, error) {
	list, err := s.consoleIncidents(ctx, orgID, `i.org_id = ? AND i.id = ?`, []any{orgID, id, 1})
	if err != nil {
		return ConsoleIncident{}, err
	}
	if len(list) == 0 {
		return ConsoleIncident{}, fmt.Errorf("store: incident %d: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// consoleIncidents reads incidents matching where (args end with the
// limit) with their updates, technical detail and components.
func (s *Store) consoleIncidents(ctx context.Context, orgID int64, where string, args []any) ([]ConsoleIncident, error) {
	list, err := collect(ctx, s.db, "console incidents", func(row rowScanner) (ConsoleIncident, error) {
		var in ConsoleIncident
		var mon, res sql.NullTime
		err := row.Scan(&in.ID, &in.PageID, &in.Name, &in.Status, &in.Impact, &in.Postmortem, &in.StartedAt,
			&mon, &res, &in.CreatedAt, &in.UpdatedAt, &in.Automatic, &in.Draft, &in.PageSlug, &in.PageTitle)
		in.StartedAt, in.CreatedAt, in.UpdatedAt = in.StartedAt.UTC(), in.CreatedAt.UTC(), in.UpdatedAt.UTC()
		in.MonitoringAt, in.ResolvedAt = nullTime(mon), nullTime(res)
		return in, err
	}, s.q(`SELECT i.id, i.page_id, i.name, i.status, i.impact, i.postmortem, i.started_at, i.monitoring_at,
		i.resolved_at, i.created_at, i.updated_at, i.automatic, i.draft, p.slug, p.title
		FROM incidents i JOIN pages p ON p.id = i.page_id AND p.org_id = i.org_id
		WHERE `+where+`
		ORDER BY CASE WHEN i.resolved_at IS NULL THEN 0 ELSE 1 END, i.started_at DESC, i.id DESC LIMIT ?`), args...)
	if err != nil || len(list) == 0 {
		return list, err
	}
	plain := make([]PublicIncident, len(list))
	for i, in := range list {
		plain[i] = in.PublicIncident
	}
	if err := s.attachIncidentDetails(ctx, orgID, plain, true); err != nil {
		return nil, err
	}
	for i := range list {
		list[i].PublicIncident = plain[i]
	}
	return list, nil
}
