package store

import (
	"context"
	"fmt"
	"time"
)

// PruneNotifications deletes, limit rows per statement, the deliveries
// that finished (sent, failed or dead) before cutoff, then the outbox
// events fanned out before cutoff that no pending delivery still needs,
// then the alerts resolved before cutoff. It reports how many rows it
// deleted.
func (s *Store) PruneNotifications(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	if limit <= 0 {
		limit = 5000
	}
	deliveries, err := s.deleteBatches(ctx, "finished deliveries", `DELETE FROM deliveries WHERE id IN
		(SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < ? LIMIT ?)`, cutoff.UTC(), limit)
	if err != nil {
		return deliveries, err
	}
	events, err := s.deleteBatches(ctx, "processed outbox events", `DELETE FROM outbox WHERE id IN
		(SELECT o.id FROM outbox o WHERE o.processed_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = o.id AND d.status = 'pending') LIMIT ?)`,
		cutoff.UTC(), limit)
	if err != nil {
		return deliveries + events, err
	}
	alerts, err := s.deleteBatches(ctx, "resolved alerts", `DELETE FROM alerts WHERE id IN
		(SELECT id FROM alerts WHERE resolved_at < ? LIMIT ?)`, cutoff.UTC(), limit)
	return deliveries + events + alerts, err
}

// deleteBatches runs a DELETE … LIMIT ? until it deletes fewer than limit
// rows, so no statement holds locks over a whole table.
func (s *Store) deleteBatches(ctx context.Context, what, query string, cutoff time.Time, limit int) (int64, error) {
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, s.q(query), cutoff, limit)
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", what, err)
		}
		total += n
		if n < int64(limit) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: prune %s: %w", what, err)
		}
	}
}
