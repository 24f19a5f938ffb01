package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Alert steps that AlertWrite.Step takes (the decisions are
// incident.PlanAlerts and incident.ShouldRepeat).
const (
	AlertStepTrigger  = "trigger"
	AlertStepEscalate = "escalate"
	AlertStepRelabel  = "relabel"
	AlertStepRepeat   = "repeat"
	AlertStepResolve  = "resolve"
	// AlertStepAcknowledge tells a channel (PagerDuty) the alert was
	// acknowledged in Pharos.
	AlertStepAcknowledge = "acknowledge"
	// AlertStepTest is a test message from the console; it names no
	// alert.
	AlertStepTest = "test"
)

// AlertWrite is one step for one alert. Trigger inserts Alert (ID unset);
// the others act on Alert.ID.
type AlertWrite struct {
	Step  string
	Alert Alert
	// Sends is the alert's send count the step was decided on: a repeat
	// another notifier already made is not made twice.
	Sends int
	At    time.Time
}

// sends reports whether the step sends a message.
func (w AlertWrite) sends() bool { return w.Step != AlertStepRelabel }

// AlertRender renders the message of a step for an alert as it stands
// after the step (the outbox row's rendered column).
type AlertRender func(a Alert, step string) ([]byte, error)

// ApplyAlerts applies writes in one transaction: each alert row changes,
// and each message goes out as an outbox event (processed at once, its
// rendered message kept) with one pending delivery to the alert's
// channel. ackHash gives a new alert's ack_token_hash from its id. A step
// that finds its alert already moved on (another notifier, a replayed
// event) does nothing. It reports how many messages were queued.
func (s *Store) ApplyAlerts(ctx context.Context, writes []AlertWrite, ackHash func(id int64) string, render AlertRender) (int, error) {
	queued := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		queued = 0
		for _, w := range writes {
			id, ok, err := tx.applyAlert(ctx, w, ackHash)
			if err != nil {
				return err
			}
			if !ok || !w.sends() {
				continue
			}
			a, err := oneAlert(tx.tx.QueryRowContext(ctx, s.q(`SELECT `+alertColumns+alertFrom+` WHERE a.id = ?`), id), id)
			if err != nil {
				return err
			}
			body, err := render(a, w.Step)
			if err != nil {
				return err
			}
			key := fmt.Sprintf("alert:%d:%s:%d", a.ID, w.Step, a.Sends)
			if err := tx.queueChannelMessage(ctx, a.OrgID, a.ChannelID, id, "alert."+w.Step, key, body, w.At); err != nil {
				return err
			}
			queued++
		}
		return nil
	})
	return queued, err
}

// applyAlert changes the alert row and reports its id and whether the step
// took effect.
func (tx *Tx) applyAlert(ctx context.Context, w AlertWrite, ackHash func(int64) string) (int64, bool, error) {
	a, at := w.Alert, w.At.UTC()
	var res sql.Result
	var err error
	switch w.Step {
	case AlertStepTrigger:
		// The component and check may be gone since the event was
		// written: the alert then names none rather than failing.
		var id int64
		err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO alerts (org_id, channel_id, kind, subject, subject_name,
				component_id, check_id, detail, opened_at, last_sent_at, sends)
			VALUES (?, ?, ?, ?, ?, (SELECT id FROM components WHERE id = ? AND org_id = ?),
				(SELECT id FROM checks WHERE id = ? AND org_id = ?), ?, ?, ?, 1)
			ON CONFLICT (channel_id, subject, kind) WHERE resolved_at IS NULL DO NOTHING RETURNING id`),
			a.OrgID, a.ChannelID, a.Kind, a.Subject, a.SubjectName, a.ComponentID, a.OrgID, a.CheckID, a.OrgID, a.Detail,
			at, at).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("store: open alert %s %s: %w", a.Kind, a.Subject, err)
		}
		_, err = tx.tx.ExecContext(ctx, tx.s.q(`UPDATE alerts SET ack_token_hash = ? WHERE id = ?`), ackHash(id), id)
		if err != nil {
			return 0, false, fmt.Errorf("store: alert %d token: %w", id, err)
		}
		return id, true, nil
	case AlertStepEscalate:
		res, err = tx.tx.ExecContext(ctx, tx.s.q(`UPDATE alerts SET kind = ?, detail = ?, last_sent_at = ?, sends = sends + 1,
			acknowledged_at = NULL, acknowledged_by = NULL WHERE id = ? AND resolved_at IS NULL`), a.Kind, a.Detail, at, a.ID)
	case AlertStepRelabel:
		res, err = tx.tx.ExecContext(ctx, tx.s.q(`UPDATE alerts SET kind = ?, detail = ? WHERE id = ? AND resolved_at IS NULL`),
			a.Kind, a.Detail, a.ID)
	case AlertStepRepeat:
		res, err = tx.tx.ExecContext(ctx, tx.s.q(`UPDATE alerts SET last_sent_at = ?, sends = sends + 1
			WHERE id = ? AND sends = ? AND resolved_at IS NULL AND acknowledged_at IS NULL`), at, a.ID, w.Sends)
	case AlertStepResolve:
		res, err = tx.tx.ExecContext(ctx, tx.s.q(`UPDATE alerts SET resolved_at = ?, detail = CASE WHEN ? = '' THEN detail ELSE ? END,
			last_sent_at = ?, sends = sends + 1 WHERE id = ? AND resolved_at IS NULL`), at, a.Detail, a.Detail, at, a.ID)
	case AlertStepAcknowledge:
		res, err = tx.tx.ExecContext(ctx, tx.s.q(`UPDATE alerts SET sends = sends + 1
			WHERE id = ? AND sends = ? AND resolved_at IS NULL AND acknowledged_at IS NOT NULL`), a.ID, w.Sends)
	default:
		return 0, false, fmt.Errorf("store: unknown alert step %q", w.Step)
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: alert %d %s: %w", a.ID, w.Step, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, fmt.Errorf("store: alert %d %s: %w", a.ID, w.Step, err)
	}
	return a.ID, n > 0, nil
}

// QueueChannelTest queues a test message to a channel (the console's
// "send test"); body is the rendered message.
func (s *Store) QueueChannelTest(ctx context.Context, orgID, channelID int64, body []byte, at time.Time) error {
	if _, err := s.AlertChannel(ctx, orgID, channelID); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		key := fmt.Sprintf("alert-test:%d:%d", channelID, at.UnixNano())
		return tx.queueChannelMessage(ctx, orgID, channelID, 0, "alert."+AlertStepTest, key, body, at)
	})
}

// queueChannelMessage writes one message for a channel: an outbox event
// already processed (nothing else fans it out) and its delivery.
func (tx *Tx) queueChannelMessage(ctx context.Context, orgID, channelID, alertID int64, kind, key string, body []byte,
	at time.Time) error {
	at = at.UTC()
	var outboxID int64
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO outbox (org_id, kind, idempotency_key, payload, created_at,
			processed_at, rendered) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		orgID, kind, key, fmt.Sprintf(`{"alert_id":%d,"channel_id":%d}`, alertID, channelID), at, at, string(body)).Scan(&outboxID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: alert message %s: %w", key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: alert message %s: %w", key, err)
	}
	_, err = tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO deliveries (org_id, outbox_id, channel_id, alert_id, idempotency_key,
			status, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`),
		orgID, outboxID, channelID, nullID(alertID), "channel:"+key, at, at, at)
	if err != nil {
		return fmt.Errorf("store: alert delivery %s: %w", key, err)
	}
	return nil
}

// ClaimedChannelDelivery is a channel delivery leased for one attempt.
type ClaimedChannelDelivery struct {
	ClaimedDelivery
	ChannelID int64
	AlertID   int64
	Channel   AlertChannel
}

// ClaimChannelDeliveries leases up to limit due channel deliveries until
// now+lease, oldest first and one per channel at a time (a channel hears
// trigger, repeat and recovery in order). Record them with RecordAttempts.
func (s *Store) ClaimChannelDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]ClaimedChannelDelivery, error) {
	token, err := claimToken()
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	var out []ClaimedChannelDelivery
	err = s.InTx(ctx, func(tx *Tx) error {
		ids, err := collect(ctx, tx.tx, "due channel deliveries", func(row rowScanner) (any, error) {
			var id int64
			err := row.Scan(&id)
			return id, err
		}, s.q(`SELECT d.id FROM deliveries d
			WHERE d.status = 'pending' AND d.channel_id IS NOT NULL AND d.next_attempt_at <= ?
				AND (d.claimed_until IS NULL OR d.claimed_until <= ?)
				AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.channel_id = d.channel_id
					AND e.status = 'pending' AND e.id < d.id)
			ORDER BY d.next_attempt_at, d.id LIMIT ?`+lock), now, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		args := append([]any{now.Add(lease), token}, ids...)
		if _, err := tx.tx.ExecContext(ctx, s.q(`UPDATE deliveries SET claimed_until = ?, claim_token = ?
			WHERE id IN (`+placeholders(len(ids))+`)`), args...); err != nil {
			return fmt.Errorf("store: claim channel deliveries: %w", err)
		}
		out, err = collect(ctx, tx.tx, "claimed channel deliveries", func(row rowScanner) (ClaimedChannelDelivery, error) {
			var c ClaimedChannelDelivery
			var alertID sql.NullInt64
			var rendered sql.NullString
			ch, err := scanAlertChannel(scanPrefix{row: row, before: []any{&c.ID, &c.OrgID, &c.OutboxID, &c.IdempotencyKey,
				&c.Attempts, &c.LastError, &c.ResponseCode, &c.Token, &c.EventKind, &c.EventKey, &c.EventAt, &alertID, &rendered}})
			c.Channel, c.ChannelID, c.AlertID, c.EventAt = ch, ch.ID, alertID.Int64, c.EventAt.UTC()
			c.Kind, c.Active, c.Rendered = ch.Kind, ch.Enabled, []byte(rendered.String)
			return c, err
		}, s.q(`SELECT d.id, d.org_id, d.outbox_id, d.idempotency_key, d.attempts, d.last_error, d.response_code,
				d.claim_token, o.kind, o.idempotency_key, o.created_at, d.alert_id, o.rendered,
				ch.id, ch.org_id, ch.name, ch.kind, ch.config, ch.repeat_seconds, ch.enabled, ch.created_at
			FROM deliveries d JOIN outbox o ON o.id = d.outbox_id JOIN alert_channels ch ON ch.id = d.channel_id
			WHERE d.claim_token = ? ORDER BY d.next_attempt_at, d.id`), token)
		return err
	})
	return out, err
}

// scanPrefix scans leading columns into before, the rest into the
// wrapped scanner's destinations.
type scanPrefix struct {
	row    rowScanner
	before []any
}

func (p scanPrefix) Scan(dest ...any) error { return p.row.Scan(append(p.before, dest...)...) }
