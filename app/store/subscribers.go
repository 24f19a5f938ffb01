package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SubscriberKind is how a subscriber hears of events.
type SubscriberKind string

// The subscriber kinds (the subscribers.kind column).
const (
	SubscriberEmail   SubscriberKind = "email"
	SubscriberWebhook SubscriberKind = "webhook"
)

// ConfirmTTL is how long an email confirmation link stays valid.
const ConfirmTTL = 48 * time.Hour

// WebhookSecretPrefix starts every webhook signing secret (Standard
// Webhooks): "whsec_" and the base64 of the key bytes.
const WebhookSecretPrefix = "whsec_"

// ErrTokenExpired is returned for a confirmation link past its validity.
var ErrTokenExpired = errors.New("store: confirmation link expired")

// Subscriber is one email address or webhook endpoint following a page.
type Subscriber struct {
	ID      int64
	OrgID   int64
	PageID  int64
	Kind    SubscriberKind
	Address string // the email address or the webhook URL
	// Secret is a webhook's signing secret (whsec_…). The notifier signs
	// with it, so it is kept as is; it is shown to the subscriber once.
	Secret           string
	ConfirmExpiresAt *time.Time
	ConfirmedAt      *time.Time
	UnsubscribedAt   *time.Time
	DisabledAt       *time.Time
	CreatedAt        time.Time
	// ComponentIDs is the subscriber's scope; empty means the whole page.
	ComponentIDs []int64
}

// Subscriber states, as Status reports them.
const (
	SubscriberPending      = "pending"
	SubscriberActive       = "active"
	SubscriberUnsubscribed = "unsubscribed"
	SubscriberDisabled     = "disabled"
)

// Status is the subscriber's state: pending (not yet confirmed), active,
// unsubscribed or disabled (an endpoint that answered 410 or kept failing).
func (s Subscriber) Status() string {
	switch {
	case s.DisabledAt != nil:
		return SubscriberDisabled
	case s.UnsubscribedAt != nil:
		return SubscriberUnsubscribed
	case s.ConfirmedAt == nil:
		return SubscriberPending
	default:
		return SubscriberActive
	}
}

// Active reports whether the subscriber receives notifications.
func (s Subscriber) Active() bool { return s.Status() == SubscriberActive }

// Subscription is what Subscribe did. Callers must answer the same way
// whatever Existing says: the subscribe form never reveals whether an
// address already follows the page.
type Subscription struct {
	Subscriber Subscriber
	// ConfirmToken is the raw email confirmation token to mail; "" when
	// the address was already active (mail it its manage link instead).
	ConfirmToken string
	// Secret is a fresh webhook signing secret. For a new or pending
	// endpoint it is stored already; for an active one it replaces the
	// stored secret only when ActivateWebhook is called after a signed
	// test delivery with it succeeded.
	Secret string
	// Existing is true when the address was already active; nothing was
	// changed then (not even its component scope).
	Existing bool
}

const subscriberColumns = `id, org_id, page_id, kind, address, secret, confirm_expires_at, confirmed_at, unsubscribed_at, disabled_at, created_at`

func scanSubscriber(row rowScanner) (Subscriber, error) {
	var s Subscriber
	var kind string
	var expires, confirmed, unsub, disabled sql.NullTime
	if err := row.Scan(&s.ID, &s.OrgID, &s.PageID, &kind, &s.Address, &s.Secret, &expires, &confirmed, &unsub, &disabled, &s.CreatedAt); err != nil {
		return Subscriber{}, err
	}
	s.Kind = SubscriberKind(kind)
	s.CreatedAt = s.CreatedAt.UTC()
	s.ConfirmExpiresAt, s.ConfirmedAt, s.UnsubscribedAt, s.DisabledAt = nullTime(expires), nullTime(confirmed), nullTime(unsub), nullTime(disabled)
	return s, nil
}

// NormalizeSubscriberAddress trims an address and lower-cases an email
// address (mail systems treat local parts case-insensitively in practice),
// so one mailbox is one subscriber. It refuses what is not a single
// plausible address: no spaces, no control characters (a CR or LF would let
// the address inject mail headers), one @ for email, http(s) for webhooks.
func NormalizeSubscriberAddress(kind SubscriberKind, address string) (string, error) {
	field := "email"
	if kind == SubscriberWebhook {
		field = "endpoint"
	}
	a := strings.TrimSpace(address)
	if a == "" || len(a) > 2000 {
		return "", invalid(field, "is required (at most 2000 characters)")
	}
	for _, r := range a {
		if r < 0x21 || r == 0x7f {
			return "", invalid(field, "must not contain spaces or control characters")
		}
	}
	switch kind {
	case SubscriberEmail:
		at := strings.LastIndexByte(a, '@')
		if at <= 0 || at == len(a)-1 || strings.Count(a, "@") != 1 || len(a) > 254 ||
			strings.ContainsAny(a, `<>(),;:"[]\`) || !strings.Contains(a[at+1:], ".") {
			return "", invalid("email", "is not an email address")
		}
		return strings.ToLower(a), nil
	case SubscriberWebhook:
		if !strings.HasPrefix(strings.ToLower(a), "https://") && !strings.HasPrefix(strings.ToLower(a), "http://") {
			return "", invalid("endpoint", "must be an http:// or https:// URL")
		}
		return a, nil
	default:
		return "", invalid("kind", "must be email or webhook")
	}
}

// Subscribe adds (or renews) a subscription of the page. An email address
// that is new, pending, unsubscribed or disabled becomes pending with a
// fresh confirmation token valid for ConfirmTTL, and its scope is set to
// componentIDs; an active one is left alone (Existing). A webhook endpoint
// gets a fresh secret (see Subscription.Secret). componentIDs must be
// components of the page.
func (s *Store) Subscribe(ctx context.Context, orgID, pageID int64, kind SubscriberKind, address string, componentIDs []int64) (Subscription, error) {
	addr, err := NormalizeSubscriberAddress(kind, address)
	if err != nil {
		return Subscription{}, err
	}
	var out Subscription
	err = s.InTx(ctx, func(tx *Tx) error {
		if err := tx.checkScope(ctx, orgID, pageID, componentIDs); err != nil {
			return err
		}
		sub, err := scanSubscriber(tx.tx.QueryRowContext(ctx, s.q(`SELECT `+subscriberColumns+` FROM subscribers
			WHERE org_id = ? AND page_id = ? AND kind = ? AND address = ?`), orgID, pageID, string(kind), addr))
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: subscribe %s: %w", kind, err)
		}
		if kind == SubscriberWebhook {
			if out.Secret, err = NewWebhookSecret(); err != nil {
				return err
			}
		}
		if found && sub.Active() {
			out.Existing = true
			sub.ComponentIDs, err = tx.subscriberScope(ctx, sub.ID)
			out.Subscriber = sub
			return err
		}
		n := now()
		var token, tokenHash sql.NullString
		var expires sql.NullTime
		if kind == SubscriberEmail {
			raw, err := randomToken()
			if err != nil {
				return err
			}
			token = sql.NullString{String: raw, Valid: true}
			tokenHash = sql.NullString{String: HashToken(raw), Valid: true}
			expires = sql.NullTime{Time: n.Add(ConfirmTTL), Valid: true}
		}
		if found {
			_, err = tx.tx.ExecContext(ctx, s.q(`UPDATE subscribers SET secret = ?, confirm_token_hash = ?, confirm_expires_at = ?,
				confirmed_at = NULL, unsubscribed_at = NULL, disabled_at = NULL WHERE org_id = ? AND id = ?`),
				out.Secret, tokenHash, expires, orgID, sub.ID)
		} else {
			err = tx.tx.QueryRowContext(ctx, s.q(`INSERT INTO subscribers (org_id, page_id, kind, address, secret, confirm_token_hash, confirm_expires_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
				orgID, pageID, string(kind), addr, out.Secret, tokenHash, expires, n).Scan(&sub.ID)
			sub.CreatedAt = n
		}
		if err != nil {
			return fmt.Errorf("store: subscribe %s: %w", kind, err)
		}
		if err := tx.setScope(ctx, orgID, sub.ID, componentIDs); err != nil {
			return err
		}
		sub.OrgID, sub.PageID, sub.Kind, sub.Address, sub.Secret = orgID, pageID, kind, addr, out.Secret
		sub.ConfirmExpiresAt, sub.ConfirmedAt, sub.UnsubscribedAt, sub.DisabledAt = nullTime(expires), nil, nil, nil
		sub.ComponentIDs = normalizeIDs(componentIDs)
		out.Subscriber, out.ConfirmToken = sub, token.String
		return nil
	})
	if err != nil {
		return Subscription{}, err
	}
	return out, nil
}

// ActivateWebhook makes a webhook subscriber active with secret once a test
// delivery signed with it has succeeded, and sets its scope when
// componentIDs is not nil.
func (s *Store) ActivateWebhook(ctx context.Context, orgID, id int64, secret string, componentIDs []int64) (Subscriber, error) {
	if !strings.HasPrefix(secret, WebhookSecretPrefix) {
		return Subscriber{}, fmt.Errorf("store: activate webhook %d: secret is not a %s… secret", id, WebhookSecretPrefix)
	}
	var sub Subscriber
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		sub, err = tx.subscriber(ctx, orgID, id)
		if err != nil {
			return err
		}
		if sub.Kind != SubscriberWebhook {
			return fmt.Errorf("store: activate webhook %d: it is an email subscriber", id)
		}
		if componentIDs != nil {
			if err := tx.checkScope(ctx, orgID, sub.PageID, componentIDs); err != nil {
				return err
			}
			if err := tx.setScope(ctx, orgID, id, componentIDs); err != nil {
				return err
			}
			sub.ComponentIDs = normalizeIDs(componentIDs)
		}
		n := now()
		if _, err := tx.tx.ExecContext(ctx, s.q(`UPDATE subscribers SET secret = ?, confirmed_at = ?, unsubscribed_at = NULL, disabled_at = NULL
			WHERE org_id = ? AND id = ?`), secret, n, orgID, id); err != nil {
			return fmt.Errorf("store: activate webhook %d: %w", id, err)
		}
		sub.Secret, sub.ConfirmedAt, sub.UnsubscribedAt, sub.DisabledAt = secret, &n, nil, nil
		return nil
	})
	return sub, err
}

// CheckConfirmation reads the subscriber an email confirmation link of the
// page names, without confirming it (the link's page shows a button; mail
// scanners that follow links must not confirm): ErrNotFound for an unknown
// link, ErrTokenExpired for an expired one. An active subscriber is
// returned as is: following the link again is fine.
func (s *Store) CheckConfirmation(ctx context.Context, pageID int64, rawToken string) (Subscriber, error) {
	if rawToken == "" || len(rawToken) > 100 {
		return Subscriber{}, fmt.Errorf("store: confirm subscriber: %w", ErrNotFound)
	}
	sub, err := scanSubscriber(s.db.QueryRowContext(ctx, s.q(`SELECT `+subscriberColumns+` FROM subscribers
		WHERE page_id = ? AND confirm_token_hash = ?`), pageID, HashToken(rawToken)))
	if err != nil {
		return Subscriber{}, notFound(err, "confirmation", "")
	}
	if sub.Active() {
		return sub, nil
	}
	if sub.ConfirmExpiresAt == nil || !now().Before(*sub.ConfirmExpiresAt) || sub.UnsubscribedAt != nil || sub.DisabledAt != nil {
		return Subscriber{}, fmt.Errorf("store: confirm subscriber %d: %w", sub.ID, ErrTokenExpired)
	}
	return sub, nil
}

// ConfirmSubscriber confirms the subscriber an email confirmation link of
// the page names: it becomes active. Confirming twice succeeds both times;
// errors are CheckConfirmation's (an expired link leaves the subscriber
// pending: subscribing again sends a new one).
func (s *Store) ConfirmSubscriber(ctx context.Context, pageID int64, rawToken string) (Subscriber, error) {
	sub, err := s.CheckConfirmation(ctx, pageID, rawToken)
	if err != nil || sub.Active() {
		return sub, err
	}
	n := now()
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE subscribers SET confirmed_at = ? WHERE org_id = ? AND id = ? AND confirmed_at IS NULL`),
		n, sub.OrgID, sub.ID); err != nil {
		return Subscriber{}, fmt.Errorf("store: confirm subscriber %d: %w", sub.ID, err)
	}
	sub.ConfirmedAt = &n
	sub.ComponentIDs, err = s.subscriberScope(ctx, sub.ID)
	return sub, err
}

// Unsubscribe stops a subscriber's notifications (one-click unsubscribe,
// the manage page). Unsubscribing twice is not an error.
func (s *Store) Unsubscribe(ctx context.Context, orgID, id int64) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE subscribers SET unsubscribed_at = ?, confirm_token_hash = NULL, confirm_expires_at = NULL
		WHERE org_id = ? AND id = ? AND unsubscribed_at IS NULL`), now(), orgID, id); err != nil {
		return fmt.Errorf("store: unsubscribe %d: %w", id, err)
	}
	return nil
}

// DisableSubscriber stops deliveries to a webhook endpoint that answered
// 410 Gone or kept failing (the notifier calls it).
func (s *Store) DisableSubscriber(ctx context.Context, orgID, id int64) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE subscribers SET disabled_at = ? WHERE org_id = ? AND id = ? AND disabled_at IS NULL`),
		now(), orgID, id); err != nil {
		return fmt.Errorf("store: disable subscriber %d: %w", id, err)
	}
	return nil
}

// NewWebhookSecret returns a Standard Webhooks signing secret: "whsec_"
// and the base64 of 24 random bytes.
func NewWebhookSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: webhook secret: %w", err)
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}
