package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Notifier is the notifier role.
type Notifier struct {
	opts    Options
	store   Store
	log     *slog.Logger
	metrics *metrics
	// queued wakes the delivery step when a fan-out queued deliveries, so
	// a new incident does not wait for the next poll.
	queued chan struct{}
	// alertQueued wakes the alert loop (alert_tick.go); alertHook is the
	// guarded HTTP client of alert channels (alert_deliver.go).
	alertQueued chan struct{}
	alertOnce   sync.Once
	alertHook   *Webhook
}

// New returns a notifier; opts.Store is required.
func New(opts Options) (*Notifier, error) {
	if opts.Store == nil {
		return nil, errors.New("notify: no store")
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Jitter == 0 {
		opts.Jitter = 0.1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	return &Notifier{
		opts: opts, store: opts.Store, metrics: m, queued: make(chan struct{}, 1), alertQueued: make(chan struct{}, 1),
		log: opts.Logger.With(slog.String("role", "notifier")),
	}, nil
}

// Run fans events out and delivers them until ctx ends. It returns once
// both steps stopped: sends in flight are cancelled and their attempts
// recorded (with a context that outlives ctx) before it returns.
func (n *Notifier) Run(ctx context.Context) error {
	kinds := make([]string, 0, len(n.opts.Senders))
	for k := range n.opts.Senders {
		kinds = append(kinds, k)
	}
	n.log.Info("notifier started", slog.Any("channels", kinds))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.loop(gctx, "fan-out", n.FanOutOnce, n.store.OutboxWritten) })
	g.Go(func() error {
		return n.loop(gctx, "delivery", n.DeliverOnce, func() <-chan struct{} { return n.queued })
	})
	g.Go(func() error { return n.alertLoop(gctx) })
	return g.Wait()
}

// loop runs step until ctx ends: again at once while it finds work, after
// Poll (or a wake-up) when it found none, and backing off after an error
// (a database restart must not end the role). wake returns the channel of
// the next wake-up; it is taken before each step, so work that arrives
// during a step wakes the next one.
func (n *Notifier) loop(ctx context.Context, name string, step func(context.Context) (int, error), wake func() <-chan struct{}) error {
	backoff := n.opts.Poll
	for ctx.Err() == nil {
		woken := wake()
		did, err := step(ctx)
		wait := n.opts.Poll
		switch {
		case err != nil && ctx.Err() == nil:
			n.log.Error("notifier step failed", slog.String("step", name), slog.Any("error", err))
			wait, backoff = backoff, min(2*backoff, 30*time.Second)
		case err == nil:
			backoff = n.opts.Poll
			if did > 0 {
				continue
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-woken:
		}
		t.Stop()
	}
	return nil
}

// wakeDelivery tells the delivery step new work is queued.
func (n *Notifier) wakeDelivery() {
	select {
	case n.queued <- struct{}{}:
	default:
	}
}

// FanOutOnce fans out one batch of outbox events and reports how many it
// handled. Run calls it in a loop; tests call it directly.
func (n *Notifier) FanOutOnce(ctx context.Context) (int, error) {
	rows, err := n.store.UnprocessedOutbox(ctx, n.opts.Batch)
	if err != nil {
		return 0, err
	}
	handled := 0
	for _, row := range rows {
		f, err := n.prepare(ctx, row)
		if err != nil {
			return handled, fmt.Errorf("notify: event %d (%s): %w", row.ID, row.Kind, err)
		}
		if err := n.alertEvent(ctx, row); err != nil {
			return handled, fmt.Errorf("notify: alerts of event %d (%s): %w", row.ID, row.Kind, err)
		}
		created, done, err := n.store.FanOutEvent(ctx, f)
		if err != nil {
			return handled, err
		}
		if done {
			handled++
			n.metrics.events.WithLabelValues(row.Kind).Inc()
		}
		if created > 0 {
			n.log.Debug("event fanned out", slog.Int64("outbox_id", row.ID), slog.String("kind", row.Kind),
				slog.Int64("deliveries", created))
			n.wakeDelivery()
		}
	}
	return handled, nil
}
