package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so leaked tokens are easy to spot
// (secret scanners) and easy to tell from session cookies.
const TokenPrefix = "phr_"

// tokenDisplayLen is how much of a token is kept in clear for display:
// "phr_" and 8 random characters, enough to tell tokens apart, far too few
// to guess the rest.
const tokenDisplayLen = len(TokenPrefix) + 8

// tokenTouchEvery limits how often using a token writes last_used_at.
const tokenTouchEvery = time.Minute

// APIToken is a bearer token for /api/v1. Only the SHA-256 of the token is
// stored, with its first characters (Prefix) for display.
type APIToken struct {
	ID         int64
	OrgID      int64
	Name       string
	Prefix     string
	Role       Role
	CreatedBy  int64 // user id; 0 when created from the command line
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// CreateToken creates an API token and returns it with the raw token, which
// is shown once and cannot be recovered.
func (qs queries) CreateToken(ctx context.Context, orgID int64, name string, role Role, createdBy int64) (APIToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return APIToken{}, "", errors.New("store: create token: name is required")
	}
	if !role.Valid() {
		return APIToken{}, "", fmt.Errorf("store: create token: unknown role %q", role)
	}
	secret, err := randomToken()
	if err != nil {
		return APIToken{}, "", err
	}
	raw := TokenPrefix + secret
	t := APIToken{OrgID: orgID, Name: name, Prefix: raw[:tokenDisplayLen], Role: role, CreatedBy: createdBy, CreatedAt: now()}
	err = qs.conn.QueryRowContext(ctx, qs.q(`INSERT INTO api_tokens (org_id, name, token_hash, prefix, role, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		orgID, name, HashToken(raw), t.Prefix, string(role), nullID(createdBy), t.CreatedAt).Scan(&t.ID)
	if err != nil {
		return APIToken{}, "", fmt.Errorf("store: create token %q: %w", name, err)
	}
	return t, raw, nil
}

const tokenColumns = `id, org_id, name, prefix, role, created_by, created_at, last_used_at, revoked_at`

func scanToken(row rowScanner) (APIToken, error) {
	var t APIToken
	var role string
	var createdBy sql.NullInt64
	var lastUsed, revoked sql.NullTime
	if err := row.Scan(&t.ID, &t.OrgID, &t.Name, &t.Prefix, &role, &createdBy, &t.CreatedAt, &lastUsed, &revoked); err != nil {
		return APIToken{}, err
	}
	t.Role, t.CreatedBy = Role(role), createdBy.Int64
	t.CreatedAt = t.CreatedAt.UTC()
	t.LastUsedAt, t.RevokedAt = nullTime(lastUsed), nullTime(revoked)
	return t, nil
}

// TokenByRaw authenticates a raw bearer token: it returns the token when it
// exists and is not revoked, else ErrNotFound, and records its use.
func (s *Store) TokenByRaw(ctx context.Context, raw string) (APIToken, error) {
	if !strings.HasPrefix(raw, TokenPrefix) {
		return APIToken{}, fmt.Errorf("store: token: %w", ErrNotFound)
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM api_tokens
		WHERE token_hash = ? AND revoked_at IS NULL`), HashToken(raw)))
	if err != nil {
		return APIToken{}, notFound(err, "token", "")
	}
	n := now()
	if t.LastUsedAt == nil || n.Sub(*t.LastUsedAt) >= tokenTouchEvery {
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), n, t.ID); err != nil {
			return APIToken{}, fmt.Errorf("store: touch token %d: %w", t.ID, err)
		}
		t.LastUsedAt = &n
	}
	return t, nil
}

// Tokens lists the organisation's API tokens, newest first, revoked ones
// included (they show when they were revoked).
func (s *Store) Tokens(ctx context.Context, orgID int64) ([]APIToken, error) {
	return collect(ctx, s.db, "tokens", scanToken, s.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE org_id = ? ORDER BY id DESC`), orgID)
}

// RevokeToken revokes one of the organisation's tokens inside the
// transaction. Revoking a revoked token is not an error; another
// organisation's token is ErrNotFound.
func (tx *Tx) RevokeToken(ctx context.Context, orgID, id int64) (APIToken, error) {
	t, err := scanToken(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE org_id = ? AND id = ?`), orgID, id))
	if err != nil {
		return APIToken{}, notFound(err, "token", id)
	}
	if t.RevokedAt != nil {
		return t, nil
	}
	n := now()
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE api_tokens SET revoked_at = ? WHERE org_id = ? AND id = ?`), n, orgID, id); err != nil {
		return APIToken{}, fmt.Errorf("store: revoke token %d: %w", id, err)
	}
	t.RevokedAt = &n
	return t, nil
}
