package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Page is a public status page.
type Page struct {
	ID       int64
	OrgID    int64
	Slug     string
	Title    string
	Domain   string // "" when the page has no custom domain
	TimeZone string
	Regions  []string // default regions for the page's checks
	// AutoIncidents is what automatic incidents do: AutoPublish, AutoDraft
	// (an editor publishes or discards them) or AutoOff.
	AutoIncidents string
	// PublicDetail is DetailPlain (public incident text never names nodes,
	// URLs, checks or problem codes) or DetailTechnical.
	PublicDetail string
	// Managed marks a page a configuration file owns (`pharos apply`
	// wrote it): the next apply overwrites changes made elsewhere.
	Managed bool
	// DomainVerifiedAt is when Domain was proven to be the page owner's
	// (domains.go); nil while it is pending or there is none.
	DomainVerifiedAt *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Page settings (config keys page.auto_incidents and page.public_detail).
const (
	AutoPublish     = "publish"
	AutoDraft       = "draft"
	AutoOff         = "off"
	DetailPlain     = "plain"
	DetailTechnical = "technical"
)

// ComponentGroup groups components on a page.
type ComponentGroup struct {
	ID       int64
	OrgID    int64
	PageID   int64
	Name     string
	Position int
	Managed  bool // written by `pharos apply`
}

// Component is one thing on a status page whose health users care about.
type Component struct {
	ID                 int64
	OrgID              int64
	PageID             int64
	GroupID            *int64
	Name               string
	Description        string
	Position           int
	Status             string // incident.Operational, … (Statuspage vocabulary)
	Showcase           bool
	OnlyShowIfDegraded bool
	Managed            bool // written by `pharos apply`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Check is a probe configuration. Spec is the full probes.Spec as JSON; a job
// carries it whole to the workers, so the store does not interpret it.
type Check struct {
	ID            int64
	OrgID         int64
	PageID        int64
	ComponentID   int64
	Name          string
	URL           string
	Spec          json.RawMessage
	Regions       []string
	Interval      time.Duration
	Quorum        int // 0 = majority of Regions
	ConfirmRounds int
	Enabled       bool
	State         string
	Managed       bool // written by `pharos apply`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// MaintenanceWindow is a recurring (Schedule, a robfig/cron line in TimeZone,
// lasting Duration) or one-off (StartsAt/EndsAt) maintenance.
type MaintenanceWindow struct {
	ID           int64
	OrgID        int64
	PageID       int64
	Name         string
	Body         string
	Schedule     string
	Duration     time.Duration
	TimeZone     string
	StartsAt     *time.Time
	EndsAt       *time.Time
	Status       string
	ComponentIDs []int64
	// Managed: a configuration file owns the window (pharos apply marks
	// every window of the page it writes); the console and the API create
	// windows without it.
	Managed   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

const pageColumns = `id, org_id, slug, title, domain, time_zone, regions, auto_incidents, public_detail, managed,
	domain_verified, domain_verified_at, created_at, updated_at`

func scanPage(row rowScanner) (Page, error) {
	var p Page
	var domain sql.NullString
	var regions string
	var verified sql.NullString
	var verifiedAt sql.NullTime
	if err := row.Scan(&p.ID, &p.OrgID, &p.Slug, &p.Title, &domain, &p.TimeZone, &regions, &p.AutoIncidents, &p.PublicDetail,
		&p.Managed, &verified, &verifiedAt, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return Page{}, err
	}
	p.Domain = domain.String
	p.DomainVerifiedAt = verifiedTime(p.Domain, verified, verifiedAt)
	if err := json.Unmarshal([]byte(regions), &p.Regions); err != nil {
		return Page{}, fmt.Errorf("page %d regions: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// Page returns one page of the organisation.
func (qs queries) Page(ctx context.Context, orgID, id int64) (Page, error) {
	p, err := scanPage(qs.conn.QueryRowContext(ctx, qs.q(`SELECT `+pageColumns+` FROM pages WHERE org_id = ? AND id = ?`), orgID, id))
	return p, notFound(err, "page", id)
}

// PageBySlug returns a page by its public slug. It is not tenant-scoped: the
// public status page is found by slug before any organisation is known.
func (s *Store) PageBySlug(ctx context.Context, slug string) (Page, error) {
	p, err := scanPage(s.db.QueryRowContext(ctx, s.q(`SELECT `+pageColumns+` FROM pages WHERE slug = ?`), slug))
	return p, notFound(err, "page", slug)
}

// PageByDomain returns the page served on a custom domain (public, like PageBySlug).
func (s *Store) PageByDomain(ctx context.Context, domain string) (Page, error) {
	p, err := scanPage(s.db.QueryRowContext(ctx, s.q(`SELECT `+pageColumns+` FROM pages WHERE domain = ?`), domain))
	return p, notFound(err, "page", domain)
}

// Pages lists the organisation's pages by slug.
func (s *Store) Pages(ctx context.Context, orgID int64) ([]Page, error) {
	return collect(ctx, s.db, "pages", scanPage, s.q(`SELECT `+pageColumns+` FROM pages WHERE org_id = ? ORDER BY slug`), orgID)
}

const componentColumns = `id, org_id, page_id, group_id, name, description, position, status, showcase, only_show_if_degraded, managed, created_at, updated_at`

// componentsQuery lists a page's components in display order.
const componentsQuery = `SELECT ` + componentColumns + ` FROM components WHERE org_id = ? AND page_id = ? ORDER BY position, id`

func scanComponent(row rowScanner) (Component, error) {
	var c Component
	var group sql.NullInt64
	if err := row.Scan(&c.ID, &c.OrgID, &c.PageID, &group, &c.Name, &c.Description, &c.Position, &c.Status,
		&c.Showcase, &c.OnlyShowIfDegraded, &c.Managed, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return Component{}, err
	}
	if group.Valid {
		c.GroupID = &group.Int64
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// Component returns one component of the organisation.
func (qs queries) Component(ctx context.Context, orgID, id int64) (Component, error) {
	c, err := scanComponent(qs.conn.QueryRowContext(ctx, qs.q(`SELECT `+componentColumns+` FROM components WHERE org_id = ? AND id = ?`), orgID, id))
	return c, notFound(err, "component", id)
}

// Components lists a page's components in display order.
func (qs queries) Components(ctx context.Context, orgID, pageID int64) ([]Component, error) {
	return collect(ctx, qs.conn, "components", scanComponent, qs.q(componentsQuery), orgID, pageID)
}

const checkColumns = `id, org_id, page_id, component_id, name, url, spec, regions, interval_seconds, quorum, confirm_rounds, enabled, state, managed, created_at, updated_at`

// OrgComponents lists every component of the organisation, by page and
// display order (the console lists all pages at once).
func (s *Store) OrgComponents(ctx context.Context, orgID int64) ([]Component, error) {
	return collect(ctx, s.db, "components", scanComponent, s.q(`SELECT `+componentColumns+` FROM components
		WHERE org_id = ? ORDER BY page_id, position, id`), orgID)
}

// OrgChecks lists every check of the organisation, by page and name.
func (s *Store) OrgChecks(ctx context.Context, orgID int64) ([]Check, error) {
	return collect(ctx, s.db, "checks", scanCheck, s.q(`SELECT `+checkColumns+` FROM checks
		WHERE org_id = ? ORDER BY page_id, name`), orgID)
}

// checksQuery lists a page's checks by name.
const checksQuery = `SELECT ` + checkColumns + ` FROM checks WHERE org_id = ? AND page_id = ? ORDER BY name`

func scanCheck(row rowScanner) (Check, error) {
	var c Check
	var spec, regions string
	var interval int64
	err := row.Scan(&c.ID, &c.OrgID, &c.PageID, &c.ComponentID, &c.Name, &c.URL, &spec, &regions, &interval,
		&c.Quorum, &c.ConfirmRounds, &c.Enabled, &c.State, &c.Managed, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return Check{}, err
	}
	c.Spec = json.RawMessage(spec)
	if c.Regions, err = checkRegions(c.ID, regions); err != nil {
		return Check{}, err
	}
	c.Interval = time.Duration(interval) * time.Second
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// checkRegions decodes a check's regions column.
func checkRegions(id int64, column string) ([]string, error) {
	var regions []string
	if err := json.Unmarshal([]byte(column), &regions); err != nil {
		return nil, fmt.Errorf("check %d regions: %w", id, err)
	}
	return regions, nil
}

// Check returns one check of the organisation.
func (qs queries) Check(ctx context.Context, orgID, id int64) (Check, error) {
	c, err := scanCheck(qs.conn.QueryRowContext(ctx, qs.q(`SELECT `+checkColumns+` FROM checks WHERE org_id = ? AND id = ?`), orgID, id))
	return c, notFound(err, "check", id)
}

// Checks lists a page's checks by name.
func (qs queries) Checks(ctx context.Context, orgID, pageID int64) ([]Check, error) {
	return collect(ctx, qs.conn, "checks", scanCheck, qs.q(checksQuery), orgID, pageID)
}

// notFound maps sql.ErrNoRows to ErrNotFound and wraps anything else.
func notFound(err error, what string, key any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s %v: %w", what, key, ErrNotFound)
	}
	return fmt.Errorf("store: read %s %v: %w", what, key, err)
}
