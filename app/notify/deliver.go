package notify

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"pharos/app/store"
)

// recordTimeout bounds recording a batch's attempts after Run's context
// ended: the sends happened, so their outcome is written even on shutdown.
const recordTimeout = 30 * time.Second

// DeliverOnce claims one batch of due deliveries, sends them (up to
// Concurrency at once) and records every attempt, and reports how many it
// claimed. Run calls it in a loop; tests call it directly.
//
// Sends start only within the first half of the lease, so a slow channel
// (an SMTP relay taking a second a mail) never sends past its lease while
// another notifier claims the same rows; what was not started is released
// untouched, due at once.
func (n *Notifier) DeliverOnce(ctx context.Context) (int, error) {
	claimed, err := n.store.ClaimDeliveries(ctx, n.opts.Now(), n.opts.Lease, n.opts.Batch)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	started, budget := time.Now(), n.opts.Lease/2
	events := map[int64]*Event{}
	attempts := make([]store.DeliveryAttempt, len(claimed))
	var wg sync.WaitGroup
	sem := make(chan struct{}, n.opts.Concurrency)
	for i, c := range claimed {
		ev, ok := events[c.OutboxID]
		if !ok {
			ev = new(Event)
			if err := json.Unmarshal(c.Rendered, ev); err != nil {
				ev = nil
			}
			events[c.OutboxID] = ev
		}
		sender := n.opts.Senders[c.Kind]
		if ev == nil || sender == nil || !c.Active {
			attempts[i] = n.skip(c, ev, sender)
			continue
		}
		m := n.message(c, *ev)
		sem <- struct{}{}
		if ctx.Err() != nil || time.Since(started) > budget {
			<-sem
			attempts[i] = n.release(c)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			attempts[i] = n.attempt(ctx, sender, c, m)
		}()
	}
	wg.Wait()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if _, err := n.store.RecordAttempts(rctx, attempts); err != nil {
		return len(claimed), err
	}
	return len(claimed), nil
}

// message is what a sender gets for a claimed delivery.
func (n *Notifier) message(c store.ClaimedDelivery, ev Event) Message {
	m := Message{ID: MessageID(c.IdempotencyKey), DeliveryID: c.ID, Attempt: c.Attempts + 1, Kind: c.EventKind,
		Event: ev, EventAt: c.EventAt,
		Subscriber: Subscriber{ID: c.SubscriberID, OrgID: c.OrgID, PageID: c.PageID, Kind: c.Kind, Address: c.Address,
			Secret: c.Secret}}
	switch {
	case n.opts.UnsubscribeURL != nil:
		m.UnsubscribeURL = n.opts.UnsubscribeURL(m.Subscriber)
	case ev.Page.URL != "" && len(n.opts.SecretKey) > 0:
		// The manage page the subscriptions code serves, where one button
		// unsubscribes.
		token := store.ManageToken(n.opts.SecretKey, store.Subscriber{ID: c.SubscriberID, PageID: c.PageID,
			Kind: store.SubscriberKind(c.Kind), Address: c.Address})
		m.UnsubscribeURL = ev.Page.URL + "subscribe/manage?token=" + url.QueryEscape(token)
	case ev.Page.URL != "":
		m.UnsubscribeURL = ev.Page.URL + "subscribe"
	}
	return m
}

// MessageID is a delivery's stable id (webhook-id, Message-ID) derived
// from its idempotency key: the same on every attempt and after a restart,
// and naming no database id a receiver could enumerate.
func MessageID(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// release hands back a claimed delivery that was not attempted: as it
// was, due now.
func (n *Notifier) release(c store.ClaimedDelivery) store.DeliveryAttempt {
	now := n.opts.Now()
	return store.DeliveryAttempt{ID: c.ID, Token: c.Token, SubscriberID: c.SubscriberID, Status: store.DeliveryPending,
		Attempts: c.Attempts, NextAttempt: now, LastError: c.LastError, ResponseCode: c.ResponseCode, At: now}
}

// skip records a delivery that cannot be sent: its subscriber left or was
// disabled (dead), its event cannot be read (dead), or no channel of its
// kind is configured in this process (tried again later, not counted).
func (n *Notifier) skip(c store.ClaimedDelivery, ev *Event, sender Sender) store.DeliveryAttempt {
	now := n.opts.Now()
	a := store.DeliveryAttempt{ID: c.ID, Token: c.Token, SubscriberID: c.SubscriberID, Attempts: c.Attempts, At: now,
		Status: store.DeliveryDead}
	switch {
	case !c.Active:
		a.LastError = "subscriber unsubscribed or disabled"
	case ev == nil:
		a.LastError = "event unreadable"
	case sender == nil:
		a.Status, a.NextAttempt = store.DeliveryPending, now.Add(10*time.Minute)
		a.LastError = fmt.Sprintf("no %s channel configured", c.Kind)
		return a
	}
	n.metrics.deliveries.WithLabelValues(c.Kind, "dead").Inc()
	return a
}

// attempt sends one message and turns the outcome into the row to record.
func (n *Notifier) attempt(ctx context.Context, sender Sender, c store.ClaimedDelivery, m Message) store.DeliveryAttempt {
	out, err := sender.Send(ctx, m)
	now := n.opts.Now()
	a := store.DeliveryAttempt{ID: c.ID, Token: c.Token, SubscriberID: c.SubscriberID, Attempts: c.Attempts + 1, At: now,
		ResponseCode: out.Code, LastError: out.Detail}
	if err != nil {
		out.Status = Retry
		a.LastError = err.Error()
	}
	if out.Status == Retry && ctx.Err() != nil {
		// Shutdown cut the attempt short: it does not count, and the
		// delivery is due again at once after a restart.
		a.Status, a.Attempts, a.NextAttempt, a.LastError = store.DeliveryPending, c.Attempts, now, "interrupted by shutdown"
		return a
	}
	if m.Attempt == 1 {
		n.metrics.latency.WithLabelValues(c.Kind).Observe(now.Sub(c.EventAt).Seconds())
	}
	switch out.Status {
	case Delivered:
		a.Status, a.LastError = store.DeliverySent, ""
		n.metrics.deliveries.WithLabelValues(c.Kind, "sent").Inc()
		return a
	case Gone:
		a.Status, a.DisableSubscriber = store.DeliveryDead, true
		n.metrics.deliveries.WithLabelValues(c.Kind, "dead").Inc()
		n.log.Warn("subscriber gone; disabled", slog.Int64("subscriber_id", c.SubscriberID), slog.Int("code", out.Code))
		return a
	case Rejected:
		a.Status = store.DeliveryFailed
		n.metrics.deliveries.WithLabelValues(c.Kind, "dead").Inc()
		return a
	}
	next, ok := NextAttempt(now, a.Attempts, out.RetryAfter, n.opts.Jitter, rand.Float64())
	if !ok {
		// A webhook failing for about three days is disabled like one that
		// answered 410 (its owner sees it in the console and subscribes
		// again to resume). A mailbox is not blamed for our SMTP relay.
		a.Status, a.DisableSubscriber = store.DeliveryDead, c.Kind == KindWebhook
		n.metrics.deliveries.WithLabelValues(c.Kind, "dead").Inc()
		n.log.Warn("delivery given up", slog.Int64("subscriber_id", c.SubscriberID), slog.String("kind", c.Kind),
			slog.Int("attempts", a.Attempts), slog.String("last_error", a.LastError),
			slog.Bool("subscriber_disabled", a.DisableSubscriber))
		return a
	}
	a.Status, a.NextAttempt = store.DeliveryPending, next
	n.metrics.deliveries.WithLabelValues(c.Kind, "failed").Inc()
	return a
}
