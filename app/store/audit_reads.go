package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AuditFilter narrows the audit log. Zero fields do not filter.
type AuditFilter struct {
	// Who matches the actor's name anywhere, case-insensitively: an email
	// ("ada@"), a token ("token:ci") or "cli".
	Who string
	// Action is a prefix of the action: "check" finds check.enabled and
	// check.run_now, "incident.update" both kinds of update.
	Action string
	// From and To bound created_at: From <= created_at < To.
	From, To time.Time
	// Before pages back: only entries with an id below it (the cursor the
	// previous page returned).
	Before int64
	// Limit is the page size (100 when zero, at most 500).
	Limit int
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Entries []AuditEntry
	// Next is the Before of the following (older) page; 0 on the last page.
	Next int64
}

// AuditEntries reads one page of the organisation's audit log, newest
// first, filtered by f. The page is found by id (entries are numbered in
// the order they were written), so paging is stable while new rows arrive.
func (s *Store) AuditEntries(ctx context.Context, orgID int64, f AuditFilter) (AuditPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 500)
	where, args := []string{"org_id = ?"}, []any{orgID}
	if w := strings.ToLower(strings.TrimSpace(f.Who)); w != "" {
		where, args = append(where, `LOWER(actor) LIKE ? ESCAPE '\'`), append(args, "%"+likeEscape(w)+"%")
	}
	if a := strings.TrimSpace(f.Action); a != "" {
		where, args = append(where, `action LIKE ? ESCAPE '\'`), append(args, likeEscape(a)+"%")
	}
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, f.To.UTC())
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	args = append(args, limit+1)
	entries, err := collect(ctx, s.db, "audit log", scanAudit, s.q(`SELECT `+auditColumns+` FROM audit_log
		WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`), args...)
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Entries: entries}
	if len(entries) > limit {
		page.Entries = entries[:limit]
		page.Next = page.Entries[limit-1].ID
	}
	return page, nil
}

const auditColumns = `id, org_id, actor_user_id, actor_token_id, actor, action, target, detail, created_at`

func scanAudit(row rowScanner) (AuditEntry, error) {
	var e AuditEntry
	var userID, tokenID sql.NullInt64
	var detail string
	err := row.Scan(&e.ID, &e.OrgID, &userID, &tokenID, &e.Actor, &e.Action, &e.Target, &detail, &e.CreatedAt)
	e.UserID, e.TokenID = userID.Int64, tokenID.Int64
	e.Detail = json.RawMessage(detail)
	e.CreatedAt = e.CreatedAt.UTC()
	return e, err
}

// likeEscape makes s match itself in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AuditRef names one object an audit entry points at: Kind as the log
// writes it ("check", "alert channel", "user") and its id.
type AuditRef struct {
	Kind string
	ID   int64
}

// auditTarget reads targets written as "<kind> <id>".
var auditTarget = regexp.MustCompile(`^([a-z][a-z ]*[a-z]) ([0-9]+)$`)

// TargetRef is the object an audit target names by id ("check 7"); ok is
// false for targets written with a name already ("user ada@…").
func TargetRef(target string) (AuditRef, bool) {
	m := auditTarget.FindStringSubmatch(target)
	if m == nil {
		return AuditRef{}, false
	}
	id, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return AuditRef{}, false
	}
	return AuditRef{Kind: m[1], ID: id}, true
}

// DetailRefKind is the kind of object a detail key such as "page_id" or
// "component_ids" points at; "" when the key is not a known reference.
func DetailRefKind(key string) string {
	base, ok := strings.CutSuffix(key, "_ids")
	if !ok {
		if base, ok = strings.CutSuffix(key, "_id"); !ok {
			return ""
		}
	}
	if base == "channel" {
		base = "alert channel"
	}
	if _, known := auditNameQueries[base]; known {
		return base
	}
	return ""
}

// auditNameQueries finds the names of one kind of object within an
// organisation. Users are looked up among the organisation's members and
// the accounts its own log names as actors, never across tenants.
var auditNameQueries = map[string]string{
	"page":              `SELECT id, title FROM pages WHERE org_id = ? AND id IN (%s)`,
	"group":             `SELECT id, name FROM component_groups WHERE org_id = ? AND id IN (%s)`,
	"component":         `SELECT id, name FROM components WHERE org_id = ? AND id IN (%s)`,
	"check":             `SELECT id, name FROM checks WHERE org_id = ? AND id IN (%s)`,
	"incident":          `SELECT id, name FROM incidents WHERE org_id = ? AND id IN (%s)`,
	"maintenance":       `SELECT id, name FROM maintenance_windows WHERE org_id = ? AND id IN (%s)`,
	"incident template": `SELECT id, name FROM incident_templates WHERE org_id = ? AND id IN (%s)`,
	"token":             `SELECT id, name FROM api_tokens WHERE org_id = ? AND id IN (%s)`,
	"alert channel":     `SELECT id, name FROM alert_channels WHERE org_id = ? AND id IN (%s)`,
	"invite":            `SELECT id, email FROM invites WHERE org_id = ? AND id IN (%s)`,
	"user": `SELECT u.id, u.email FROM users u WHERE u.id IN (%s) AND (
		EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.org_id = ?)
		OR EXISTS (SELECT 1 FROM audit_log a WHERE a.actor_user_id = u.id AND a.org_id = ?))`,
}

// AuditNames returns the current names of the objects refs point at, in
// the organisation: one query per kind however many entries a page has.
// Objects deleted since, and kinds without a name, are simply missing.
func (s *Store) AuditNames(ctx context.Context, orgID int64, refs []AuditRef) (map[AuditRef]string, error) {
	byKind := map[string][]any{}
	seen := map[AuditRef]bool{}
	for _, r := range refs {
		if _, ok := auditNameQueries[r.Kind]; ok && !seen[r] {
			seen[r] = true
			byKind[r.Kind] = append(byKind[r.Kind], r.ID)
		}
	}
	names := map[AuditRef]string{}
	for kind, ids := range byKind {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		query := fmt.Sprintf(auditNameQueries[kind], marks)
		args := append([]any{orgID}, ids...)
		if kind == "user" {
			args = append(append([]any{}, ids...), orgID, orgID)
		}
		type named struct {
			id   int64
			name string
		}
		rows, err := collect(ctx, s.db, "names of audited "+kind+"s", func(r rowScanner) (named, error) {
			var n named
			err := r.Scan(&n.id, &n.name)
			return n, err
		}, s.q(query), args...)
		if err != nil {
			return nil, err
		}
		for _, n := range rows {
			names[AuditRef{Kind: kind, ID: n.id}] = n.name
		}
	}
	return names, nil
}
