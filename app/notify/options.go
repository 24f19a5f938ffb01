package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/store"
)

// FanOutStore is what the fan-out step needs.
type FanOutStore interface {
	UnprocessedOutbox(ctx context.Context, limit int) ([]store.OutboxRow, error)
	FanOutEvent(ctx context.Context, f store.FanOut) (created int64, done bool, err error)
	Page(ctx context.Context, orgID, id int64) (store.Page, error)
	PublicComponents(ctx context.Context, orgID, pageID int64) ([]store.PublicComponent, error)
	PublicIncident(ctx context.Context, orgID, pageID, id int64) (store.PublicIncident, error)
	MaintenanceUpdates(ctx context.Context, orgID, pageID, windowID int64, limit int) ([]store.MaintenanceUpdate, error)
	// OutboxWritten is closed when this process next commits outbox
	// events: the fan-out wakes then instead of at its next poll.
	OutboxWritten() <-chan struct{}
}

// DeliveryStore is what the delivery step needs.
type DeliveryStore interface {
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.ClaimedDelivery, error)
	RecordAttempts(ctx context.Context, attempts []store.DeliveryAttempt) (int, error)
}

var _ Store = (*store.Store)(nil)

// Defaults of Options.
const (
	DefaultBatch       = 1000
	DefaultConcurrency = 256
	DefaultLease       = 2 * time.Minute
	DefaultPoll        = 2 * time.Second
)

// Options configure a Notifier; zero values select the defaults.
type Options struct {
	// Store is the database (a *store.Store).
	Store Store
	// Senders maps a subscriber kind (KindEmail, KindWebhook) to its
	// channel. Events for a kind without a sender are not fanned out to
	// its subscribers.
	Senders map[string]Sender
	// BaseURL is the public URL of Pharos (PHAROS_BASE_URL), for page
	// links.
	BaseURL string
	// SecretKey (PHAROS_SECRET_KEY) signs each subscriber's manage link,
	// Message.UnsubscribeURL (webhooks send it as meta.unsubscribe).
	SecretKey []byte
	// UnsubscribeURL, when set, builds that link instead.
	UnsubscribeURL func(s Subscriber) string
	// Batch bounds the deliveries one claim leases (default 1000) and the
	// outbox rows one fan-out pass reads.
	Batch int
	// Concurrency bounds the sends in flight (default 256).
	Concurrency int
	// Lease is how long a claimed delivery stays with this notifier
	// (default 2 min); it must outlast a batch's sends.
	Lease time.Duration
	// Poll is how often the outbox and the due deliveries are looked at
	// when there was nothing to do (default 2 s). Events this process
	// writes wake the fan-out at once (Store.OutboxWritten); the poll
	// finds those of other processes and deliveries whose retry came due.
	Poll time.Duration
	// Jitter spreads each retry by up to this fraction of its delay
	// (default 0.1; negative for none, as tests that assert exact times
	// use).
	Jitter float64
	// Now is the clock (default time.Now); tests inject one to step over
	// the 5 s and 5 min retries.
	Now func() time.Time
	// Alerts configure on-call alert channels (alert*.go).
	Alerts AlertOptions
	// Logger and Registry: the process's log and metrics registry.
	Logger   *slog.Logger
	Registry prometheus.Registerer
}
