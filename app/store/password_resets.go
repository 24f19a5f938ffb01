package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PasswordResetTTL is how long a password reset link works.
const PasswordResetTTL = time.Hour

// PasswordReset is a one-time permission to set a user's password. Only
// the SHA-256 of its token is stored.
type PasswordReset struct {
	UserID    int64
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Usable reports whether the reset link still works at t.
func (r PasswordReset) Usable(t time.Time) bool { return r.UsedAt == nil && t.Before(r.ExpiresAt) }

// CreatePasswordReset issues a reset link for a user and returns its raw
// token, which is not stored. Earlier links of the user keep working until
// they expire or a password is set; resets expired a day ago are pruned on
// the way.
func (s *Store) CreatePasswordReset(ctx context.Context, userID int64) (PasswordReset, string, error) {
	raw, err := randomToken()
	if err != nil {
		return PasswordReset{}, "", err
	}
	t := now()
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM password_resets WHERE expires_at < ?`), t.Add(-24*time.Hour)); err != nil {
		return PasswordReset{}, "", fmt.Errorf("store: prune password resets: %w", err)
	}
	r := PasswordReset{UserID: userID, CreatedAt: t, ExpiresAt: t.Add(PasswordResetTTL)}
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`),
		HashToken(raw), userID, r.CreatedAt, r.ExpiresAt); err != nil {
		return PasswordReset{}, "", fmt.Errorf("store: create password reset for user %d: %w", userID, err)
	}
	return r, raw, nil
}

// PasswordResetByToken returns the reset of a raw token, usable or not;
// ErrNotFound for a token never issued (or pruned).
func (s *Store) PasswordResetByToken(ctx context.Context, raw string) (PasswordReset, error) {
	return s.passwordReset(ctx, HashToken(raw))
}

// passwordReset returns the reset whose token hashes to hash.
func (qs queries) passwordReset(ctx context.Context, hash string) (PasswordReset, error) {
	var r PasswordReset
	var used sql.NullTime
	err := qs.conn.QueryRowContext(ctx, qs.q(`SELECT r.user_id, u.email, r.created_at, r.expires_at, r.used_at
		FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = ?`), hash).
		Scan(&r.UserID, &r.Email, &r.CreatedAt, &r.ExpiresAt, &used)
	if err != nil {
		return PasswordReset{}, notFound(err, "password reset", "")
	}
	r.CreatedAt, r.ExpiresAt, r.UsedAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC(), nullTime(used)
	return r, nil
}

// UsePasswordReset spends a usable reset link and returns it; one used or
// expired fails with ErrLinkSpent, one never issued with ErrNotFound. The
// caller sets the password in the same transaction (SetPassword).
func (tx *Tx) UsePasswordReset(ctx context.Context, raw string) (PasswordReset, error) {
	hash, t := HashToken(raw), now()
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE password_resets SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`), t, hash, t)
	if err != nil {
		return PasswordReset{}, fmt.Errorf("store: use password reset: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return PasswordReset{}, fmt.Errorf("store: use password reset: %w", err)
	}
	r, err := tx.passwordReset(ctx, hash)
	if err != nil {
		return PasswordReset{}, err
	}
	if n == 0 {
		return PasswordReset{}, fmt.Errorf("store: password reset of user %d: %w", r.UserID, ErrLinkSpent)
	}
	return r, nil
}

// SetPassword replaces a user's password, spends their open reset links
// and ends every session they have: whoever knew the old password, or held
// a session opened with it, is out. It returns how many sessions ended.
func (tx *Tx) SetPassword(ctx context.Context, userID int64, hash PasswordHash) (int64, error) {
	if hash == "" {
		return 0, fmt.Errorf("store: set password of user %d: empty hash", userID)
	}
	t := now()
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE users SET password_hash = ? WHERE id = ?`), string(hash), userID)
	if err := oneRowAffected(res, err, "set the password of user", userID); err != nil {
		return 0, err
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL`),
		t, userID); err != nil {
		return 0, fmt.Errorf("store: spend the password resets of user %d: %w", userID, err)
	}
	res, err = tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM sessions WHERE user_id = ?`), userID)
	if err != nil {
		return 0, fmt.Errorf("store: end the sessions of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: end the sessions of user %d: %w", userID, err)
	}
	return n, nil
}
