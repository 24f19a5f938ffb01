package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"pharos/app/incident"
)

// Reads for the public status page. The page is found by slug or domain
// (PageBySlug, PageByDomain); everything after that is scoped by the page's
// organisation and the page itself.

// PublicComponent is a component as the public page shows it.
type PublicComponent struct {
	Component
	StartDate *time.Time // the day the component went into service, if set
}

// PublicGroup is a component group with its timestamps (Statuspage lists
// groups as components).
type PublicGroup struct {
	ComponentGroup
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ComponentDay sums the daily rollups of one component's checks.
type ComponentDay struct {
	Day      time.Time // midnight UTC
	Total    int
	Up       int
	Degraded int
	Down     int
	// Time sums the checks' monitored, degraded and down time. A check's
	// day rolled up before rollups kept time counts as monitored all day
	// and down for the share of its results that were down.
	Time incident.Span
}

// HasData reports whether any of the component's checks was monitored
// that day.
func (d ComponentDay) HasData() bool { return d.Time.Monitored > 0 }

// Uptime is the share of the monitored time that was not down, in percent
// (100 for a day without data).
func (d ComponentDay) Uptime() float64 {
	if u, ok := d.Time.Uptime(); ok {
		return u
	}
	return 100
}

// PublicIncident is an incident with its updates (newest first) and the
// components it affected.
type PublicIncident struct {
	ID           int64
	PageID       int64
	Name         string
	Status       string
	Impact       string
	Postmortem   string
	StartedAt    time.Time
	MonitoringAt *time.Time
	ResolvedAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Updates      []IncidentUpdate
	Components   []AffectedComponent
	// Automatic incidents were opened by the aggregator; a Draft one is not
	// public until an editor publishes it (read only with Console).
	Automatic bool
	Draft     bool
}

// IncidentUpdate is one entry of an incident's timeline.
type IncidentUpdate struct {
	ID                   int64
	IncidentID           int64
	Status               string
	Body                 string // Markdown
	DeliverNotifications bool
	DisplayAt            time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
	EditedAt             *time.Time          // when its text was last edited
	Affected             []AffectedComponent // the component changes this update recorded
	// Technical is the console-only detail of an automatic update (codes,
	// nodes, regions, raw messages); read only with IncidentFilter.Console.
	Technical string
}

// AffectedComponent records what an incident did to a component.
type AffectedComponent struct {
	ComponentID int64
	UpdateID    int64 // 0 when not tied to an update
	Name        string
	OldStatus   string
	NewStatus   string
}

// IncidentFilter selects a page's incidents; zero fields do not filter.
type IncidentFilter struct {
	ID            int64
	Unresolved    bool
	StartedFrom   time.Time // started_at >= StartedFrom
	StartedBefore time.Time // started_at < StartedBefore
	OpenSince     time.Time // unresolved, or resolved at or after OpenSince
	Limit         int       // default and maximum 500
	// Console includes drafts and the updates' technical detail, which
	// the public never sees.
	Console bool
}

const maxPublicIncidents = 500

// PublicComponents lists a page's components in display order.
func (s *Store) PublicComponents(ctx context.Context, orgID, pageID int64) ([]PublicComponent, error) {
	startCol := "start_date"
	if s.dialect == Postgres {
		startCol = "to_char(start_date, 'YYYY-MM-DD')"
	}
	return collect(ctx, s.db, "public components", scanPublicComponent, s.q(`SELECT `+componentColumns+`, `+startCol+`
		FROM components WHERE org_id = ? AND page_id = ? ORDER BY position, id`), orgID, pageID)
}

func scanPublicComponent(row rowScanner) (PublicComponent, error) {
	var start any
	c, err := scanComponent(scanExtra{rows: row, extra: []any{&start}})
	if err != nil {
		return PublicComponent{}, err
	}
	pc := PublicComponent{Component: c}
	if start != nil {
		d, err := parseDay(start)
		if err != nil {
			return PublicComponent{}, fmt.Errorf("component %d start date: %w", c.ID, err)
		}
		pc.StartDate = &d
	}
	return pc, nil
}

// PublicGroups lists a page's component groups in display order.
func (s *Store) PublicGroups(ctx context.Context, orgID, pageID int64) ([]PublicGroup, error) {
	return collect(ctx, s.db, "public groups", func(row rowScanner) (PublicGroup, error) {
		var g PublicGroup
		err := row.Scan(&g.ID, &g.OrgID, &g.PageID, &g.Name, &g.Position, &g.CreatedAt, &g.UpdatedAt)
		g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
		return g, err
	}, s.q(`SELECT id, org_id, page_id, name, position, created_at, updated_at
		FROM component_groups WHERE org_id = ? AND page_id = ? ORDER BY position, id`), orgID, pageID)
}

// UptimeOver is the uptime of a run of days, in percent: the share of
// their summed monitored time that was not down, so days without data
// weigh nothing. It is false when no day had monitored time.
func UptimeOver(days []ComponentDay) (float64, bool) {
	var sum incident.Span
	for _, d := range days {
		sum = sum.Add(d.Time)
	}
	return sum.Uptime()
}

// legacyDay is the monitored seconds of a check's day rolled up before
// rollups kept time (migration 0011): the whole day.
const legacyDay = "86400"

// ComponentDays sums the daily rollups of each component's checks for the
// days from..to (inclusive), keyed by component id, oldest day first. Days
// without rollups are absent.
func (s *Store) ComponentDays(ctx context.Context, orgID, pageID int64, from, to time.Time) (map[int64][]ComponentDay, error) {
	dayCol := "r.day"
	if s.dialect == Postgres {
		dayCol = "to_char(r.day, 'YYYY-MM-DD')"
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT c.component_id, `+dayCol+`, SUM(r.total), SUM(r.up), SUM(r.degraded), SUM(r.down),
			SUM(COALESCE(r.monitored_seconds, `+legacyDay+`)),
			SUM(COALESCE(r.degraded_seconds, CASE WHEN r.total > 0 THEN `+legacyDay+` * r.degraded / r.total ELSE 0 END)),
			SUM(COALESCE(r.down_seconds, CASE WHEN r.total > 0 THEN `+legacyDay+` * r.down / r.total ELSE 0 END))
		FROM daily_rollups r JOIN checks c ON c.id = r.check_id AND c.org_id = r.org_id
		WHERE r.org_id = ? AND c.page_id = ? AND r.day >= ? AND r.day <= ?
		GROUP BY c.component_id, r.day ORDER BY c.component_id, r.day`),
		orgID, pageID, from.UTC().Format(dayLayout), to.UTC().Format(dayLayout))
	if err != nil {
		return nil, fmt.Errorf("store: component days: %w", err)
	}
	defer rows.Close()
	out := map[int64][]ComponentDay{}
	for rows.Next() {
		var id int64
		var day any
		var d ComponentDay
		var monitored, degraded, down int64
		if err := rows.Scan(&id, &day, &d.Total, &d.Up, &d.Degraded, &d.Down, &monitored, &degraded, &down); err != nil {
			return nil, fmt.Errorf("store: component days: %w", err)
		}
		d.Time = *spanOf(&monitored, &degraded, &down)
		if d.Day, err = parseDay(day); err != nil {
			return nil, fmt.Errorf("store: component days: %w", err)
		}
		out[id] = append(out[id], d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: component days: %w", err)
	}
	return out, nil
}

// UnjudgedComponents returns the page's components that have checks, none
// of which the aggregator has judged yet (every state is unknown, or
// misconfigured: a check the probes cannot carry out tells nothing). With no
// uptime data either, such a component has never been checked: the page
// says "No data yet" rather than its initial status.
func (s *Store) UnjudgedComponents(ctx context.Context, orgID, pageID int64) (map[int64]bool, error) {
	ids, err := collect(ctx, s.db, "unjudged components", func(row rowScanner) (int64, error) {
		var id int64
		return id, row.Scan(&id)
	}, s.q(`SELECT component_id FROM checks WHERE org_id = ? AND page_id = ?
		GROUP BY component_id HAVING SUM(CASE WHEN state IN ('unknown', 'misconfigured') THEN 0 ELSE 1 END) = 0`), orgID, pageID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// PublicIncidents returns a page's incidents matching f, most recently
// started first, each with its updates and affected components.
func (s *Store) PublicIncidents(ctx context.Context, orgID, pageID int64, f IncidentFilter) ([]PublicIncident, error) {
	where := []string{"org_id = ?", "page_id = ?"}
	args := []any{orgID, pageID}
	if f.ID != 0 {
		where, args = append(where, "id = ?"), append(args, f.ID)
	}
	if f.Unresolved {
		where = append(where, "resolved_at IS NULL")
	}
	if !f.Console {
		where = append(where, "NOT draft")
	}
	if !f.StartedFrom.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, f.StartedFrom.UTC())
	}
	if !f.StartedBefore.IsZero() {
		where, args = append(where, "started_at < ?"), append(args, f.StartedBefore.UTC())
	}
	if !f.OpenSince.IsZero() {
		where, args = append(where, "(resolved_at IS NULL OR resolved_at >= ?)"), append(args, f.OpenSince.UTC())
	}
	limit := f.Limit
	if limit <= 0 || limit > maxPublicIncidents {
		limit = maxPublicIncidents
	}
	args = append(args, limit)
	out, err := collect(ctx, s.db, "public incidents", func(row rowScanner) (PublicIncident, error) {
		var in PublicIncident
		var mon, res sql.NullTime
		err := row.Scan(&in.ID, &in.PageID, &in.Name, &in.Status, &in.Impact, &in.Postmortem, &in.StartedAt,
			&mon, &res, &in.CreatedAt, &in.UpdatedAt, &in.Automatic, &in.Draft)
		in.StartedAt, in.CreatedAt, in.UpdatedAt = in.StartedAt.UTC(), in.CreatedAt.UTC(), in.UpdatedAt.UTC()
		in.MonitoringAt, in.ResolvedAt = nullTime(mon), nullTime(res)
		return in, err
	}, s.q(`SELECT id, page_id, name, status, impact, postmortem, started_at, monitoring_at,
		resolved_at, created_at, updated_at, automatic, draft FROM incidents WHERE `+strings.Join(where, " AND ")+`
		ORDER BY started_at DESC, id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	if err := s.attachIncidentDetails(ctx, orgID, out, f.Console); err != nil {
		return nil, err
	}
	return out, nil
}

// PublicIncident returns one incident of the page, or ErrNotFound.
func (s *Store) PublicIncident(ctx context.Context, orgID, pageID, id int64) (PublicIncident, error) {
	list, err := s.PublicIncidents(ctx, orgID, pageID, IncidentFilter{ID: id, Limit: 1})
	if err != nil {
		return PublicIncident{}, err
	}
	if len(list) == 0 {
		return PublicIncident{}, fmt.Errorf("store: incident %d: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// attachIncidentDetails loads the updates and component links of
// incidents, and the updates' technical detail for the console.
func (s *Store) attachIncidentDetails(ctx context.Context, orgID int64, incidents []PublicIncident, console bool) error {
	index := make(map[int64]int, len(incidents))
	ids := make([]int64, len(incidents))
	for i, in := range incidents {
		index[in.ID], ids[i] = i, in.ID
	}
	in := placeholders(len(ids))
	technical := "''"
	if console {
		technical = "technical"
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, incident_id, status, body, deliver_notifications, display_at,
		created_at, updated_at, edited_at, `+technical+` FROM incident_updates WHERE org_id = ? AND incident_id IN (`+in+`)
		ORDER BY display_at DESC, id DESC`), orgArgs(orgID, ids)...)
	if err != nil {
		return fmt.Errorf("store: incident updates: %w", err)
	}
	defer rows.Close()
	updateAt := map[int64][2]int{} // update id → incident index, update index
	for rows.Next() {
		var u IncidentUpdate
		var edited sql.NullTime
		if err := rows.Scan(&u.ID, &u.IncidentID, &u.Status, &u.Body, &u.DeliverNotifications, &u.DisplayAt,
			&u.CreatedAt, &u.UpdatedAt, &edited, &u.Technical); err != nil {
			return fmt.Errorf("store: incident updates: %w", err)
		}
		u.DisplayAt, u.CreatedAt, u.UpdatedAt = u.DisplayAt.UTC(), u.CreatedAt.UTC(), u.UpdatedAt.UTC()
		u.EditedAt = nullTime(edited)
		i := index[u.IncidentID]
		incidents[i].Updates = append(incidents[i].Updates, u)
		updateAt[u.ID] = [2]int{i, len(incidents[i].Updates) - 1}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: incident updates: %w", err)
	}
	rows.Close()

	// The incident's components as they stand now, then what each update
	// recorded: the second survives later updates and the resolve.
	crows, err := s.db.QueryContext(ctx, s.q(`SELECT ic.incident_id, ic.update_id, ic.component_id, c.name, ic.old_status, ic.new_status
		FROM incident_components ic JOIN components c ON c.id = ic.component_id AND c.org_id = ic.org_id
		WHERE ic.org_id = ? AND ic.incident_id IN (`+in+`) ORDER BY c.position, c.id`), orgArgs(orgID, ids)...)
	if err != nil {
		return fmt.Errorf("store: incident components: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var incidentID int64
		var updateID sql.NullInt64
		var a AffectedComponent
		if err := crows.Scan(&incidentID, &updateID, &a.ComponentID, &a.Name, &a.OldStatus, &a.NewStatus); err != nil {
			return fmt.Errorf("store: incident components: %w", err)
		}
		a.UpdateID = updateID.Int64
		i := index[incidentID]
		incidents[i].Components = append(incidents[i].Components, a)
	}
	if err := crows.Err(); err != nil {
		return fmt.Errorf("store: incident components: %w", err)
	}
	crows.Close()

	urows, err := s.db.QueryContext(ctx, s.q(`SELECT uc.update_id, uc.component_id, c.name, uc.old_status, uc.new_status
		FROM incident_update_components uc
		JOIN incident_updates u ON u.id = uc.update_id AND u.org_id = uc.org_id
		JOIN components c ON c.id = uc.component_id AND c.org_id = uc.org_id
		WHERE uc.org_id = ? AND u.incident_id IN (`+in+`) ORDER BY c.position, c.id`), orgArgs(orgID, ids)...)
	if err != nil {
		return fmt.Errorf("store: update components: %w", err)
	}
	defer urows.Close()
	for urows.Next() {
		var a AffectedComponent
		if err := urows.Scan(&a.UpdateID, &a.ComponentID, &a.Name, &a.OldStatus, &a.NewStatus); err != nil {
			return fmt.Errorf("store: update components: %w", err)
		}
		if at, ok := updateAt[a.UpdateID]; ok {
			u := &incidents[at[0]].Updates[at[1]]
			u.Affected = append(u.Affected, a)
		}
	}
	if err := urows.Err(); err != nil {
		return fmt.Errorf("store: update components: %w", err)
	}
	return nil
}

// IncidentsStartedBefore reports whether the page has an incident that
// started before t (history pagination).
func (s *Store) IncidentsStartedBefore(ctx context.Context, orgID, pageID int64, t time.Time) (bool, error) {
	var exists bool
	err := s.db.QueryRowContext(ctx, s.q(`SELECT EXISTS (SELECT 1 FROM incidents
		WHERE org_id = ? AND page_id = ? AND started_at < ? AND NOT draft)`), orgID, pageID, t.UTC()).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("store: incidents before %s: %w", t.Format(time.RFC3339), err)
	}
	return exists, nil
}

// PublicMaintenance lists a page's maintenance windows by name, each with
// the ids of its components in display order.
func (s *Store) PublicMaintenance(ctx context.Context, orgID, pageID int64) ([]MaintenanceWindow, error) {
	ws, err := collect(ctx, s.db, "public maintenance", scanMaintenance, s.q(`SELECT `+maintenanceColumns+`
		FROM maintenance_windows WHERE org_id = ? AND page_id = ? ORDER BY name`), orgID, pageID)
	if err != nil {
		return nil, err
	}
	err = attachMaintenanceComponents(ctx, s.db, ws, s.q(`SELECT mc.maintenance_id, mc.component_id FROM maintenance_components mc
		JOIN components c ON c.id = mc.component_id AND c.org_id = mc.org_id
		WHERE mc.org_id = ? AND c.page_id = ? ORDER BY c.position, c.id`), orgID, pageID)
	if err != nil {
		return nil, err
	}
	return ws, nil
}
