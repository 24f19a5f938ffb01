// Package bus carries jobs, results and live page events between Pharos
// roles, and elects the scheduler's leader.
//
// Two implementations share one interface and one conformance suite:
// RedisBus (Redis Streams with consumer groups, pub/sub and a token lock,
// for the distributed deployment) and MemoryBus (the same semantics inside
// one process, for the embedded `pharos` run). Payloads are opaque bytes:
// callers choose their own encoding.
//
// Streams are at-least-once. An entry stays pending in its consumer group
// until it is acknowledged; an entry left pending longer than
// Options.ClaimIdle (its consumer died) is handed to the next consumer of
// the group that calls Consume (on Redis within ClaimIdle/8 more: a look
// that found no such entry is not repeated sooner), and an entry
// delivered more than Options.MaxDeliveries times is moved to the
// dead-letter stream DeadLetterStream(stream) instead of being delivered
// again. Consumers must therefore be idempotent, and must ack only once
// the effect is durable.
//
// An entry leaves its stream once every consumer group of the stream has
// had it delivered and acknowledged it (trimmed on Ack, oldest first), so a
// stream holds about the work in flight: entries pending somewhere, entries
// not yet delivered to some group, and the acknowledged ones published after
// the oldest of those. Nothing pending or undelivered is trimmed that way; a
// stream without any group keeps everything (a group created later starts
// at the beginning). Options.MaxLen is only a safety cap for a group whose
// consumers are gone: entries it drops are counted in
// pharos_bus_entries_capped_total and logged.
package bus

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by Options.withDefaults.
const (
	DefaultPrefix        = "pharos:"
	DefaultMaxLen        = 100_000
	DefaultClaimIdle     = 30 * time.Second
	DefaultMaxDeliveries = 5
	DefaultEventBuffer   = 256
)

// ErrClosed is returned by every method of a bus after Close.
var ErrClosed = errors.New("bus: closed")

// Bus is everything the roles need from the message layer. Roles should
// declare the smaller interface they use (Streams, Events or Locker).
type Bus interface {
	Streams
	Events
	Locker
	// Close releases the bus's connections. Subscriptions end and blocked
	// calls return.
	Close() error
}

// Streams is a set of append-only logs read through consumer groups: every
// group sees every entry, and within a group each entry goes to one
// consumer at a time.
type Streams interface {
	// Publish appends payload to stream and returns the new entry's id.
	// Past Options.MaxLen entries the oldest are dropped, acknowledged or
	// not (the safety cap).
	Publish(ctx context.Context, stream string, payload []byte) (id string, err error)

	// Consume returns up to count entries for consumer in group, creating
	// the group (starting at the beginning of the stream) if needed. It
	// first reclaims entries other consumers left pending longer than
	// Options.ClaimIdle (see the package documentation for when Redis
	// looks), then reads new entries. When there is nothing to
	// return it waits up to block for a new entry (block <= 0: no wait).
	// When ctx ends while waiting it returns an error wrapping ctx.Err()
	// (promptly: Redis waits in chunks of at most 500ms).
	Consume(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]Message, error)

	// Hold keeps entries consumer is still working on from being reclaimed:
	// it resets the idle time of those still pending with consumer and
	// returns them; an entry acknowledged or reclaimed by another consumer
	// meanwhile is left alone and not returned. A consumer whose work may
	// take longer than Options.ClaimIdle holds its entries every fraction
	// of it, so that a short ClaimIdle reclaims a dead consumer's entries
	// soon without handing a live one's to a second consumer.
	Hold(ctx context.Context, stream, group, consumer string, ids ...string) (held []string, err error)

	// Ack marks entries of group as processed. Unknown ids are ignored.
	// Entries every group of the stream has now acknowledged leave the
	// stream (see the package documentation).
	Ack(ctx context.Context, stream, group string, ids ...string) error

	// Stats reports the stream's length (about the work in flight: see the
	// package documentation) and the number of entries pending (delivered,
	// not acknowledged) in group, for metrics. A missing stream or group
	// reports zeros.
	Stats(ctx context.Context, stream, group string) (length, pending int64, err error)

	// PruneConsumers deletes the consumers of group that have been idle
	// for longer than idle and hold no pending entries, and returns their
	// names. Consumers of dead processes would otherwise stay in the group
	// forever. A consumer with pending entries is always kept, however
	// long idle: deleting it would drop its entries from the group's
	// pending list, and they would never be delivered again; once Consume
	// has reclaimed them for a live consumer it goes on the next call.
	//
	// Idle counts from the consumer's last Consume call; on Redis before
	// 7.2, which does not note reads that return nothing, from the last
	// entry it received or reclaimed. A live consumer removed that way
	// (or any pruned consumer that calls Consume again) simply reappears
	// with its next entry; nothing is lost. A missing stream or group has
	// nothing to prune.
	PruneConsumers(ctx context.Context, stream, group string, idle time.Duration) (removed []string, err error)
}

// Events is fire-and-forget fan-out for live page updates: a subscriber
// gets the events published after its Subscribe returned, as long as it
// keeps up.
type Events interface {
	// PublishEvent sends payload to the current subscribers of channel. It
	// never waits for slow subscribers.
	PublishEvent(ctx context.Context, channel string, payload []byte) error

	// Subscribe returns the events published on channel from now on. The
	// returned channel is closed when ctx ends or the bus closes. It holds
	// up to Options.EventBuffer events; when a subscriber falls further
	// behind, the oldest buffered event is dropped so that the newest state
	// always gets through.
	Subscribe(ctx context.Context, channel string) (<-chan []byte, error)

	// SubscribePrefix is Subscribe for every channel whose name starts
	// with prefix, each event with its channel: one subscription for any
	// number of channels (the web role follows every page's events on one,
	// rather than one per page and, on Redis, one connection per page). It
	// buffers, drops and closes as Subscribe does.
	SubscribePrefix(ctx context.Context, prefix string) (<-chan Event, error)
}

// Event is a live event and the channel it was published on.
type Event struct {
	Channel string
	Payload []byte
}

// Locker hands out named, expiring, exclusive leases (the scheduler's
// leader lock).
type Locker interface {
	// TryLock takes the lock name for ttl if nobody holds it. ok is false
	// when another holder has it.
	TryLock(ctx context.Context, name string, ttl time.Duration) (lease Lease, ok bool, err error)
}

// Lease is a held lock. It expires ttl after it was taken or last renewed.
type Lease interface {
	// Renew extends the lease by its ttl. It reports false, and the holder
	// must stop acting as owner, when the lease expired or was taken over.
	Renew(ctx context.Context) (bool, error)
	// Release gives the lock up if it is still held by this lease.
	Release(ctx context.Context) error
}

// Message is one stream entry as delivered to a consumer.
type Message struct {
	// ID is the entry id, "ms-seq" as in Redis; ids grow with publication
	// order (compare with CompareIDs).
	ID     string
	Stream string
	// Payload is read-only: on Redis it shares the reply's memory.
	Payload []byte
	// Deliveries counts how often the entry was delivered to the group,
	// this delivery included (1 on first delivery).
	Deliveries int64
	// OriginalID is, for an entry of a dead-letter stream, the id the entry
	// had in its original stream; empty otherwise.
	OriginalID string
}

// Options tune a bus. The zero value of each field selects its default.
type Options struct {
	// Prefix is prepended to every Redis key and pub/sub channel
	// (default "pharos:"), so stream "jobs:fra" is key "pharos:jobs:fra".
	Prefix string
	// MaxLen bounds each stream's length, approximately (default 100,000):
	// a safety cap for a consumer group nobody reads any more, since
	// acknowledged entries leave the stream anyway. It drops the oldest
	// entries whether or not every group has read them, so it must exceed
	// the backlog consumers may fall behind by; when it does drop entries
	// it counts them in pharos_bus_entries_capped_total (on Redis, which
	// drops whole nodes of up to 100 entries, about one per entry published
	// at the cap) and logs a warning (at most once a minute per stream).
	MaxLen int64
	// ClaimIdle is how long an entry stays pending with one consumer before
	// another may reclaim it (default 30s). It must exceed the longest time
	// a live consumer takes to process and ack an entry.
	ClaimIdle time.Duration
	// MaxDeliveries is how often an entry may be delivered before it is
	// dead-lettered (default 5).
	MaxDeliveries int64
	// EventBuffer is each subscriber's buffer, in events (default 256).
	EventBuffer int
	// Logger receives the few errors that have no caller to return to,
	// and the warnings of the MaxLen cap (default: discarded).
	Logger *slog.Logger
	// Registerer receives the bus's metrics (pharos_bus_entries_capped_total);
	// nil registers them nowhere. Buses sharing a Registerer share the
	// series.
	Registerer prometheus.Registerer
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.MaxLen <= 0 {
		o.MaxLen = DefaultMaxLen
	}
	if o.ClaimIdle <= 0 {
		o.ClaimIdle = DefaultClaimIdle
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = DefaultMaxDeliveries
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = DefaultEventBuffer
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// DeadLetterStream names the stream that receives stream's entries once
// they exceed Options.MaxDeliveries.
func DeadLetterStream(stream string) string { return stream + ":dead" }

// defaultCount is the batch size Consume uses when count <= 0.
const defaultCount = 10
