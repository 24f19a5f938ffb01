package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Org is a tenant. Every other row belongs to one.
type Org struct {
	ID        int64
	Name      string
	Slug      string
	CreatedAt time.Time
}

// Role is a member's or token's power within an organisation.
type Role string

// The roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleEditor Role = "editor"
	RoleViewer Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleEditor || r == RoleViewer }

// Allows reports whether r may do what needs the role need: an owner may do
// everything, an editor what editors and viewers may, a viewer only view.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() && need.rank() > 0 }

func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 3
	case RoleEditor:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// CreateOrg creates an organisation; ErrConflict if the slug is taken.
func (qs queries) CreateOrg(ctx context.Context, name, slug string) (Org, error) {
	o := Org{Name: name, Slug: slug, CreatedAt: now()}
	err := qs.conn.QueryRowContext(ctx, qs.q(`INSERT INTO orgs (name, slug, created_at) VALUES (?, ?, ?) RETURNING id`),
		name, slug, o.CreatedAt).Scan(&o.ID)
	if isUniqueViolation(err) {
		return Org{}, fmt.Errorf("store: organisation %q: %w", slug, ErrConflict)
	}
	if err != nil {
		return Org{}, fmt.Errorf("store: create organisation %q: %w", slug, err)
	}
	return o, nil
}

// Org returns one organisation by id.
func (s *Store) Org(ctx context.Context, id int64) (Org, error) {
	return s.scanOrg(s.db.QueryRowContext(ctx, s.q(`SELECT id, name, slug, created_at FROM orgs WHERE id = ?`), id))
}

// OrgBySlug returns one organisation by slug.
func (s *Store) OrgBySlug(ctx context.Context, slug string) (Org, error) {
	return s.scanOrg(s.db.QueryRowContext(ctx, s.q(`SELECT id, name, slug, created_at FROM orgs WHERE slug = ?`), slug))
}

func (s *Store) scanOrg(row *sql.Row) (Org, error) {
	var o Org
	err := row.Scan(&o.ID, &o.Name, &o.Slug, &o.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Org{}, ErrNotFound
	}
	if err != nil {
		return Org{}, fmt.Errorf("store: read organisation: %w", err)
	}
	o.CreatedAt = o.CreatedAt.UTC()
	return o, nil
}

// Orgs lists every organisation, oldest first (operations commands use it to
// pick the only one of a self-hosted install).
func (s *Store) Orgs(ctx context.Context) ([]Org, error) {
	return collect(ctx, s.db, "organisations", func(r rowScanner) (Org, error) {
		var o Org
		err := r.Scan(&o.ID, &o.Name, &o.Slug, &o.CreatedAt)
		o.CreatedAt = o.CreatedAt.UTC()
		return o, err
	}, `SELECT id, name, slug, created_at FROM orgs ORDER BY id`)
}

// HasUsers reports whether any user exists; until one does, the web role
// offers the first-run setup page.
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) u`).Scan(&n); err != nil {
		return false, fmt.Errorf("store: count users: %w", err)
	}
	return n > 0, nil
}

// ErrSeveralOrgs is returned by PickOrg when no slug was given and the
// install has more than one organisation.
var ErrSeveralOrgs = errors.New("store: several organisations")

// PickOrg finds the organisation an operations command acts on: the one
// named by slug, or the only one there is. Its errors are written for the
// operator at the terminal.
func (s *Store) PickOrg(ctx context.Context, slug string) (Org, error) {
	if slug != "" {
		o, err := s.OrgBySlug(ctx, slug)
		if errors.Is(err, ErrNotFound) {
			return Org{}, pickError{fmt.Sprintf("no organisation with slug %q", slug), ErrNotFound}
		}
		return o, err
	}
	orgs, err := s.Orgs(ctx)
	if err != nil {
		return Org{}, err
	}
	switch len(orgs) {
	case 0:
		return Org{}, pickError{"no organisation yet: create one with `pharos user create --email … --org …` or the setup page", ErrNotFound}
	case 1:
		return orgs[0], nil
	}
	slugs := make([]string, len(orgs))
	for i, o := range orgs {
		slugs[i] = o.Slug
	}
	return Org{}, pickError{fmt.Sprintf("there are several organisations (%s): choose one with --org SLUG", strings.Join(slugs, ", ")), ErrSeveralOrgs}
}

// pickError reads well at a terminal and still matches its sentinel.
type pickError struct {
	msg  string
	kind error
}

func (e pickError) Error() string { return e.msg }
func (e pickError) Unwrap() error { return e.kind }
