package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Delivery statuses (deliveries.status).
const (
	DeliveryPending = "pending" // waiting for its first or next attempt
	DeliverySent    = "sent"    // the receiver accepted it
	DeliveryFailed  = "failed"  // refused for good; never retried
	DeliveryDead    = "dead"    // the schedule ran out, or the subscriber is gone
)

// ClaimedDelivery is a delivery leased to one notifier for one attempt.
type ClaimedDelivery struct {
	ID             int64
	OrgID          int64
	OutboxID       int64
	IdempotencyKey string
	Attempts       int    // attempts made before this one
	LastError      string // of the previous attempt
	ResponseCode   int    // of the previous attempt
	Token          string
	EventKind      string
	EventKey       string
	Rendered       []byte // the outbox row's rendered event
	EventAt        time.Time
	SubscriberID   int64
	PageID         int64
	Kind           string // email, webhook
	Address        string
	Secret         string
	// Active is false once the subscriber unsubscribed, was disabled or
	// deleted its confirmation since the delivery was queued.
	Active bool
}

// ClaimDeliveries leases up to limit due deliveries until now+lease. Only
// the oldest pending delivery of each subscriber is due, so an endpoint
// hears its events in order and never two at once. On PostgreSQL
// several notifiers claim side by side: rows another holds are skipped
// (FOR UPDATE SKIP LOCKED), rows another leased wait for the lease to end.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]ClaimedDelivery, error) {
	token, err := claimToken()
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	// Most polls find nothing due: answer them without a write
	// transaction (on SQLite, BEGIN takes the database's write lock).
	var due int
	err = s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status = 'pending'
		AND subscriber_id IS NOT NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?) LIMIT 1) AS d`), now, now).Scan(&due)
	if err != nil || due == 0 {
		if err != nil {
			err = fmt.Errorf("store: due deliveries: %w", err)
		}
		return nil, err
	}
	var out []ClaimedDelivery
	err = s.InTx(ctx, func(tx *Tx) error {
		ids, err := collect(ctx, tx.tx, "due deliveries", func(row rowScanner) (int64, error) {
			var id int64
			return id, row.Scan(&id)
		}, s.q(`SELECT d.id FROM deliveries d
			WHERE d.status = 'pending' AND d.subscriber_id IS NOT NULL AND d.next_attempt_at <= ?
				AND (d.claimed_until IS NULL OR d.claimed_until <= ?)
				AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.subscriber_id = d.subscriber_id
					AND e.status = 'pending' AND e.id < d.id)
			ORDER BY d.next_attempt_at, d.id LIMIT ?`+lock), now, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		for start := 0; start < len(ids); start += maxBulkParams / 2 {
			chunk := ids[start:min(len(ids), start+maxBulkParams/2)]
			args := []any{now.Add(lease), token}
			for _, id := range chunk {
				args = append(args, id)
			}
			if _, err := tx.tx.ExecContext(ctx, s.q(`UPDATE deliveries SET claimed_until = ?, claim_token = ?
				WHERE id IN (`+placeholders(len(chunk))+`)`), args...); err != nil {
				return fmt.Errorf("store: claim deliveries: %w", err)
			}
		}
		out, err = collect(ctx, tx.tx, "claimed deliveries", scanClaimed, s.q(`SELECT d.id, d.org_id, d.outbox_id,
				d.idempotency_key, d.attempts, d.last_error, d.response_code, d.claim_token, o.kind, o.idempotency_key, o.created_at,
				sb.id, sb.page_id, sb.kind, sb.address, sb.secret,
				sb.confirmed_at IS NOT NULL AND sb.unsubscribed_at IS NULL AND sb.disabled_at IS NULL
			FROM deliveries d JOIN outbox o ON o.id = d.outbox_id JOIN subscribers sb ON sb.id = d.subscriber_id
			WHERE d.claim_token = ? ORDER BY d.next_attempt_at, d.id`), token)
		if err != nil {
			return err
		}
		return tx.attachRendered(ctx, out)
	})
	return out, err
}

func scanClaimed(row rowScanner) (ClaimedDelivery, error) {
	var c ClaimedDelivery
	err := row.Scan(&c.ID, &c.OrgID, &c.OutboxID, &c.IdempotencyKey, &c.Attempts, &c.LastError, &c.ResponseCode, &c.Token,
		&c.EventKind, &c.EventKey,
		&c.EventAt, &c.SubscriberID, &c.PageID, &c.Kind, &c.Address, &c.Secret, &c.Active)
	c.EventAt = c.EventAt.UTC()
	return c, err
}

// attachRendered reads each distinct event's rendered body once: a batch
// of one event's 1,000 deliveries carries it 1,000 times otherwise.
func (tx *Tx) attachRendered(ctx context.Context, cs []ClaimedDelivery) error {
	bodies := map[int64][]byte{}
	var ids []any
	for _, c := range cs {
		if _, ok := bodies[c.OutboxID]; !ok {
			bodies[c.OutboxID] = nil
			ids = append(ids, c.OutboxID)
		}
	}
	type body struct {
		id   int64
		text []byte
	}
	rows, err := collect(ctx, tx.tx, "rendered events", func(row rowScanner) (body, error) {
		var b body
		var text *string
		err := row.Scan(&b.id, &text)
		if text != nil {
			b.text = []byte(*text)
		}
		return b, err
	}, tx.s.q(`SELECT id, rendered FROM outbox WHERE id IN (`+placeholders(len(ids))+`)`), ids...)
	if err != nil {
		return err
	}
	for _, b := range rows {
		bodies[b.id] = b.text
	}
	for i := range cs {
		cs[i].Rendered = bodies[cs[i].OutboxID]
	}
	return nil
}

// DeliveryAttempt records one attempt of a claimed delivery.
type DeliveryAttempt struct {
	ID           int64
	Token        string // the claim's token: a lease lost to another notifier records nothing
	SubscriberID int64
	Status       string // DeliveryPending (retry), DeliverySent, DeliveryFailed, DeliveryDead
	Attempts     int    // including this one
	NextAttempt  time.Time
	LastError    string
	ResponseCode int
	// DisableSubscriber disables the subscriber (410 Gone) and drops its
	// other pending deliveries.
	DisableSubscriber bool
	At                time.Time
}

// RecordAttempts writes a batch of attempts in one transaction and
// releases their leases. It reports how many were recorded: an attempt
// whose lease another notifier took over since is not.
func (s *Store) RecordAttempts(ctx context.Context, attempts []DeliveryAttempt) (int, error) {
	recorded := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		recorded = 0
		var bulk []DeliveryAttempt
		for _, a := range attempts {
			if !a.DisableSubscriber {
				bulk = append(bulk, a)
				continue
			}
			n, err := tx.recordAttempts(ctx, []DeliveryAttempt{a})
			if err != nil {
				return err
			}
			recorded += n
			if n > 0 {
				if err := tx.disableSubscriber(ctx, a.SubscriberID, a.At); err != nil {
					return err
				}
			}
		}
		const cols = 8
		for start := 0; start < len(bulk); start += maxBulkParams / cols {
			n, err := tx.recordAttempts(ctx, bulk[start:min(len(bulk), start+maxBulkParams/cols)])
			if err != nil {
				return err
			}
			recorded += n
		}
		return nil
	})
	return recorded, err
}

// recordAttempts updates a chunk of deliveries in one statement: one
// round trip for a batch of 1,000 rather than 1,000.
func (tx *Tx) recordAttempts(ctx context.Context, attempts []DeliveryAttempt) (int, error) {
	if len(attempts) == 0 {
		return 0, nil
	}
	row := "(?, ?, ?, ?, ?, ?, ?, ?)"
	if tx.s.dialect == Postgres {
		row = "(?::bigint, ?::text, ?::text, ?::integer, ?::timestamptz, ?::text, ?::integer, ?::timestamptz)"
	}
	rows := make([]string, len(attempts))
	args := make([]any, 0, len(attempts)*8)
	for i, a := range attempts {
		next := a.NextAttempt
		if next.IsZero() {
			next = a.At
		}
		rows[i] = row
		args = append(args, a.ID, a.Token, a.Status, a.Attempts, next.UTC(), truncateText(a.LastError, 500), a.ResponseCode, a.At.UTC())
	}
	res, err := tx.tx.ExecContext(ctx, tx.s.q(`WITH v (id, token, status, attempts, next_attempt_at, last_error, response_code, at) AS
		(VALUES `+strings.Join(rows, ", ")+`)
		UPDATE deliveries SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
			last_error = v.last_error, response_code = v.response_code, updated_at = v.at, claimed_until = NULL, claim_token = ''
		FROM v WHERE deliveries.id = v.id AND deliveries.claim_token = v.token AND deliveries.status = 'pending'`), args...)
	if err != nil {
		return 0, fmt.Errorf("store: record deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: record deliveries: %w", err)
	}
	return int(n), nil
}

// disableSubscriber marks a subscriber disabled (its endpoint answered
// 410 Gone) and drops its pending deliveries.
func (tx *Tx) disableSubscriber(ctx context.Context, id int64, at time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE subscribers SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL`),
		at.UTC(), id); err != nil {
		return fmt.Errorf("store: disable subscriber %d: %w", id, err)
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`UPDATE deliveries SET status = 'dead', last_error = 'subscriber disabled',
		updated_at = ?, claimed_until = NULL WHERE subscriber_id = ? AND status = 'pending'`), at.UTC(), id); err != nil {
		return fmt.Errorf("store: drop deliveries of subscriber %d: %w", id, err)
	}
	return nil
}

// Delivery is a delivery as the delivery log shows it.
type Delivery struct {
	ID           int64
	OrgID        int64
	OutboxID     int64
	SubscriberID int64
	// Channel and Recipient are the subscriber's kind and address ("" for
	// a subscriber deleted since).
	Channel        string
	Recipient      string
	IdempotencyKey string
	EventKind      string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastError      string
	ResponseCode   int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Deliveries lists the organisation's deliveries, newest first, up to
// limit (the delivery log).
func (s *Store) Deliveries(ctx context.Context, orgID int64, limit int) ([]Delivery, error) {
	return collect(ctx, s.db, "deliveries", func(row rowScanner) (Delivery, error) {
		var d Delivery
		var sub *int64
		var channel, recipient sql.NullString
		err := row.Scan(&d.ID, &d.OrgID, &d.OutboxID, &sub, &d.IdempotencyKey, &d.EventKind, &d.Status, &d.Attempts,
			&d.NextAttemptAt, &d.LastError, &d.ResponseCode, &d.CreatedAt, &d.UpdatedAt, &channel, &recipient)
		if sub != nil {
			d.SubscriberID = *sub
		}
		d.Channel, d.Recipient = channel.String, recipient.String
		d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		return d, err
	}, s.q(`SELECT d.id, d.org_id, d.outbox_id, d.subscriber_id, d.idempotency_key, o.kind, d.status, d.attempts,
			d.next_attempt_at, d.last_error, d.response_code, d.created_at, d.updated_at,
			COALESCE(sb.kind, 'alert ' || ac.kind), COALESCE(sb.address, ac.name)
		FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
		LEFT JOIN subscribers sb ON sb.id = d.subscriber_id AND sb.org_id = d.org_id
		LEFT JOIN alert_channels ac ON ac.id = d.channel_id AND ac.org_id = d.org_id
		WHERE d.org_id = ? ORDER BY d.id DESC LIMIT ?`), orgID, limit)
}

func claimToken() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: claim token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
