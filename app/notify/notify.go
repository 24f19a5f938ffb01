// Package notify is the notifier role: it turns the outbox (events written
// in the same transaction as the change that caused them) into deliveries,
// one per confirmed, active subscriber of the event's page, and sends each
// through the Sender of the subscriber's kind (webhook.go here; email in
// email*.go), retrying on the DESIGN §10 schedule (schedule.go) until the
// receiver accepts it, refuses it for good, or the schedule runs out.
//
// Two steps run in Run, each owned and waited for:
//
//   - fan-out: an unprocessed outbox row is rendered once (Event, in
//     Statuspage's shape), its audience chosen (Audience), and one pending
//     delivery per matching subscriber inserted in the transaction that
//     marks the row processed. A subscriber with a component scope
//     (subscriber_components rows, written by the subscriptions code)
//     hears only of events that touch one of
//     its components, or of events that name none.
//   - delivery: due deliveries are claimed with a lease (FOR UPDATE SKIP
//     LOCKED on PostgreSQL), at most one per subscriber at a time and
//     oldest first so each endpoint hears its events in order, sent, and
//     the attempt recorded. Nothing is marked sent before the receiver
//     accepted it; a notifier stopped between send and record leaves the
//     lease to expire and the delivery is sent again with the same id.
package notify

import (
	"context"
	"time"
)

// Subscriber kinds, the keys of Options.Senders.
const (
	KindEmail   = "email"
	KindWebhook = "webhook"
)

// Sender delivers messages of one subscriber kind. Send makes one attempt.
//
// A nil error with an Outcome says what the receiver answered. A non-nil
// error is a temporary failure (network, timeout, a 5xx): the delivery is
// retried on the schedule, and the returned Outcome may still carry the
// response code and a RetryAfter floor. Send must honour ctx: the notifier
// cancels it on shutdown and records the attempt as failed.
type Sender interface {
	Send(ctx context.Context, m Message) (Outcome, error)
}

// Status is what became of one attempt.
type Status int

// The statuses of an Outcome.
const (
	// Retry: a temporary failure; try again on the schedule, not before
	// Outcome.RetryAfter.
	Retry Status = iota
	// Delivered: the receiver accepted the message (2xx, SMTP 250).
	Delivered
	// Gone: the receiver says the subscriber no longer exists or wants
	// nothing (HTTP 410, SMTP 550 mailbox unknown). The subscriber is
	// disabled and its pending deliveries dropped.
	Gone
	// Rejected: this message will never be accepted (a permanent error
	// that is not about the subscriber as a whole); no retry.
	Rejected
)

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Gone:
		return "gone"
	case Rejected:
		return "rejected"
	}
	return "retry"
}

// Outcome is the result of one attempt.
type Outcome struct {
	Status Status
	// RetryAfter is the least wait the receiver asked for (Retry-After on
	// 429 and 503); the next attempt is no earlier than this, nor earlier
	// than the schedule says.
	RetryAfter time.Duration
	// Code is the receiver's response code (HTTP status, SMTP reply code),
	// 0 when none came back.
	Code int
	// Detail is a short, secret-free description for the delivery log
	// (last_error), e.g. "HTTP 503" or "dial: connection refused".
	Detail string
}

// Message is one delivery attempt handed to a Sender.
type Message struct {
	// ID is the delivery's stable id: the same on every attempt, unique
	// per event and subscriber. Webhooks send it as webhook-id; email uses
	// it for Message-ID.
	ID string
	// DeliveryID is the deliveries row.
	DeliveryID int64
	// Attempt counts from 1.
	Attempt int
	// Kind is the outbox event kind (incident.created, incident.updated,
	// incident.resolved, incident.postmortem, component.updated,
	// incident.opened, maintenance.…).
	Kind string
	// Event is what happened, in Statuspage's shape, as rendered when the
	// event was fanned out.
	Event Event
	// Subscriber is who receives it.
	Subscriber Subscriber
	// UnsubscribeURL is the subscriber's one-click unsubscribe / manage
	// link (Options.UnsubscribeURL), "" when none can be built.
	UnsubscribeURL string
	// EventAt is when the event was committed (outbox.created_at).
	EventAt time.Time
}

// Subscriber is the receiving end of a delivery.
type Subscriber struct {
	ID     int64
	OrgID  int64
	PageID int64
	Kind   string // KindEmail or KindWebhook
	// Address is the email address or the webhook URL.
	Address string
	// Secret is the webhook's whsec_ signing secret ("" for email).
	Secret string
}

// Store is what the notifier needs from the database (app/store's
// notify*.go).
type Store interface {
	FanOutStore
	DeliveryStore
}
