package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxScope bounds a subscriber's component list (a page has far fewer).
const maxScope = 500

// normalizeIDs sorts ids and drops duplicates and non-positive ids.
func normalizeIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkScope refuses component ids that are not components of the page.
func (tx *Tx) checkScope(ctx context.Context, orgID, pageID int64, ids []int64) error {
	ids = normalizeIDs(ids)
	if len(ids) > maxScope {
		return invalid("components", "at most %d components", maxScope)
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.tx.QueryContext(ctx, tx.s.q(`SELECT id FROM components WHERE org_id = ? AND page_id = ?`), orgID, pageID)
	if err != nil {
		return fmt.Errorf("store: subscriber scope: %w", err)
	}
	defer rows.Close()
	own := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("store: subscriber scope: %w", err)
		}
		own[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: subscriber scope: %w", err)
	}
	for _, id := range ids {
		if !own[id] {
			return invalid("components", "component %d is not a component of this page", id)
		}
	}
	return nil
}

// setScope replaces a subscriber's component scope.
func (tx *Tx) setScope(ctx context.Context, orgID, id int64, ids []int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM subscriber_components WHERE org_id = ? AND subscriber_id = ?`), orgID, id); err != nil {
		return fmt.Errorf("store: subscriber %d scope: %w", id, err)
	}
	for _, c := range normalizeIDs(ids) {
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO subscriber_components (subscriber_id, component_id, org_id) VALUES (?, ?, ?)`),
			id, c, orgID); err != nil {
			return fmt.Errorf("store: subscriber %d scope: %w", id, err)
		}
	}
	return nil
}

// subscriberScope lists the ids of the components subscriber id chose,
// ascending.
func (qs queries) subscriberScope(ctx context.Context, id int64) ([]int64, error) {
	ids, err := collect(ctx, qs.conn, "subscriber components", scanID,
		qs.q(`SELECT component_id FROM subscriber_components WHERE subscriber_id = ? ORDER BY component_id`), id)
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func scanID(row rowScanner) (int64, error) {
	var id int64
	err := row.Scan(&id)
	return id, err
}

// SetSubscriberComponents replaces a subscriber's scope (the manage page);
// none means the whole page.
func (s *Store) SetSubscriberComponents(ctx context.Context, orgID, id int64, componentIDs []int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		sub, err := tx.subscriber(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.checkScope(ctx, orgID, sub.PageID, componentIDs); err != nil {
			return err
		}
		return tx.setScope(ctx, orgID, id, componentIDs)
	})
}

// subscriber reads one of the organisation's subscribers with its scope.
func (tx *Tx) subscriber(ctx context.Context, orgID, id int64) (Subscriber, error) {
	sub, err := scanSubscriber(tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT `+subscriberColumns+` FROM subscribers WHERE org_id = ? AND id = ?`), orgID, id))
	if err != nil {
		return Subscriber{}, notFound(err, "subscriber", id)
	}
	sub.ComponentIDs, err = tx.subscriberScope(ctx, id)
	return sub, err
}

// manageTokenLabel separates manage-link signatures from every other use of
// the server's secret.
const manageTokenLabel = "pharos subscriber manage\x00"

// ManageToken is the signed token of a subscriber's manage and one-click
// unsubscribe links: "{id}.{HMAC-SHA256 under key of the subscriber's id,
// page, kind and address}". Nothing is stored: whoever holds the server's
// key (the web role, the notifier) can make and check it, and it stops
// working when the subscriber is removed.
func ManageToken(key []byte, sub Subscriber) string {
	id := strconv.FormatInt(sub.ID, 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(manageTokenLabel))
	m.Write([]byte(id + "\x00" + strconv.FormatInt(sub.PageID, 10) + "\x00" + string(sub.Kind) + "\x00" + sub.Address))
	return id + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SubscriberByManageToken returns the page's subscriber a manage token was
// made for, or ErrNotFound for a token that is malformed, forged, of another
// page or of a removed subscriber.
func (s *Store) SubscriberByManageToken(ctx context.Context, key []byte, pageID int64, token string) (Subscriber, error) {
	idText, _, ok := strings.Cut(token, ".")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 || len(token) > 100 {
		return Subscriber{}, fmt.Errorf("store: manage token: %w", ErrNotFound)
	}
	sub, err := scanSubscriber(s.db.QueryRowContext(ctx, s.q(`SELECT `+subscriberColumns+` FROM subscribers WHERE page_id = ? AND id = ?`), pageID, id))
	if err != nil {
		return Subscriber{}, notFound(err, "subscriber", id)
	}
	if !hmac.Equal([]byte(token), []byte(ManageToken(key, sub))) {
		return Subscriber{}, fmt.Errorf("store: manage token for subscriber %d: %w", id, ErrNotFound)
	}
	sub.ComponentIDs, err = s.subscriberScope(ctx, id)
	return sub, err
}
