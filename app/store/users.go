package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User is a person who signs in to the console. Users are global; what they
// may do is decided per organisation by their Membership.
type User struct {
	ID        int64
	Email     string
	CreatedAt time.Time
}

// Membership is a user's role in one organisation.
type Membership struct {
	OrgID   int64
	OrgName string
	OrgSlug string
	UserID  int64
	Role    Role
}

// DefaultPasswordCost is the bcrypt cost used in production. Tests pass a
// low cost (bcrypt.MinCost) so -race runs stay fast.
const DefaultPasswordCost = 12

// Password length limits: MinPasswordLen is what setup and the command line
// accept; MaxPasswordBytes is bcrypt's input limit, and longer passwords are
// refused rather than silently truncated.
const (
	MinPasswordLen   = 10
	MaxPasswordBytes = 72
)

// PasswordHash is a bcrypt hash. It is a distinct type so that a raw
// password can never be handed to CreateUser by mistake.
type PasswordHash string

// HashPassword hashes password with bcrypt at cost (0 means
// DefaultPasswordCost).
func HashPassword(password string, cost int) (PasswordHash, error) {
	if cost == 0 {
		cost = DefaultPasswordCost
	}
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("store: password longer than %d bytes", MaxPasswordBytes)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("store: hash password: %w", err)
	}
	return PasswordHash(h), nil
}

// CheckPassword returns nil when password matches hash. The comparison takes
// the same time whether or not it matches.
func CheckPassword(hash PasswordHash, password string) error {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
}

// NormalizeEmail is the form emails are stored and looked up in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser creates a user; ErrConflict if the email is taken.
func (qs queries) CreateUser(ctx context.Context, email string, hash PasswordHash) (User, error) {
	u := User{Email: NormalizeEmail(email), CreatedAt: now()}
	if u.Email == "" || hash == "" {
		return User{}, errors.New("store: create user: email and password hash are required")
	}
	err := qs.conn.QueryRowContext(ctx, qs.q(`INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`),
		u.Email, string(hash), u.CreatedAt).Scan(&u.ID)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("store: user %q: %w", u.Email, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// UserByEmail returns the user with this email and their password hash.
func (qs queries) UserByEmail(ctx context.Context, email string) (User, PasswordHash, error) {
	var u User
	var hash string
	err := qs.conn.QueryRowContext(ctx, qs.q(`SELECT id, email, password_hash, created_at FROM users WHERE email = ?`),
		NormalizeEmail(email)).Scan(&u.ID, &u.Email, &hash, &u.CreatedAt)
	if err != nil {
		return User{}, "", notFound(err, "user", NormalizeEmail(email))
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, PasswordHash(hash), nil
}

// AddMember gives a user a role in an organisation, replacing any role
// they had there.
func (qs queries) AddMember(ctx context.Context, orgID, userID int64, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("store: add member: unknown role %q", role)
	}
	_, err := qs.conn.ExecContext(ctx, qs.q(`INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role`), orgID, userID, string(role), now())
	if err != nil {
		return fmt.Errorf("store: add user %d to organisation %d: %w", userID, orgID, err)
	}
	return nil
}

// MemberRole returns the user's role in the organisation, ErrNotFound when
// they are not a member.
func (s *Store) MemberRole(ctx context.Context, orgID, userID int64) (Role, error) {
	var role string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT role FROM memberships WHERE org_id = ? AND user_id = ?`),
		orgID, userID).Scan(&role)
	if err != nil {
		return "", notFound(err, "membership of user", userID)
	}
	return Role(role), nil
}

// Memberships lists the organisations a user belongs to, oldest membership
// first: signing in picks the first.
func (s *Store) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	return collect(ctx, s.db, fmt.Sprintf("memberships of user %d", userID), func(row rowScanner) (Membership, error) {
		var m Membership
		var role string
		err := row.Scan(&m.OrgID, &m.OrgName, &m.OrgSlug, &m.UserID, &role)
		m.Role = Role(role)
		return m, err
	}, s.q(`SELECT m.org_id, o.name, o.slug, m.user_id, m.role
		FROM memberships m JOIN orgs o ON o.id = m.org_id
		WHERE m.user_id = ? ORDER BY m.created_at, m.org_id`), userID)
}

// SetupParams is what the first-run setup creates: the organisation and its
// owner.
type SetupParams struct {
	OrgName string
	OrgSlug string // derived from OrgName when empty
	Email   string
	Hash    PasswordHash
}

// Setup creates the first organisation and its owner in one transaction. It
// fails with ErrConflict when any user already exists, also when two setups
// race: SQLite serialises write transactions, and on PostgreSQL the users
// table is locked against concurrent inserts before it is counted.
func (s *Store) Setup(ctx context.Context, p SetupParams) (Org, User, error) {
	if p.OrgSlug == "" {
		p.OrgSlug = SlugFor(p.OrgName)
	}
	var org Org
	var user User
	err := s.InTx(ctx, func(tx *Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.tx.ExecContext(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return fmt.Errorf("store: setup: lock users: %w", err)
			}
		}
		var n int
		if err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) u`).Scan(&n); err != nil {
			return fmt.Errorf("store: setup: count users: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("store: setup already done: %w", ErrConflict)
		}
		var err error
		if org, err = tx.CreateOrg(ctx, p.OrgName, p.OrgSlug); err != nil {
			return err
		}
		if user, err = tx.CreateUser(ctx, p.Email, p.Hash); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, org.ID, user.ID, RoleOwner); err != nil {
			return err
		}
		return tx.Audit(ctx, org.ID, UserActor(user), "setup", "org "+org.Slug, nil)
	})
	if err != nil {
		return Org{}, User{}, err
	}
	return org, user, nil
}

// SlugFor derives a URL-safe slug from a name: lower-case letters, digits
// and single dashes ("ACME Corp." → "acme-corp").
func SlugFor(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		return "org"
	}
	return b.String()
}
