package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"pharos/app/store"
)

// DeliverAlertsOnce claims one batch of due channel deliveries, sends each
// in its channel's format and records the attempts (on the DESIGN §10
// schedule, like subscriber deliveries). It reports how many it claimed.
func (n *Notifier) DeliverAlertsOnce(ctx context.Context) (int, error) {
	as := n.alertStore()
	if as == nil {
		return 0, nil
	}
	claimed, err := as.ClaimChannelDeliveries(ctx, n.opts.Now(), n.opts.Lease, alertBatch)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	attempts := make([]store.DeliveryAttempt, len(claimed))
	var wg sync.WaitGroup
	sem := make(chan struct{}, n.opts.Concurrency)
	for i, c := range claimed {
		var m AlertMessage
		if err := json.Unmarshal(c.Rendered, &m); err != nil || !c.Active {
			detail := "channel disabled"
			if c.Active {
				detail = "message unreadable"
			}
			attempts[i] = store.DeliveryAttempt{ID: c.ID, Token: c.Token, Status: store.DeliveryDead, Attempts: c.Attempts,
				LastError: detail, At: n.opts.Now()}
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := n.sendAlert(ctx, c, m)
			attempts[i] = n.channelAttempt(ctx, c, out, err)
		}()
	}
	wg.Wait()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if _, err := as.RecordAttempts(rctx, attempts); err != nil {
		return len(claimed), err
	}
	return len(claimed), nil
}

// channelAttempt turns one send's outcome into the row to record. A
// channel is never disabled by an answer: Gone is a refusal, and the
// console shows the delivery log.
func (n *Notifier) channelAttempt(ctx context.Context, c store.ClaimedChannelDelivery, out Outcome, err error) store.DeliveryAttempt {
	now := n.opts.Now()
	a := store.DeliveryAttempt{ID: c.ID, Token: c.Token, Attempts: c.Attempts + 1, At: now, ResponseCode: out.Code,
		LastError: out.Detail}
	if err != nil {
		out.Status, a.LastError = Retry, err.Error()
	}
	kind := "alert_" + c.Channel.Kind
	switch {
	case out.Status == Retry && ctx.Err() != nil:
		a.Status, a.Attempts, a.NextAttempt, a.LastError = store.DeliveryPending, c.Attempts, now, "interrupted by shutdown"
		return a
	case out.Status == Delivered:
		a.Status, a.LastError = store.DeliverySent, ""
		n.metrics.deliveries.WithLabelValues(kind, "sent").Inc()
		return a
	case out.Status == Gone, out.Status == Rejected:
		a.Status = store.DeliveryFailed
		n.metrics.deliveries.WithLabelValues(kind, "dead").Inc()
		n.log.Warn("alert refused by its channel", slog.Int64("channel_id", c.ChannelID), slog.Int("code", out.Code),
			slog.String("detail", out.Detail))
		return a
	}
	next, ok := NextAttempt(now, a.Attempts, out.RetryAfter, n.opts.Jitter, rand.Float64())
	if !ok {
		a.Status = store.DeliveryDead
		n.metrics.deliveries.WithLabelValues(kind, "dead").Inc()
		return a
	}
	a.Status, a.NextAttempt = store.DeliveryPending, next
	n.metrics.deliveries.WithLabelValues(kind, "failed").Inc()
	return a
}

// sendAlert makes one attempt of a channel message.
func (n *Notifier) sendAlert(ctx context.Context, c store.ClaimedChannelDelivery, m AlertMessage) (Outcome, error) {
	ch := c.Channel
	id := MessageID(c.IdempotencyKey)
	switch ch.Kind {
	case store.AlertChannelEmail:
		mail := n.alertEmail()
		if mail == nil {
			return Outcome{Status: Retry, RetryAfter: 10 * time.Minute, Detail: "email is off (PHAROS_SMTP_URL)"},
				fmt.Errorf("email is off: PHAROS_SMTP_URL is not set")
		}
		return mail.SendAlert(ctx, ch.Config.Address, id, m)
	case store.AlertChannelPagerDuty:
		url := ch.Config.URL
		if url == "" {
			url = n.opts.Alerts.PagerDutyURL
		}
		if url == "" {
			url = DefaultPagerDutyURL
		}
		body, err := PagerDutyBody(ch.Config.RoutingKey, m)
		if err != nil {
			return Outcome{Status: Rejected, Detail: err.Error()}, nil
		}
		return n.alertHTTP().post(ctx, url, body, nil)
	case store.AlertChannelWebhook:
		body, err := json.Marshal(genericAlertBody{Type: "alert." + m.Step, Alert: m})
		if err != nil {
			return Outcome{Status: Rejected, Detail: err.Error()}, nil
		}
		ts := n.opts.Now().Unix()
		sig, err := Sign(ch.Config.Secret, id, ts, body)
		if err != nil {
			return Outcome{Status: Rejected, Detail: err.Error()}, nil
		}
		return n.alertHTTP().post(ctx, ch.Config.URL, body, map[string]string{"webhook-id": id,
			"webhook-timestamp": fmt.Sprint(ts), "webhook-signature": sig})
	}
	body, err := ChatBody(ch.Kind, m)
	if err != nil {
		return Outcome{Status: Rejected, Detail: err.Error()}, nil
	}
	return n.alertHTTP().post(ctx, ch.Config.URL, body, nil)
}

// genericAlertBody is what a generic webhook channel receives, signed
// with Standard Webhooks headers under the channel's whsec_ secret.
type genericAlertBody struct {
	Type  string       `json:"type"` // alert.trigger, alert.repeat, alert.resolve, …
	Alert AlertMessage `json:"alert"`
}

// alertHTTP is the guarded client channel messages go through.
func (n *Notifier) alertHTTP() *Webhook {
	n.alertOnce.Do(func() {
		if n.opts.Alerts.HTTP != nil {
			n.alertHook = n.opts.Alerts.HTTP
			return
		}
		if w, ok := n.opts.Senders[KindWebhook].(*Webhook); ok {
			n.alertHook = w
			return
		}
		n.alertHook = NewWebhook(WebhookOptions{})
	})
	return n.alertHook
}

// alertEmail is the email channel alerts are mailed through, nil when
// email is off.
func (n *Notifier) alertEmail() *Email {
	if n.opts.Alerts.Email != nil {
		return n.opts.Alerts.Email
	}
	e, _ := n.opts.Senders[KindEmail].(*Email)
	return e
}
