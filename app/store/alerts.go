package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// On-call alert channels (alert_channels) and the alerts sent to them
// (alerts, alerts_state.go): operator-facing, never the public's. Channel
// deliveries ride the deliveries table with channel_id set
// (alerts_delivery.go).

// The alert channel kinds (alert_channels.kind).
const (
	AlertChannelWebhook   = "webhook"
	AlertChannelEmail     = "email"
	AlertChannelSlack     = "slack"
	AlertChannelDiscord   = "discord"
	AlertChannelTeams     = "teams"
	AlertChannelPagerDuty = "pagerduty"
)

// AlertChannelKinds lists the kinds, in the order the console offers them.
func AlertChannelKinds() []string {
	return []string{AlertChannelSlack, AlertChannelDiscord, AlertChannelTeams, AlertChannelPagerDuty, AlertChannelWebhook,
		AlertChannelEmail}
}

// AlertChannel is one on-call destination of an organisation.
type AlertChannel struct {
	ID     int64
	OrgID  int64
	Name   string
	Kind   string
	Config AlertChannelConfig
	// RepeatEvery is how often an unacknowledged alert is sent again; 0
	// never repeats.
	RepeatEvery time.Duration
	Enabled     bool
	CreatedAt   time.Time
}

// AlertChannelConfig is a channel's destination (alert_channels.config).
type AlertChannelConfig struct {
	// URL is where webhook, Slack, Discord and Teams messages are POSTed,
	// and PagerDuty's Events v2 endpoint ("" for the default).
	URL string `json:"url,omitempty"`
	// Address is an email channel's recipient.
	Address string `json:"address,omitempty"`
	// RoutingKey is a PagerDuty integration key.
	RoutingKey string `json:"routing_key,omitempty"`
	// Secret is a generic webhook's whsec_ signing secret.
	Secret string `json:"secret,omitempty"`
}

// Target is the channel's destination for lists: the URL or address (a
// PagerDuty routing key is never shown).
func (c AlertChannel) Target() string {
	if c.Kind == AlertChannelEmail {
		return c.Config.Address
	}
	if c.Kind == AlertChannelPagerDuty && c.Config.URL == "" {
		return "PagerDuty Events v2"
	}
	return c.Config.URL
}

// validate checks what the store can: the kind, the name and that the
// kind's destination is there. URLs are checked against the SSRF guard by
// callers (the console, apply), which know the deployment's policy.
func (c AlertChannel) validate() error {
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case c.Name == "":
		return invalid("name", "a channel needs a name")
	case len(c.Name) > 100:
		return invalid("name", "the name is longer than 100 characters")
	case c.RepeatEvery < 0:
		return invalid("repeat", "the repeat interval cannot be negative")
	}
	switch c.Kind {
	case AlertChannelEmail:
		if !strings.Contains(c.Config.Address, "@") || strings.ContainsAny(c.Config.Address, "\r\n <>,") {
			return invalid("address", "%q is not an email address", c.Config.Address)
		}
	case AlertChannelWebhook, AlertChannelSlack, AlertChannelDiscord, AlertChannelTeams:
		if c.Config.URL == "" {
			return invalid("url", "a %s channel needs a URL", c.Kind)
		}
	case AlertChannelPagerDuty:
		if strings.TrimSpace(c.Config.RoutingKey) == "" {
			return invalid("routing_key", "a PagerDuty channel needs a routing key")
		}
	default:
		return invalid("kind", "unknown channel kind %q (want %s)", c.Kind, strings.Join(AlertChannelKinds(), ", "))
	}
	return nil
}

const alertChannelColumns = `id, org_id, name, kind, config, repeat_seconds, enabled, created_at`

func scanAlertChannel(row rowScanner) (AlertChannel, error) {
	var c AlertChannel
	var config string
	var secs int64
	if err := row.Scan(&c.ID, &c.OrgID, &c.Name, &c.Kind, &config, &secs, &c.Enabled, &c.CreatedAt); err != nil {
		return c, err
	}
	c.RepeatEvery, c.CreatedAt = time.Duration(secs)*time.Second, c.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(config), &c.Config); err != nil {
		return c, fmt.Errorf("channel %d config: %w", c.ID, err)
	}
	return c, nil
}

// CreateAlertChannel adds a channel; a generic webhook without a secret
// gets a new whsec_ one. A name taken in the organisation is ErrConflict.
func (qs queries) CreateAlertChannel(ctx context.Context, c AlertChannel) (AlertChannel, error) {
	c.Name = strings.TrimSpace(c.Name)
	if err := c.validate(); err != nil {
		return c, err
	}
	if c.Kind == AlertChannelWebhook && c.Config.Secret == "" {
		secret, err := newWebhookSecret()
		if err != nil {
			return c, err
		}
		c.Config.Secret = secret
	}
	config, err := json.Marshal(c.Config)
	if err != nil {
		return c, fmt.Errorf("store: channel config: %w", err)
	}
	c.CreatedAt = now()
	err = qs.conn.QueryRowContext(ctx, qs.q(`INSERT INTO alert_channels (org_id, name, kind, config, repeat_seconds, enabled,
			created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), c.OrgID, c.Name, c.Kind, string(config),
		int64(c.RepeatEvery/time.Second), c.Enabled, c.CreatedAt).Scan(&c.ID)
	if isUniqueViolation(err) {
		return c, fmt.Errorf("store: alert channel %q: %w", c.Name, ErrConflict)
	}
	if err != nil {
		return c, fmt.Errorf("store: create alert channel: %w", err)
	}
	return c, nil
}

// UpdateAlertChannel rewrites a channel's kind, destination, interval and
// enabled flag (matched by id within its organisation). A webhook keeps
// its secret unless c carries another.
func (tx *Tx) UpdateAlertChannel(ctx context.Context, c AlertChannel) error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.Kind == AlertChannelWebhook && c.Config.Secret == "" {
		var config string
		err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT config FROM alert_channels WHERE org_id = ? AND id = ?`),
			c.OrgID, c.ID).Scan(&config)
		var old AlertChannelConfig
		if err == nil && json.Unmarshal([]byte(config), &old) == nil {
			c.Config.Secret = old.Secret
		}
		if c.Config.Secret == "" {
			if c.Config.Secret, err = newWebhookSecret(); err != nil {
				return err
			}
		}
	}
	config, err := json.Marshal(c.Config)
	if err != nil {
		return fmt.Errorf("store: channel config: %w", err)
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE alert_channels SET name = ?, kind = ?, config = ?, repeat_seconds = ?,
		enabled = ? WHERE org_id = ? AND id = ?`), strings.TrimSpace(c.Name), c.Kind, string(config),
		int64(c.RepeatEvery/time.Second), c.Enabled, c.OrgID, c.ID)
	return affectedOne(res, err, fmt.Sprintf("update alert channel %d", c.ID))
}

// AlertChannels lists the organisation's channels by name.
func (qs queries) AlertChannels(ctx context.Context, orgID int64) ([]AlertChannel, error) {
	return collect(ctx, qs.conn, "alert channels", scanAlertChannel, qs.q(`SELECT `+alertChannelColumns+`
		FROM alert_channels WHERE org_id = ? ORDER BY name, id`), orgID)
}

// AlertChannel returns one of the organisation's channels; another
// organisation's is ErrNotFound.
func (s *Store) AlertChannel(ctx context.Context, orgID, id int64) (AlertChannel, error) {
	c, err := scanAlertChannel(s.db.QueryRowContext(ctx, s.q(`SELECT `+alertChannelColumns+`
		FROM alert_channels WHERE org_id = ? AND id = ?`), orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: alert channel %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: alert channel %d: %w", id, err)
	}
	return c, nil
}

// SetAlertChannelEnabled turns a channel on or off.
func (s *Store) SetAlertChannelEnabled(ctx context.Context, orgID, id int64, enabled bool) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE alert_channels SET enabled = ? WHERE org_id = ? AND id = ?`),
		enabled, orgID, id)
	return affectedOne(res, err, fmt.Sprintf("alert channel %d", id))
}

// DeleteAlertChannel removes a channel, its alerts and their pending
// deliveries, in a transaction of its own: the deliveries and the channel go
// together or not at all.
func (s *Store) DeleteAlertChannel(ctx context.Context, orgID, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.DeleteAlertChannel(ctx, orgID, id) })
}

// DeleteAlertChannel is Store.DeleteAlertChannel inside the caller's
// transaction.
func (tx *Tx) DeleteAlertChannel(ctx context.Context, orgID, id int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM deliveries WHERE org_id = ? AND channel_id = ?`),
		orgID, id); err != nil {
		return fmt.Errorf("store: delete deliveries of alert channel %d: %w", id, err)
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM alert_channels WHERE org_id = ? AND id = ?`), orgID, id)
	return affectedOne(res, err, fmt.Sprintf("delete alert channel %d", id))
}

// affectedOne turns an UPDATE or DELETE of one row into ErrNotFound when
// it matched none.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}

func newWebhookSecret() (string, error) {
	var key [24]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", fmt.Errorf("store: webhook secret: %w", err)
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key[:]), nil
}
