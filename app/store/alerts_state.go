package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Alert is one condition (kind + subject) on one channel, from trigger to
// recovery: one row across every probe round in between.
type Alert struct {
	ID          int64
	OrgID       int64
	ChannelID   int64
	ChannelName string
	ChannelKind string
	Kind        string
	// Subject is what it is about: component:ID, check:ID or region:NAME.
	Subject     string
	SubjectName string
	ComponentID int64
	CheckID     int64
	// Detail is the technical detail for operators (Markdown).
	Detail         string
	OpenedAt       time.Time
	LastSentAt     *time.Time
	Sends          int
	AcknowledgedAt *time.Time
	AcknowledgedBy int64
	ResolvedAt     *time.Time
	// RepeatEvery is the channel's repeat interval; InMaintenance whether
	// the alert's component is under maintenance now. Both as read.
	RepeatEvery   time.Duration
	InMaintenance bool
	ChannelOn     bool
}

// Open reports whether the alert is unresolved.
func (a Alert) Open() bool { return a.ResolvedAt == nil }

const alertColumns = `a.id, a.org_id, a.channel_id, ch.name, ch.kind, a.kind, a.subject, a.subject_name,
	a.component_id, a.check_id, a.detail, a.opened_at, a.last_sent_at, a.sends, a.acknowledged_at, a.acknowledged_by,
	a.resolved_at, ch.repeat_seconds, ch.enabled, COALESCE(cp.status = 'under_maintenance', FALSE)`

const alertFrom = ` FROM alerts a JOIN alert_channels ch ON ch.id = a.channel_id
	LEFT JOIN components cp ON cp.id = a.component_id `

func scanAlert(row rowScanner) (Alert, error) {
	var a Alert
	var comp, check, by sql.NullInt64
	var sent, acked, resolved sql.NullTime
	var secs int64
	err := row.Scan(&a.ID, &a.OrgID, &a.ChannelID, &a.ChannelName, &a.ChannelKind, &a.Kind, &a.Subject, &a.SubjectName,
		&comp, &check, &a.Detail, &a.OpenedAt, &sent, &a.Sends, &acked, &by, &resolved, &secs, &a.ChannelOn,
		&a.InMaintenance)
	a.ComponentID, a.CheckID, a.AcknowledgedBy = comp.Int64, check.Int64, by.Int64
	a.OpenedAt, a.LastSentAt, a.AcknowledgedAt, a.ResolvedAt = a.OpenedAt.UTC(), nullTime(sent), nullTime(acked), nullTime(resolved)
	a.RepeatEvery = time.Duration(secs) * time.Second
	return a, err
}

// OpenAlerts lists the organisation's unresolved alerts about subject (""
// for every subject), oldest first.
func (s *Store) OpenAlerts(ctx context.Context, orgID int64, subject string) ([]Alert, error) {
	return collect(ctx, s.db, "open alerts", scanAlert, s.q(`SELECT `+alertColumns+alertFrom+`
		WHERE a.org_id = ? AND a.resolved_at IS NULL AND (? = '' OR a.subject = ?) ORDER BY a.opened_at, a.id`),
		orgID, subject, subject)
}

// RepeatCandidates lists, across organisations, the unresolved and
// unacknowledged alerts of enabled channels that repeat: what the repeat
// tick decides about.
func (s *Store) RepeatCandidates(ctx context.Context, limit int) ([]Alert, error) {
	return collect(ctx, s.db, "alerts to repeat", scanAlert, s.q(`SELECT `+alertColumns+alertFrom+`
		WHERE a.resolved_at IS NULL AND a.acknowledged_at IS NULL AND ch.enabled AND ch.repeat_seconds > 0
		ORDER BY a.last_sent_at, a.id LIMIT ?`), limit)
}

// AcknowledgedUntold lists open alerts acknowledged in Pharos whose
// channel (PagerDuty) has not been told since: its incident there must
// stop paging too.
func (s *Store) AcknowledgedUntold(ctx context.Context, limit int) ([]Alert, error) {
	return collect(ctx, s.db, "acknowledged alerts", scanAlert, s.q(`SELECT `+alertColumns+alertFrom+`
		WHERE a.resolved_at IS NULL AND a.acknowledged_at IS NOT NULL AND ch.enabled AND ch.kind = 'pagerduty'
			AND NOT EXISTS (SELECT 1 FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
				WHERE d.alert_id = a.id AND o.kind = 'alert.acknowledge' AND d.created_at >= a.acknowledged_at)
		ORDER BY a.acknowledged_at, a.id LIMIT ?`), limit)
}

// SubjectsWithOpenAlerts lists the distinct subjects (with their
// organisation) that have unresolved alerts of kind.
func (s *Store) SubjectsWithOpenAlerts(ctx context.Context, kind string) (map[int64][]string, error) {
	type pair struct {
		org     int64
		subject string
	}
	rows, err := collect(ctx, s.db, "alert subjects", func(row rowScanner) (pair, error) {
		var p pair
		err := row.Scan(&p.org, &p.subject)
		return p, err
	}, s.q(`SELECT DISTINCT org_id, subject FROM alerts WHERE resolved_at IS NULL AND kind = ? ORDER BY org_id, subject`), kind)
	out := map[int64][]string{}
	for _, p := range rows {
		out[p.org] = append(out[p.org], p.subject)
	}
	return out, err
}

// RecentAlerts lists the organisation's alerts, newest first.
func (s *Store) RecentAlerts(ctx context.Context, orgID int64, limit int) ([]Alert, error) {
	return collect(ctx, s.db, "alerts", scanAlert, s.q(`SELECT `+alertColumns+alertFrom+`
		WHERE a.org_id = ? ORDER BY a.opened_at DESC, a.id DESC LIMIT ?`), orgID, limit)
}

// Alert returns one of the organisation's alerts; another organisation's
// is ErrNotFound.
func (s *Store) Alert(ctx context.Context, orgID, id int64) (Alert, error) {
	return oneAlert(s.db.QueryRowContext(ctx, s.q(`SELECT `+alertColumns+alertFrom+` WHERE a.org_id = ? AND a.id = ?`),
		orgID, id), id)
}

func oneAlert(row *sql.Row, id int64) (Alert, error) {
	a, err := scanAlert(row)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("store: alert %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: alert %d: %w", id, err)
	}
	return a, nil
}

// HashAckToken is what alerts.ack_token_hash holds for a token.
func HashAckToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// AcknowledgeAlert marks the organisation's alert acknowledged by user
// (0: through its ack link), and with it the same condition's open alerts
// on the organisation's other channels: one acknowledgement stops every
// repeat. It returns the alert; another organisation's is ErrNotFound.
func (s *Store) AcknowledgeAlert(ctx context.Context, orgID, id, userID int64, at time.Time) (Alert, error) {
	a, err := s.Alert(ctx, orgID, id)
	if err != nil {
		return a, err
	}
	if !a.Open() || a.AcknowledgedAt != nil {
		return a, nil
	}
	var by any
	if userID != 0 {
		by = userID
	}
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?
		WHERE org_id = ? AND subject = ? AND kind = ? AND resolved_at IS NULL AND acknowledged_at IS NULL`),
		at.UTC(), by, orgID, a.Subject, a.Kind); err != nil {
		return a, fmt.Errorf("store: acknowledge alert %d: %w", id, err)
	}
	return s.Alert(ctx, orgID, id)
}

// AcknowledgeAlertByToken acknowledges alert id when token is its ack
// token (the link in every message). A wrong token is ErrNotFound, as is
// an unknown id, so the link reveals nothing.
func (s *Store) AcknowledgeAlertByToken(ctx context.Context, id int64, token string, at time.Time, act bool) (Alert, error) {
	var orgID int64
	var hash string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT org_id, ack_token_hash FROM alerts WHERE id = ?`), id).Scan(&orgID, &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (hash == "" ||
		subtle.ConstantTimeCompare([]byte(hash), []byte(HashAckToken(token))) != 1)) {
		return Alert{}, fmt.Errorf("store: alert %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Alert{}, fmt.Errorf("store: alert %d: %w", id, err)
	}
	if !act {
		return s.Alert(ctx, orgID, id)
	}
	return s.AcknowledgeAlert(ctx, orgID, id, 0, at)
}

// MisconfiguredCheck is a check in state misconfigured (DESIGN §4): its
// operators are alerted, the public is not.
type MisconfiguredCheck struct {
	OrgID         int64
	CheckID       int64
	Name          string
	URL           string
	ComponentID   int64
	Component     string
	InMaintenance bool
	Since         time.Time
}

// MisconfiguredChecks lists, across organisations, the enabled checks whose
// state is misconfigured.
func (s *Store) MisconfiguredChecks(ctx context.Context) ([]MisconfiguredCheck, error) {
	return collect(ctx, s.db, "misconfigured checks", func(row rowScanner) (MisconfiguredCheck, error) {
		var m MisconfiguredCheck
		var since sql.NullTime
		err := row.Scan(&m.OrgID, &m.CheckID, &m.Name, &m.URL, &m.ComponentID, &m.Component, &m.InMaintenance, &since)
		if since.Valid {
			m.Since = since.Time.UTC()
		}
		return m, err
	}, s.q(`SELECT c.org_id, c.id, c.name, c.url, c.component_id, cp.name, cp.status = 'under_maintenance', c.state_changed_at
		FROM checks c JOIN components cp ON cp.id = c.component_id
		WHERE c.enabled AND c.state = 'misconfigured' ORDER BY c.org_id, c.id`))
}

// TroubledCheck is a check down or degraded on a page whose automatic
// incidents are off: no incident event tells the notifier of it, so the
// alert tick reads the checks' states.
type TroubledCheck struct {
	OrgID         int64
	ComponentID   int64
	Component     string
	InMaintenance bool
	CheckID       int64
	Name          string
	URL           string
	State         string // down or degraded
}

// TroubleWithoutAutoIncidents lists the enabled checks in trouble on pages
// with auto_incidents off, by component.
func (s *Store) TroubleWithoutAutoIncidents(ctx context.Context) ([]TroubledCheck, error) {
	return collect(ctx, s.db, "troubled checks", func(row rowScanner) (TroubledCheck, error) {
		var c TroubledCheck
		err := row.Scan(&c.OrgID, &c.ComponentID, &c.Component, &c.InMaintenance, &c.CheckID, &c.Name, &c.URL, &c.State)
		return c, err
	}, s.q(`SELECT c.org_id, cp.id, cp.name, cp.status = 'under_maintenance', c.id, c.name, c.url, c.state
		FROM checks c JOIN components cp ON cp.id = c.component_id JOIN pages p ON p.id = cp.page_id
		WHERE p.auto_incidents = 'off' AND c.enabled AND c.state IN ('down', 'degraded')
		ORDER BY c.org_id, cp.id, c.id`))
}

// OpenAlertsWithoutAutoIncidents lists (by organisation) the component
// subjects with unresolved alerts on pages whose automatic incidents are
// off: the tick resolves those no longer in trouble.
func (s *Store) OpenAlertsWithoutAutoIncidents(ctx context.Context) (map[int64][]string, error) {
	type pair struct {
		org     int64
		subject string
	}
	rows, err := collect(ctx, s.db, "alert subjects", func(row rowScanner) (pair, error) {
		var p pair
		err := row.Scan(&p.org, &p.subject)
		return p, err
	}, s.q(`SELECT DISTINCT a.org_id, a.subject FROM alerts a JOIN components cp ON cp.id = a.component_id
		JOIN pages p ON p.id = cp.page_id
		WHERE a.resolved_at IS NULL AND p.auto_incidents = 'off' AND a.subject LIKE 'component:%'
		ORDER BY a.org_id, a.subject`))
	out := map[int64][]string{}
	for _, p := range rows {
		out[p.org] = append(out[p.org], p.subject)
	}
	return out, err
}
