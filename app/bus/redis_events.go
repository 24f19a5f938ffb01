package bus

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribeTimeout bounds the wait for Redis to confirm a subscription.
const subscribeTimeout = 5 * time.Second

// PublishEvent implements Events.PublishEvent with PUBLISH.
func (b *RedisBus) PublishEvent(ctx context.Context, channel string, payload []byte) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := b.client.Publish(ctx, b.key(channel), payload).Err(); err != nil {
		return fmt.Errorf("bus: publish event %s: %w", channel, err)
	}
	return nil
}

// Subscribe implements Events.Subscribe with SUBSCRIBE. It returns once
// Redis confirmed the subscription, so every event published afterwards
// reaches it. go-redis resubscribes by itself after a lost connection;
// events published meanwhile are lost, as pub/sub is fire-and-forget.
func (b *RedisBus) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	ps := b.client.Subscribe(ctx, b.key(channel))
	if _, err := ps.ReceiveTimeout(ctx, subscribeTimeout); err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", channel, joinClose(err, ps))
	}
	in := ps.Channel(redis.WithChannelSize(b.opts.EventBuffer))
	out := make(chan []byte, b.opts.EventBuffer)
	go func() {
		defer close(out)
		defer func() {
			if err := ps.Close(); err != nil {
				b.opts.Logger.Warn("bus: close subscription", slog.String("channel", channel), slog.Any("error", err))
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-b.done:
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				// The forwarder is out's only sender, so offer's
				// drop-oldest never blocks.
				offer(out, []byte(m.Payload))
			}
		}
	}()
	return out, nil
}

// SubscribePrefix implements Events.SubscribePrefix with PSUBSCRIBE on
// the prefix (glob characters in it escaped) followed by *. Like
// Subscribe, it holds one connection for as long as it lasts.
func (b *RedisBus) SubscribePrefix(ctx context.Context, prefix string) (<-chan Event, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	ps := b.client.PSubscribe(ctx, globEscaper.Replace(b.key(prefix))+"*")
	if _, err := ps.ReceiveTimeout(ctx, subscribeTimeout); err != nil {
		return nil, fmt.Errorf("bus: subscribe %s*: %w", prefix, joinClose(err, ps))
	}
	in := ps.Channel(redis.WithChannelSize(b.opts.EventBuffer))
	out := make(chan Event, b.opts.EventBuffer)
	go func() {
		defer close(out)
		defer func() {
			if err := ps.Close(); err != nil {
				b.opts.Logger.Warn("bus: close subscription", slog.String("channel", prefix+"*"), slog.Any("error", err))
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-b.done:
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				offer(out, Event{Channel: strings.TrimPrefix(m.Channel, b.opts.Prefix), Payload: []byte(m.Payload)})
			}
		}
	}()
	return out, nil
}

// globEscaper quotes the characters PSUBSCRIBE patterns treat specially.
var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)

func joinClose(err error, ps *redis.PubSub) error {
	if cerr := ps.Close(); cerr != nil {
		return fmt.Errorf("%w (and close: %v)", err, cerr)
	}
	return err
}
