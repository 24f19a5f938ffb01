package bus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// Timeouts applied when the URL does not set them.
const (
	dialTimeout  = 5 * time.Second
	readTimeout  = 3 * time.Second
	writeTimeout = 3 * time.Second
	pingTimeout  = 5 * time.Second
)

// maxBlockChunk bounds one XREADGROUP BLOCK call: go-redis does not
// interrupt a blocked read when ctx is cancelled, so Consume waits in
// chunks and checks ctx between them.
const maxBlockChunk = 500 * time.Millisecond

// Field names of stream entries.
const (
	fieldPayload    = "payload"
	fieldOriginalID = "original_id"
	fieldGroup      = "group"
	fieldDeliveries = "deliveries"
)

// RedisBus is the Bus on Redis: Streams with consumer groups for jobs and
// results, pub/sub for events, and a token lock for the leader. Every
// command touches a single key, so the bus also works on Redis Cluster.
type RedisBus struct {
	client redis.UniversalClient
	opts   Options
	capped *capMeter
	closed atomic.Bool
	done   chan struct{} // closed by Close: ends subscriptions

	groups sync.Map // stream key + "\x00" + group → struct{}: groups known to exist
	claims sync.Map // stream key + "\x00" + group → claimState: the next XAUTOCLAIM's start and earliest time
	trims  sync.Map // stream key → *trimState

	renewScript   *redis.Script
	releaseScript *redis.Script
	pruneScript   *redis.Script
	ackScript     *redis.Script
	holdScript    *redis.Script
}

var _ Bus = (*RedisBus)(nil)

// NewRedis connects to the Redis at rawURL and pings it. The URL selects
// the deployment:
//
//   - redis://[user:pass@]host:port/db (rediss:// for TLS): one server;
//   - redis://host:port?master_name=NAME[&addr=host:port...]: Sentinel, the
//     host and addr parameters naming the sentinels (go-redis
//     ParseFailoverURL);
//   - redis://host:port?addr=host:port[&addr=...]: Cluster, seeded with
//     every address given (go-redis ParseClusterURL).
//
// Query parameters such as dial_timeout, read_timeout and pool_size are
// passed to go-redis; dial, read and write timeouts default to 5s, 3s and
// 3s. For anything else, build a redis.UniversalClient and use
// NewRedisClient.
func NewRedis(ctx context.Context, rawURL string, opts Options) (*RedisBus, error) {
	client, err := newUniversalClient(rawURL)
	if err != nil {
		return nil, err
	}
	b, err := NewRedisClient(ctx, client, opts)
	if err != nil {
		return nil, errors.Join(err, client.Close())
	}
	return b, nil
}

// NewRedisClient returns a bus over client, which it pings and then owns:
// Close closes it.
func NewRedisClient(ctx context.Context, client redis.UniversalClient, opts Options) (*RedisBus, error) {
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		return nil, fmt.Errorf("bus: ping redis: %w", err)
	}
	opts = opts.withDefaults()
	capped, err := newCapMeter(opts)
	if err != nil {
		return nil, err
	}
	return &RedisBus{
		client:        client,
		opts:          opts,
		capped:        capped,
		done:          make(chan struct{}),
		renewScript:   redis.NewScript(renewLua),
		releaseScript: redis.NewScript(releaseLua),
		pruneScript:   redis.NewScript(pruneLua),
		ackScript:     redis.NewScript(ackLua),
		holdScript:    redis.NewScript(holdLua),
	}, nil
}

func newUniversalClient(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the URL, password included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bus: parse redis url: %w", err)
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("bus: parse redis sentinel url: %w", err)
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout)
		return redis.NewFailoverClient(o), nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("bus: parse redis cluster url: %w", err)
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout)
		return redis.NewClusterClient(o), nil
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("bus: parse redis url: %w", err)
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout)
		return redis.NewClient(o), nil
	}
}

func setTimeouts(dial, read, write *time.Duration) {
	if *dial == 0 {
		*dial = dialTimeout
	}
	if *read == 0 {
		*read = readTimeout
	}
	if *write == 0 {
		*write = writeTimeout
	}
}

func (b *RedisBus) key(name string) string { return b.opts.Prefix + name }

// Client is the bus's Redis connection, for roles that keep other data in
// the same Redis (the aggregator's latest-state cache). The bus owns it.
func (b *RedisBus) Client() redis.UniversalClient { return b.client }

// Prefix is the key prefix of everything the bus writes.
func (b *RedisBus) Prefix() string { return b.opts.Prefix }

// Publish implements Streams.Publish with XADD MAXLEN ~ (xadd).
func (b *RedisBus) Publish(ctx context.Context, stream string, payload []byte) (string, error) {
	if b.closed.Load() {
		return "", ErrClosed
	}
	id, err := b.xadd(ctx, stream, fieldPayload, payload)
	if err != nil {
		return "", fmt.Errorf("bus: publish %s: %w", stream, err)
	}
	return id, nil
}

// Consume implements Streams.Consume with XAUTOCLAIM then XREADGROUP.
func (b *RedisBus) Consume(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]Message, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	if count <= 0 {
		count = defaultCount
	}
	key := b.key(stream)
	for attempt := 0; ; attempt++ {
		msgs, err := b.consume(ctx, stream, key, group, consumer, count, block)
		if err != nil && isNoGroup(err) && attempt == 0 {
			// The stream was deleted under us (flushed, or a restart
			// without persistence): create the group again.
			b.groups.Delete(key + "\x00" + group)
			b.claims.Delete(key + "\x00" + group)
			continue
		}
		if err != nil {
			return msgs, fmt.Errorf("bus: consume %s/%s: %w", stream, group, err)
		}
		return msgs, nil
	}
}

func (b *RedisBus) consume(ctx context.Context, stream, key, group, consumer string, count int, block time.Duration) ([]Message, error) {
	if err := b.ensureGroup(ctx, key, group); err != nil {
		return nil, err
	}
	msgs, err := b.reclaim(ctx, stream, key, group, consumer, count)
	if err != nil {
		return nil, err
	}
	if len(msgs) >= count {
		return msgs, nil
	}
	if len(msgs) > 0 {
		block = 0 // return what was reclaimed without waiting
	}
	fresh, err := b.readNew(ctx, stream, key, group, consumer, count-len(msgs), block)
	if err != nil {
		if len(msgs) > 0 {
			// They are pending with us now: hand them over; the error
			// will recur on the next call.
			return msgs, nil
		}
		return nil, err
	}
	return append(msgs, fresh...), nil
}

// ensureGroup creates group on key (and key itself) starting at 0, so
// entries published before the first consumer arrived are not lost.
func (b *RedisBus) ensureGroup(ctx context.Context, key, group string) error {
	known := key + "\x00" + group
	if _, ok := b.groups.Load(known); ok {
		return nil
	}
	err := b.client.XGroupCreateMkStream(ctx, key, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create group: %w", err)
	}
	b.groups.Store(known, struct{}{})
	return nil
}

func isNoGroup(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "NOGROUP")
}

// readNew reads entries never delivered to group, waiting up to block in
// chunks of at most maxBlockChunk so that ctx is honoured.
func (b *RedisBus) readNew(ctx context.Context, stream, key, group, consumer string, count int, block time.Duration) ([]Message, error) {
	deadline := time.Now().Add(block)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		args := &redis.XReadGroupArgs{
			Group:    group,
			Consumer: consumer,
			Streams:  []string{key, ">"},
			Count:    int64(count),
			Block:    -1, // go-redis: no BLOCK argument; 0 would block forever
		}
		if block > 0 {
			wait := time.Until(deadline)
			if wait < time.Millisecond {
				return nil, nil
			}
			args.Block = min(wait, maxBlockChunk)
		}
		res, err := b.client.XReadGroup(ctx, args).Result()
		if errors.Is(err, redis.Nil) {
			if block <= 0 {
				return nil, nil
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read group: %w", err)
		}
		var msgs []Message
		for _, s := range res {
			for _, xm := range s.Messages {
				msgs = append(msgs, redisMessage(stream, xm, 1))
			}
		}
		if len(msgs) > 0 || block <= 0 {
			return msgs, nil
		}
	}
}

func redisMessage(stream string, xm redis.XMessage, deliveries int64) Message {
	m := Message{ID: xm.ID, Stream: stream, Deliveries: deliveries}
	if p, ok := xm.Values[fieldPayload].(string); ok {
		// The reply's string is the payload's only holder: share its
		// bytes instead of copying ~1.5 KB a result (Payload is read-only).
		m.Payload = unsafe.Slice(unsafe.StringData(p), len(p))
	}
	if id, ok := xm.Values[fieldOriginalID].(string); ok {
		m.OriginalID = id
	}
	return m
}

// Ack implements Streams.Ack with XACK, and XTRIM MINID in the same script
// at most every trimEvery per stream (ack).
func (b *RedisBus) Ack(ctx context.Context, stream, group string, ids ...string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if len(ids) == 0 {
		return nil
	}
	if err := b.ack(ctx, b.key(stream), group, ids); err != nil {
		return fmt.Errorf("bus: ack %s/%s: %w", stream, group, err)
	}
	return nil
}

// Stats implements Streams.Stats with XLEN and XPENDING.
func (b *RedisBus) Stats(ctx context.Context, stream, group string) (length, pending int64, err error) {
	if b.closed.Load() {
		return 0, 0, ErrClosed
	}
	key := b.key(stream)
	pipe := b.client.Pipeline()
	lenCmd := pipe.XLen(ctx, key)
	pendCmd := pipe.XPending(ctx, key, group)
	// A missing stream or group makes XPENDING fail with NOGROUP: that is
	// zero pending, not an error.
	if _, err := pipe.Exec(ctx); err != nil && !isNoGroup(err) {
		return 0, 0, fmt.Errorf("bus: stats %s/%s: %w", stream, group, err)
	}
	if pendCmd.Err() == nil {
		pending = pendCmd.Val().Count
	}
	return lenCmd.Val(), pending, nil
}

// Close ends subscriptions and closes the Redis client.
func (b *RedisBus) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	close(b.done)
	if err := b.client.Close(); err != nil {
		return fmt.Errorf("bus: close redis: %w", err)
	}
	return nil
}
