package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// Session lifetimes: a session ends after SessionIdleTimeout without use, and
// at the latest SessionMaxAge after sign-in.
const (
	SessionIdleTimeout = 14 * 24 * time.Hour
	SessionMaxAge      = 30 * 24 * time.Hour
	// sessionTouchEvery limits how often using a session writes its
	// last_seen_at: once a minute is precise enough for a 14-day timeout.
	sessionTouchEvery = time.Minute
)

// Session is a signed-in browser. Only the SHA-256 of its token is stored.
type Session struct {
	OrgID      int64
	OrgName    string
	UserID     int64
	Email      string
	Role       Role // the user's current role in OrgID
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// User is the session's user.
func (s Session) User() User { return User{ID: s.UserID, Email: s.Email} }

// CreateSession signs a user in to an organisation and returns the raw
// session token for the cookie; it is not stored and cannot be recovered.
// Expired sessions are cleared on the way.
func (s *Store) CreateSession(ctx context.Context, orgID, userID int64) (string, error) {
	raw, err := randomToken()
	if err != nil {
		return "", err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", err
	}
	t := now()
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at < ?`), t); err != nil {
		return "", fmt.Errorf("store: clear expired sessions: %w", err)
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (token_hash, org_id, user_id, csrf_token, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), HashToken(raw), orgID, userID, csrf, t, t, sessionExpiry(t, t))
	if err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	return raw, nil
}

// SessionByToken returns the live session for a raw token, sliding its idle
// expiry forward. Expired sessions, unknown tokens and users who are no
// longer members of the session's organisation give ErrNotFound.
func (s *Store) SessionByToken(ctx context.Context, raw string) (Session, error) {
	hash := HashToken(raw)
	var ses Session
	var role string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT s.org_id, o.name, s.user_id, u.email, m.role, s.csrf_token,
			s.created_at, s.last_seen_at, s.expires_at
		FROM sessions s
		JOIN users u ON u.id = s.user_id
		JOIN orgs o ON o.id = s.org_id
		JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
		WHERE s.token_hash = ?`), hash).Scan(&ses.OrgID, &ses.OrgName, &ses.UserID, &ses.Email, &role, &ses.CSRFToken,
		&ses.CreatedAt, &ses.LastSeenAt, &ses.ExpiresAt)
	if err != nil {
		return Session{}, notFound(err, "session", "")
	}
	ses.Role = Role(role)
	ses.CreatedAt, ses.LastSeenAt, ses.ExpiresAt = ses.CreatedAt.UTC(), ses.LastSeenAt.UTC(), ses.ExpiresAt.UTC()
	t := now()
	if !t.Before(ses.ExpiresAt) {
		return Session{}, fmt.Errorf("store: session expired: %w", ErrNotFound)
	}
	if t.Sub(ses.LastSeenAt) >= sessionTouchEvery {
		ses.LastSeenAt, ses.ExpiresAt = t, sessionExpiry(ses.CreatedAt, t)
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?`),
			ses.LastSeenAt, ses.ExpiresAt, hash); err != nil {
			return Session{}, fmt.Errorf("store: touch session: %w", err)
		}
	}
	return ses, nil
}

// DeleteSession signs a session out. Deleting an unknown token is not an
// error: the outcome is the same.
func (s *Store) DeleteSession(ctx context.Context, raw string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE token_hash = ?`), HashToken(raw)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// sessionExpiry is the idle timeout from lastSeen, capped by the absolute
// maximum age from created.
func sessionExpiry(created, lastSeen time.Time) time.Time {
	idle := lastSeen.Add(SessionIdleTimeout)
	if limit := created.Add(SessionMaxAge); limit.Before(idle) {
		return limit
	}
	return idle
}

// HashToken is how session and API tokens are stored: hex SHA-256. The
// tokens carry 256 random bits, so a fast hash is enough (no brute force).
func HashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
