package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Subscriber returns one of the organisation's subscribers with its scope;
// another organisation's is ErrNotFound.
func (s *Store) Subscriber(ctx context.Context, orgID, id int64) (Subscriber, error) {
	sub, err := scanSubscriber(s.db.QueryRowContext(ctx, s.q(`SELECT `+subscriberColumns+` FROM subscribers WHERE org_id = ? AND id = ?`), orgID, id))
	if err != nil {
		return Subscriber{}, notFound(err, "subscriber", id)
	}
	sub.ComponentIDs, err = s.subscriberScope(ctx, id)
	return sub, err
}

// Subscribers lists a page's subscribers in every state, oldest first, with
// their scopes (the console and the management API).
func (s *Store) Subscribers(ctx context.Context, orgID, pageID int64) ([]Subscriber, error) {
	subs, err := collect(ctx, s.db, "subscribers", scanSubscriber,
		s.q(`SELECT `+subscriberColumns+` FROM subscribers WHERE org_id = ? AND page_id = ? ORDER BY id`), orgID, pageID)
	if err != nil {
		return nil, err
	}
	return subs, s.fillScopes(ctx, orgID, pageID, subs)
}

// fillScopes reads the scopes of a page's subscribers in one query.
func (s *Store) fillScopes(ctx context.Context, orgID, pageID int64, subs []Subscriber) error {
	if len(subs) == 0 {
		return nil
	}
	type pair struct{ sub, comp int64 }
	pairs, err := collect(ctx, s.db, "subscriber components", func(r rowScanner) (pair, error) {
		var p pair
		err := r.Scan(&p.sub, &p.comp)
		return p, err
	}, s.q(`SELECT sc.subscriber_id, sc.component_id FROM subscriber_components sc
		JOIN subscribers s ON s.id = sc.subscriber_id
		WHERE sc.org_id = ? AND s.page_id = ? ORDER BY sc.subscriber_id, sc.component_id`), orgID, pageID)
	if err != nil {
		return err
	}
	idx := make(map[int64]int, len(subs))
	for i, sub := range subs {
		idx[sub.ID] = i
	}
	for _, p := range pairs {
		if i, ok := idx[p.sub]; ok {
			subs[i].ComponentIDs = append(subs[i].ComponentIDs, p.comp)
		}
	}
	return nil
}

// SubscriberCount is how many subscribers of each kind a page has, active
// and pending (unsubscribed and disabled ones are not counted).
type SubscriberCount struct {
	PageID         int64
	Email, Webhook int // active
	Pending        int
}

// SubscriberCounts counts the subscribers of each of the organisation's
// pages that has any, by page id.
func (s *Store) SubscriberCounts(ctx context.Context, orgID int64) (map[int64]SubscriberCount, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT page_id, kind, confirmed_at IS NOT NULL, COUNT(*) FROM subscribers
		WHERE org_id = ? AND unsubscribed_at IS NULL AND disabled_at IS NULL
		GROUP BY page_id, kind, confirmed_at IS NOT NULL`), orgID)
	if err != nil {
		return nil, fmt.Errorf("store: count subscribers: %w", err)
	}
	defer rows.Close()
	out := map[int64]SubscriberCount{}
	for rows.Next() {
		var page int64
		var kind string
		var confirmed bool
		var n int
		if err := rows.Scan(&page, &kind, &confirmed, &n); err != nil {
			return nil, fmt.Errorf("store: count subscribers: %w", err)
		}
		c := out[page]
		c.PageID = page
		switch {
		case !confirmed:
			c.Pending += n
		case SubscriberKind(kind) == SubscriberEmail:
			c.Email += n
		default:
			c.Webhook += n
		}
		out[page] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count subscribers: %w", err)
	}
	return out, nil
}

// DeleteSubscriber removes one of the page's subscribers for good (the
// console and the management API; the audit row goes in the same
// transaction). Another organisation's or page's is ErrNotFound.
func (tx *Tx) DeleteSubscriber(ctx context.Context, orgID, pageID, id int64) (Subscriber, error) {
	sub, err := tx.subscriber(ctx, orgID, id)
	if err != nil {
		return Subscriber{}, err
	}
	if sub.PageID != pageID {
		return Subscriber{}, fmt.Errorf("store: subscriber %d: %w", id, ErrNotFound)
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM subscribers WHERE org_id = ? AND id = ?`), orgID, id); err != nil {
		return Subscriber{}, fmt.Errorf("store: delete subscriber %d: %w", id, err)
	}
	return sub, nil
}

// NotifiableSubscribers lists the page's active subscribers of kind (""
// for both) to notify of an event about componentIDs: those with no scope,
// and those whose scope names one of componentIDs. An event that names no
// component (page-wide) reaches every active subscriber. Webhook
// subscribers carry their signing Secret. The notifier calls this when it
// turns an outbox event into deliveries.
func (s *Store) NotifiableSubscribers(ctx context.Context, orgID, pageID int64, kind SubscriberKind, componentIDs []int64) ([]Subscriber, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + subscriberColumns + ` FROM subscribers s
		WHERE org_id = ? AND page_id = ? AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL AND disabled_at IS NULL`)
	args := []any{orgID, pageID}
	if kind != "" {
		b.WriteString(` AND kind = ?`)
		args = append(args, string(kind))
	}
	if ids := normalizeIDs(componentIDs); len(ids) > 0 {
		b.WriteString(` AND (NOT EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = s.id)
			OR EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = s.id AND sc.component_id IN (?`)
		b.WriteString(strings.Repeat(", ?", len(ids)-1))
		b.WriteString(`)))`)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	b.WriteString(` ORDER BY id`)
	subs, err := collect(ctx, s.db, "notifiable subscribers", scanSubscriber, s.q(b.String()), args...)
	if err != nil {
		return nil, err
	}
	return subs, s.fillScopes(ctx, orgID, pageID, subs)
}

// PruneUnconfirmedSubscribers deletes, in every organisation, the
// subscribers never confirmed: email addresses whose confirmation link
// expired before before, and webhook endpoints created before before whose
// test delivery never succeeded. Housekeeping calls it so addresses typed
// by someone else do not stay stored.
func (s *Store) PruneUnconfirmedSubscribers(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM subscribers WHERE confirmed_at IS NULL AND (
		(confirm_expires_at IS NOT NULL AND confirm_expires_at < ?) OR (confirm_expires_at IS NULL AND created_at < ?))`),
		before.UTC(), before.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: prune unconfirmed subscribers: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune unconfirmed subscribers: %w", err)
	}
	return n, nil
}
