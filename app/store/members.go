package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Member is a user as one organisation's team screen shows them.
type Member struct {
	UserID   int64
	Email    string
	Role     Role
	JoinedAt time.Time
	// LastSignIn is the member's latest sign-in to this organisation the
	// audit log remembers; nil when it holds none.
	LastSignIn *time.Time
}

// ErrLastOwner refuses a change that would leave an organisation without
// an owner: nobody could manage its team any more.
var ErrLastOwner = errors.New("store: an organisation keeps at least one owner")

// memberQuery lists members with their last sign-in. The latest login row
// is found by its id (MAX of an integer), so its created_at is read as a
// real column on both databases.
const memberQuery = `SELECT m.user_id, u.email, m.role, m.created_at, a.created_at
	FROM memberships m
	JOIN users u ON u.id = m.user_id
	LEFT JOIN audit_log a ON a.id = (SELECT MAX(l.id) FROM audit_log l
		WHERE l.org_id = m.org_id AND l.actor_user_id = m.user_id AND l.action = 'login')
	WHERE m.org_id = ?`

func scanMember(row rowScanner) (Member, error) {
	var m Member
	var role string
	var last sql.NullTime
	if err := row.Scan(&m.UserID, &m.Email, &role, &m.JoinedAt, &last); err != nil {
		return Member{}, err
	}
	m.Role, m.JoinedAt, m.LastSignIn = Role(role), m.JoinedAt.UTC(), nullTime(last)
	return m, nil
}

// Members lists an organisation's members, earliest to join first.
func (s *Store) Members(ctx context.Context, orgID int64) ([]Member, error) {
	return collect(ctx, s.db, fmt.Sprintf("members of organisation %d", orgID), scanMember,
		s.q(memberQuery+` ORDER BY m.created_at, m.user_id`), orgID)
}

// Member returns one member of an organisation; ErrNotFound when the user
// is not a member of it (also when they belong to another organisation).
func (qs queries) Member(ctx context.Context, orgID, userID int64) (Member, error) {
	m, err := scanMember(qs.conn.QueryRowContext(ctx, qs.q(memberQuery+` AND m.user_id = ?`), orgID, userID))
	if err != nil {
		return Member{}, notFound(err, "member", userID)
	}
	return m, nil
}

// Owners returns the ids of the organisation's owners, lowest first. On
// PostgreSQL their rows stay locked until the transaction ends, so a
// decision taken on them holds until it commits (two owners demoting each
// other at once take turns, and the second sees the first's change);
// SQLite serialises write transactions anyway.
func (tx *Tx) Owners(ctx context.Context, orgID int64) ([]int64, error) {
	lock := ""
	if tx.s.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	return collect(ctx, tx.tx, fmt.Sprintf("owners of organisation %d", orgID), func(r rowScanner) (int64, error) {
		var id int64
		err := r.Scan(&id)
		return id, err
	}, tx.s.q(`SELECT user_id FROM memberships WHERE org_id = ? AND role = 'owner' ORDER BY user_id`+lock), orgID)
}

// keepsAnOwner fails with ErrLastOwner when userID is the organisation's
// only owner.
func (tx *Tx) keepsAnOwner(ctx context.Context, orgID, userID int64) error {
	owners, err := tx.Owners(ctx, orgID)
	if err != nil {
		return err
	}
	if len(owners) == 1 && slices.Contains(owners, userID) {
		return fmt.Errorf("store: user %d is the only owner of organisation %d: %w", userID, orgID, ErrLastOwner)
	}
	return nil
}

// SetMemberRole changes a member's role and returns the member as they were
// before. Demoting the last owner fails with ErrLastOwner; a user who is not
// a member of the organisation is ErrNotFound.
func (tx *Tx) SetMemberRole(ctx context.Context, orgID, userID int64, role Role) (Member, error) {
	if !role.Valid() {
		return Member{}, &InvalidError{Field: "role", Message: "choose viewer, editor or owner"}
	}
	if role != RoleOwner {
		if err := tx.keepsAnOwner(ctx, orgID, userID); err != nil {
			return Member{}, err
		}
	}
	m, err := tx.Member(ctx, orgID, userID)
	if err != nil {
		return Member{}, err
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?`),
		string(role), orgID, userID)
	if err := oneRowAffected(res, err, "set the role of member", userID); err != nil {
		return Member{}, err
	}
	return m, nil
}

// RemoveMember takes a user out of an organisation and ends their sessions
// in it; the account itself stays (it may belong to other organisations).
// Removing the last owner fails with ErrLastOwner.
func (tx *Tx) RemoveMember(ctx context.Context, orgID, userID int64) (Member, error) {
	if err := tx.keepsAnOwner(ctx, orgID, userID); err != nil {
		return Member{}, err
	}
	m, err := tx.Member(ctx, orgID, userID)
	if err != nil {
		return Member{}, err
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM memberships WHERE org_id = ? AND user_id = ?`), orgID, userID)
	if err := oneRowAffected(res, err, "remove member", userID); err != nil {
		return Member{}, err
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM sessions WHERE org_id = ? AND user_id = ?`), orgID, userID); err != nil {
		return Member{}, fmt.Errorf("store: end the sessions of removed member %d: %w", userID, err)
	}
	return m, nil
}

// JoinOrg makes a user a member with role unless they are one already, in
// which case their role stays as it is (an invitation never demotes). It
// returns the role they hold afterwards and whether they joined just now.
func (tx *Tx) JoinOrg(ctx context.Context, orgID, userID int64, role Role) (Role, bool, error) {
	if !role.Valid() {
		return "", false, fmt.Errorf("store: join organisation: unknown role %q", role)
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, user_id) DO NOTHING`), orgID, userID, string(role), now())
	if err != nil {
		return "", false, fmt.Errorf("store: add user %d to organisation %d: %w", userID, orgID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", false, fmt.Errorf("store: add user %d to organisation %d: %w", userID, orgID, err)
	}
	if n == 1 {
		return role, true, nil
	}
	m, err := tx.Member(ctx, orgID, userID)
	if err != nil {
		return "", false, err
	}
	return m.Role, false, nil
}
