package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Actor is who did something recorded in the audit log: a signed-in user, an
// API token, or the command line.
type Actor struct {
	UserID  int64  // 0 when not a user
	TokenID int64  // 0 when not a token
	Name    string // shown in the log, e.g. "user:ada@example.org", "token:ci", "cli"
}

// UserActor is the actor for a signed-in user.
func UserActor(u User) Actor { return Actor{UserID: u.ID, Name: "user:" + u.Email} }

// TokenActor is the actor for an API token.
func TokenActor(t APIToken) Actor { return Actor{TokenID: t.ID, Name: "token:" + t.Name} }

// CLIActor is the actor for operations commands run on the server.
func CLIActor() Actor { return Actor{Name: "cli"} }

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID        int64
	OrgID     int64
	Actor     string
	UserID    int64
	TokenID   int64
	Action    string // e.g. "login", "token.create", "check.enabled"
	Target    string // e.g. "token 3", `check 7`
	Detail    json.RawMessage
	CreatedAt time.Time
}

// Audit writes one audit-log row: who (actor) did what (action) to which
// target, with optional detail (marshalled to JSON; never put secrets in it).
// On a Tx the row commits (or not) with the change it describes.
func (qs queries) Audit(ctx context.Context, orgID int64, actor Actor, action, target string, detail any) error {
	d := []byte("{}")
	if detail != nil {
		var err error
		if d, err = json.Marshal(detail); err != nil {
			return fmt.Errorf("store: audit %s: %w", action, err)
		}
	}
	_, err := qs.conn.ExecContext(ctx, qs.q(`INSERT INTO audit_log
		(org_id, actor_user_id, actor_token_id, actor, action, target, detail, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		orgID, nullID(actor.UserID), nullID(actor.TokenID), actor.Name, action, target, string(d), now())
	if err != nil {
		return fmt.Errorf("store: audit %s %s: %w", action, target, err)
	}
	return nil
}

// AuditLog returns the organisation's most recent audit entries, newest
// first, at most limit of them.
func (s *Store) AuditLog(ctx context.Context, orgID int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	return collect(ctx, s.db, "audit log", func(row rowScanner) (AuditEntry, error) {
		var e AuditEntry
		var userID, tokenID sql.NullInt64
		var detail string
		err := row.Scan(&e.ID, &e.OrgID, &userID, &tokenID, &e.Actor, &e.Action, &e.Target, &detail, &e.CreatedAt)
		e.UserID, e.TokenID = userID.Int64, tokenID.Int64
		e.Detail = json.RawMessage(detail)
		e.CreatedAt = e.CreatedAt.UTC()
		return e, err
	}, s.q(`SELECT id, org_id, actor_user_id, actor_token_id, actor, action, target, detail, created_at
		FROM audit_log WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`), orgID, limit)
}

// nullID stores 0 as NULL for optional references.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
