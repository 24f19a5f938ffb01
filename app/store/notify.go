package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The notifier's tables: the outbox (written by incident and aggregator
// transactions), deliveries (one per event and subscriber) and the
// subscribers they go to. This file is the fan-out; notify_delivery.go
// claims and records attempts; notify_prune.go is housekeeping.

// OutboxRow is an outbox event not yet fanned out.
type OutboxRow struct {
	ID             int64
	OrgID          int64
	Kind           string
	IdempotencyKey string
	Payload        []byte // JSON object
	CreatedAt      time.Time
}

// UnprocessedOutbox returns up to limit events not yet fanned out, oldest
// first.
func (s *Store) UnprocessedOutbox(ctx context.Context, limit int) ([]OutboxRow, error) {
	return collect(ctx, s.db, "outbox", func(row rowScanner) (OutboxRow, error) {
		var r OutboxRow
		var payload string
		err := row.Scan(&r.ID, &r.OrgID, &r.Kind, &r.IdempotencyKey, &payload, &r.CreatedAt)
		r.Payload, r.CreatedAt = []byte(payload), r.CreatedAt.UTC()
		return r, err
	}, s.q(`SELECT id, org_id, kind, idempotency_key, payload, created_at FROM outbox
		WHERE processed_at IS NULL ORDER BY created_at, id LIMIT ?`), limit)
}

// FanOut is one outbox event turned into deliveries.
type FanOut struct {
	OutboxID int64
	OrgID    int64
	// PageID is the page whose subscribers hear of it; 0 for none (the
	// event is marked processed without deliveries).
	PageID int64
	// Kinds are the subscriber kinds that hear of it (email, webhook).
	Kinds []string
	// ComponentIDs are the components the event touches. A subscriber
	// scoped to components (subscriber_components) hears of it only when
	// one of them is in its scope; an event touching none reaches all.
	ComponentIDs []int64
	// Rendered is the event as subscribers see it (JSON), kept on the
	// outbox row so every attempt sends the same content.
	Rendered []byte
	At       time.Time
}

// FanOutEvent inserts one pending delivery per confirmed, active
// subscriber of f's page and kinds (and scope), and marks the outbox row
// processed, in one transaction. An event another notifier fanned out
// already is left alone: created is 0 and done false.
func (s *Store) FanOutEvent(ctx context.Context, f FanOut) (created int64, done bool, err error) {
	err = s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, s.q(`UPDATE outbox SET processed_at = ?, rendered = ?
			WHERE id = ? AND processed_at IS NULL`), f.At.UTC(), nullString(string(f.Rendered)), f.OutboxID)
		if err != nil {
			return fmt.Errorf("store: fan out event %d: %w", f.OutboxID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		done = true
		if f.PageID == 0 || len(f.Kinds) == 0 {
			return nil
		}
		query, args := fanOutQuery(f)
		res, err = tx.tx.ExecContext(ctx, s.q(query), args...)
		if err != nil {
			return fmt.Errorf("store: fan out event %d: %w", f.OutboxID, err)
		}
		created, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: fan out event %d: %w", f.OutboxID, err)
		}
		return nil
	})
	return created, done, err
}

// fanOutQuery selects the audience in SQL, so an event with 10,000
// subscribers is one statement. A delivery's key names the subscriber and
// the event's own idempotency key: fanning the same event out twice adds
// nothing.
func fanOutQuery(f FanOut) (string, []any) {
	at := f.At.UTC()
	args := []any{at, at, at, f.OutboxID, f.OrgID, f.PageID}
	kinds := make([]string, len(f.Kinds))
	for i, k := range f.Kinds {
		kinds[i] = "?"
		args = append(args, k)
	}
	scope := ""
	if len(f.ComponentIDs) > 0 {
		ids := make([]string, len(f.ComponentIDs))
		for i, id := range f.ComponentIDs {
			ids[i] = "?"
			args = append(args, id)
		}
		scope = `AND (NOT EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = sb.id)
			OR EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = sb.id
				AND sc.component_id IN (` + strings.Join(ids, ", ") + `)))`
	}
	return `INSERT INTO deliveries (org_id, outbox_id, subscriber_id, idempotency_key, status, next_attempt_at,
			created_at, updated_at)
		SELECT sb.org_id, o.id, sb.id, 'subscriber:' || CAST(sb.id AS TEXT) || ':' || o.idempotency_key, 'pending', ?, ?, ?
		FROM outbox o JOIN subscribers sb ON sb.org_id = o.org_id
		WHERE o.id = ? AND sb.org_id = ? AND sb.page_id = ? AND sb.kind IN (` + strings.Join(kinds, ", ") + `)
			AND sb.confirmed_at IS NOT NULL AND sb.unsubscribed_at IS NULL AND sb.disabled_at IS NULL
			` + scope + `
		ORDER BY sb.id
		ON CONFLICT (idempotency_key) DO NOTHING`, args
}
