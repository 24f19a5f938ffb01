package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// InviteTTL is how long an invitation link works.
const InviteTTL = 72 * time.Hour

// inviteKeep is how long a finished invitation (accepted, revoked or
// expired) stays listed before creating another one prunes it; the audit
// log keeps the story for longer.
const inviteKeep = 30 * 24 * time.Hour

// ErrLinkSpent is the answer to a one-time link (an invitation or a
// password reset) that was used, revoked or has expired. Callers read the
// link again to say which.
var ErrLinkSpent = errors.New("store: link used, revoked or expired")

// Invite is an invitation to join an organisation with a role. Only the
// SHA-256 of its token is stored.
type Invite struct {
	ID        int64
	OrgID     int64
	OrgName   string
	Email     string
	Role      Role
	InvitedBy int64 // user id; 0 when that user is gone
	CreatedAt time.Time
	ExpiresAt time.Time
	// AcceptedAt and RevokedAt end the invitation; AcceptedBy is the user
	// who joined with it.
	AcceptedAt *time.Time
	AcceptedBy int64
	RevokedAt  *time.Time
}

// InviteState is where an invitation stands.
type InviteState string

// The invitation states.
const (
	InvitePending  InviteState = "pending"
	InviteAccepted InviteState = "accepted"
	InviteRevoked  InviteState = "revoked"
	InviteExpired  InviteState = "expired"
)

// State is the invitation's state at t.
func (i Invite) State(t time.Time) InviteState {
	switch {
	case i.AcceptedAt != nil:
		return InviteAccepted
	case i.RevokedAt != nil:
		return InviteRevoked
	case !t.Before(i.ExpiresAt):
		return InviteExpired
	}
	return InvitePending
}

// CreateInvite invites email to the organisation with role and returns the
// invitation with its raw token, which is not stored and cannot be
// recovered. An earlier open invitation of the same address is revoked:
// only the newest link works.
func (tx *Tx) CreateInvite(ctx context.Context, orgID int64, email string, role Role, invitedBy int64) (Invite, string, error) {
	email = NormalizeEmail(email)
	if email == "" {
		return Invite{}, "", invalid("email", "an email address is required")
	}
	if !role.Valid() {
		return Invite{}, "", invalid("role", "choose viewer, editor or owner")
	}
	raw, err := randomToken()
	if err != nil {
		return Invite{}, "", err
	}
	t := now()
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE invites SET revoked_at = ?
		WHERE org_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL`), t, orgID, email); err != nil {
		return Invite{}, "", fmt.Errorf("store: revoke earlier invitations of %q: %w", email, err)
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM invites WHERE org_id = ? AND expires_at < ?`),
		orgID, t.Add(-inviteKeep)); err != nil {
		return Invite{}, "", fmt.Errorf("store: prune old invitations: %w", err)
	}
	inv := Invite{OrgID: orgID, Email: email, Role: role, InvitedBy: invitedBy, CreatedAt: t, ExpiresAt: t.Add(InviteTTL)}
	err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO invites (org_id, email, role, token_hash, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		orgID, email, string(role), HashToken(raw), nullID(invitedBy), inv.CreatedAt, inv.ExpiresAt).Scan(&inv.ID)
	if err != nil {
		return Invite{}, "", fmt.Errorf("store: create invitation of %q: %w", email, err)
	}
	return inv, raw, nil
}

const inviteColumns = `i.id, i.org_id, o.name, i.email, i.role, i.invited_by, i.created_at, i.expires_at,
	i.accepted_at, i.accepted_by, i.revoked_at`

const inviteFrom = ` FROM invites i JOIN orgs o ON o.id = i.org_id`

func scanInvite(row rowScanner) (Invite, error) {
	var i Invite
	var role string
	var by, acceptedBy sql.NullInt64
	var accepted, revoked sql.NullTime
	if err := row.Scan(&i.ID, &i.OrgID, &i.OrgName, &i.Email, &role, &by, &i.CreatedAt, &i.ExpiresAt,
		&accepted, &acceptedBy, &revoked); err != nil {
		return Invite{}, err
	}
	i.Role, i.InvitedBy, i.AcceptedBy = Role(role), by.Int64, acceptedBy.Int64
	i.CreatedAt, i.ExpiresAt = i.CreatedAt.UTC(), i.ExpiresAt.UTC()
	i.AcceptedAt, i.RevokedAt = nullTime(accepted), nullTime(revoked)
	return i, nil
}

// OpenInvites lists the organisation's invitations nobody accepted or
// revoked, newest first; expired ones stay listed (State says so) until
// pruned.
func (s *Store) OpenInvites(ctx context.Context, orgID int64) ([]Invite, error) {
	return collect(ctx, s.db, fmt.Sprintf("invitations of organisation %d", orgID), scanInvite,
		s.q(`SELECT `+inviteColumns+inviteFrom+` WHERE i.org_id = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		ORDER BY i.created_at DESC, i.id DESC LIMIT 200`), orgID)
}

// InviteByToken returns the invitation of a raw token in whatever state it
// is; ErrNotFound for a token that was never issued (or was pruned).
func (s *Store) InviteByToken(ctx context.Context, raw string) (Invite, error) {
	i, err := scanInvite(s.db.QueryRowContext(ctx, s.q(`SELECT `+inviteColumns+inviteFrom+` WHERE i.token_hash = ?`), HashToken(raw)))
	if err != nil {
		return Invite{}, notFound(err, "invitation", "")
	}
	return i, nil
}

// RevokeInvite ends an open invitation of the organisation; ErrNotFound
// when it is another organisation's, or accepted or revoked already.
func (tx *Tx) RevokeInvite(ctx context.Context, orgID, id int64) (Invite, error) {
	i, err := scanInvite(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+inviteColumns+inviteFrom+`
		WHERE i.id = ? AND i.org_id = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL`), id, orgID))
	if err != nil {
		return Invite{}, notFound(err, "open invitation", id)
	}
	t := now()
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE invites SET revoked_at = ?
		WHERE id = ? AND org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`), t, id, orgID)
	if err := oneRowAffected(res, err, "revoke invitation", id); err != nil {
		return Invite{}, err
	}
	i.RevokedAt = &t
	return i, nil
}

// AcceptInvite spends a pending invitation for userID and returns it. The
// claim is one conditional update, so of two browsers posting the same
// link only one gets it; a link that is used, revoked or expired fails with
// ErrLinkSpent, one never issued with ErrNotFound. The caller adds the
// membership in the same transaction (JoinOrg).
func (tx *Tx) AcceptInvite(ctx context.Context, raw string, userID int64) (Invite, error) {
	hash, t := HashToken(raw), now()
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE invites SET accepted_at = ?, accepted_by = ?
		WHERE token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`), t, userID, hash, t)
	if err != nil {
		return Invite{}, fmt.Errorf("store: accept invitation: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Invite{}, fmt.Errorf("store: accept invitation: %w", err)
	}
	i, err := scanInvite(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+inviteColumns+inviteFrom+` WHERE i.token_hash = ?`), hash))
	if err != nil {
		return Invite{}, notFound(err, "invitation", "")
	}
	if n == 0 {
		return Invite{}, fmt.Errorf("store: invitation %d is %s: %w", i.ID, i.State(t), ErrLinkSpent)
	}
	return i, nil
}
