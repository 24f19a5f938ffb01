package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Reads behind the console's overview: what needs attention now in the
// organisation, each in one or two queries whatever the number of checks.

// OpenIncidentBrief is an open, published incident in the overview.
type OpenIncidentBrief struct {
	ID        int64
	PageTitle string
	Name      string
	Status    string
	Impact    string
	StartedAt time.Time
	Automatic bool
}

// OpenIncidentsBrief returns the organisation's open published incidents,
// newest first.
func (s *Store) OpenIncidentsBrief(ctx context.Context, orgID int64) ([]OpenIncidentBrief, error) {
	return collect(ctx, s.db, "open incidents", func(row rowScanner) (OpenIncidentBrief, error) {
		var in OpenIncidentBrief
		err := row.Scan(&in.ID, &in.PageTitle, &in.Name, &in.Status, &in.Impact, &in.StartedAt, &in.Automatic)
		in.StartedAt = in.StartedAt.UTC()
		return in, err
	}, s.q(`SELECT i.id, p.title, i.name, i.status, i.impact, i.started_at, i.automatic
		FROM incidents i JOIN pages p ON p.id = i.page_id AND p.org_id = i.org_id
		WHERE i.org_id = ? AND i.resolved_at IS NULL AND NOT i.draft AND i.status <> 'postmortem'
		ORDER BY i.started_at DESC, i.id DESC LIMIT 100`), orgID)
}

// FailingCheck is a check failing or misconfigured now, with the problems
// of its latest result per region.
type FailingCheck struct {
	ID            int64
	Name          string
	PageTitle     string
	ComponentName string
	State         string
	Since         *time.Time
	Enabled       bool
	// Problems holds each region's latest problems (JSON arrays), by region.
	Problems map[string][]byte
}

// FailingChecks returns the organisation's checks that are down, degraded
// or misconfigured, worst and longest-standing first.
func (s *Store) FailingChecks(ctx context.Context, orgID int64) ([]FailingCheck, error) {
	list, err := collect(ctx, s.db, "failing checks", func(row rowScanner) (FailingCheck, error) {
		var c FailingCheck
		var since sql.NullTime
		err := row.Scan(&c.ID, &c.Name, &c.PageTitle, &c.ComponentName, &c.State, &since, &c.Enabled)
		c.Since = nullTime(since)
		return c, err
	}, s.q(`SELECT c.id, c.name, p.title, co.name, c.state, c.state_changed_at, c.enabled
		FROM checks c JOIN pages p ON p.id = c.page_id JOIN components co ON co.id = c.component_id
		WHERE c.org_id = ? AND c.state IN ('down', 'degraded', 'misconfigured')`), orgID)
	if err != nil || len(list) == 0 {
		return list, err
	}
	rank := map[string]int{"down": 0, "misconfigured": 1, "degraded": 2}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if rank[a.State] != rank[b.State] {
			return rank[a.State] < rank[b.State]
		}
		if (a.Since == nil) != (b.Since == nil) {
			return b.Since == nil
		}
		if a.Since != nil && !a.Since.Equal(*b.Since) {
			return a.Since.Before(*b.Since)
		}
		return a.ID < b.ID
	})
	ids := make([]int64, len(list))
	byID := map[int64]*FailingCheck{}
	for i := range list {
		ids[i] = list[i].ID
		byID[list[i].ID] = &list[i]
	}
	err = forEachOrgChunk(map[int64][]int64{orgID: ids}, func(orgID int64, chunk []int64) error {
		in, args := s.anyOf("check_id", orgID, chunk)
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT check_id, region, problems FROM check_latest WHERE org_id = ? AND node = '' AND `+in), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var region, problems string
			if err := rows.Scan(&id, &region, &problems); err != nil {
				return err
			}
			c := byID[id]
			if c.Problems == nil {
				c.Problems = map[string][]byte{}
			}
			c.Problems[region] = []byte(problems)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: problems of failing checks: %w", err)
	}
	return list, nil
}

// RegionActivity is what the overview says about one probe region.
type RegionActivity struct {
	Region string
	// Healthy is what the aggregator last recorded (a region never recorded
	// is healthy); Changed is when, nil if never.
	Healthy bool
	Changed *time.Time
	// Recent counts the organisation's results checked since the given time.
	Recent int
	// LastResult is the newest whole-check result of the organisation from
	// the region; nil when there is none.
	LastResult *time.Time
}

// RegionActivities returns every region the organisation has results or a
// health record for, by name.
func (s *Store) RegionActivities(ctx context.Context, orgID int64, since time.Time) ([]RegionActivity, error) {
	out := map[string]*RegionActivity{}
	get := func(region string) *RegionActivity {
		r, ok := out[region]
		if !ok {
			r = &RegionActivity{Region: region, Healthy: true}
			out[region] = r
		}
		return r
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT region, healthy, changed_at FROM region_health WHERE org_id = ?`), orgID)
	if err != nil {
		return nil, fmt.Errorf("store: region health: %w", err)
	}
	err = scanAll(rows, func() error {
		var region string
		var healthy bool
		var at time.Time
		if err := rows.Scan(&region, &healthy, &at); err != nil {
			return err
		}
		r := get(region)
		at = at.UTC()
		r.Healthy, r.Changed = healthy, &at
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: region health: %w", err)
	}
	// The newest result per region, from the latest rows (one per check and
	// region) rather than from the whole result table; through checks, whose
	// org index leads to each check's rows by the primary key.
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT region, MAX(checked_at) FROM check_latest
		WHERE check_id IN (SELECT id FROM checks WHERE org_id = ?) AND org_id = ? AND node = '' GROUP BY region`), orgID, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: region last results: %w", err)
	}
	err = scanAll(rows, func() error {
		var region string
		var at aggTime
		if err := rows.Scan(&region, &at); err != nil {
			return err
		}
		get(region).LastResult = &at.Time
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: region last results: %w", err)
	}
	// Full rows and steady samples alike.
	counts, err := s.ResultCounts(ctx, orgID, since)
	if err != nil {
		return nil, err
	}
	for region, n := range counts {
		get(region).Recent = n
	}
	list := make([]RegionActivity, 0, len(out))
	for _, r := range out {
		list = append(list, *r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Region < list[j].Region })
	return list, nil
}

// aggTime scans a time aggregated in SQL (MAX of a timestamp column), in
// UTC. SQLite returns it as the text the driver wrote, in Go's format: an
// aggregate has no declared type for the driver to convert by.
type aggTime struct{ time.Time }

// aggTimeLayouts are the ways the SQLite driver writes a time (Go's
// default format) and the formats it reads.
var aggTimeLayouts = []string{"2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

// Scan implements sql.Scanner.
func (t *aggTime) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case time.Time:
		t.Time = v.UTC()
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("store: scan %T as a time", src)
	}
	if i := strings.Index(text, " m="); i >= 0 { // a monotonic clock reading
		text = text[:i]
	}
	for _, layout := range aggTimeLayouts {
		if at, err := time.Parse(layout, text); err == nil {
			t.Time = at.UTC()
			return nil
		}
	}
	return fmt.Errorf("store: scan %q as a time", text)
}

// scanAll calls scan for every row, then closes rows and reports rows.Err.
func scanAll(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}
