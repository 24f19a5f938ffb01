package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// reclaim takes over up to count entries of group idle longer than
// ClaimIdle (their consumer died or stalled) with XAUTOCLAIM, reads their
// delivery counts with XPENDING, and dead-letters those delivered more than
// MaxDeliveries times instead of returning them.
//
// XAUTOCLAIM scans the pending list a bounded number of entries at a time
// and returns where to continue; the bus keeps that cursor per group, so
// idle entries behind a long run of busy ones are reached on later calls.
//
// Once a scan of the whole list found nothing idle long enough, the next
// is made no sooner than ClaimIdle/8 later: at a trickle nearly every Consume
// finds an entry or two, and an XAUTOCLAIM before each read was as many
// round trips again (BenchmarkConsumeTrickle). An entry whose consumer died
// is then reclaimed at most ClaimIdle/8 after it became idle enough.
func (b *RedisBus) reclaim(ctx context.Context, stream, key, group, consumer string, count int) ([]Message, error) {
	claimKey := key + "\x00" + group
	start := "0-0"
	if v, ok := b.claims.Load(claimKey); ok {
		c := v.(claimState)
		if time.Now().Before(c.quietUntil) {
			return nil, nil
		}
		start = c.cursor
	}
	claimed, next, err := b.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream:   key,
		Group:    group,
		Consumer: consumer,
		MinIdle:  b.opts.ClaimIdle,
		Start:    start,
		Count:    int64(count),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("autoclaim: %w", err)
	}
	state := claimState{cursor: next}
	if len(claimed) == 0 && next == "0-0" { // the whole list was scanned, for nothing
		state.quietUntil = time.Now().Add(b.opts.ClaimIdle / 8)
	}
	b.claims.Store(claimKey, state)
	if len(claimed) == 0 {
		return nil, nil
	}

	// XAUTOCLAIM does not report delivery counts; one pipelined XPENDING
	// per entry does (they are ours now, so the counts are stable).
	pipe := b.client.Pipeline()
	counts := make([]*redis.XPendingExtCmd, len(claimed))
	for i, xm := range claimed {
		counts[i] = pipe.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: key, Group: group, Start: xm.ID, End: xm.ID, Count: 1,
		})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("pending counts: %w", err)
	}

	var msgs []Message
	var dead []deadEntry
	for i, xm := range claimed {
		pend := counts[i].Val()
		if len(pend) == 0 {
			continue // acked in the meantime
		}
		deliveries := pend[0].RetryCount
		if deliveries > b.opts.MaxDeliveries {
			dead = append(dead, deadEntry{xm: xm, deliveries: deliveries})
			continue
		}
		msgs = append(msgs, redisMessage(stream, xm, deliveries))
	}
	if err := b.deadLetter(ctx, stream, key, group, dead); err != nil {
		return nil, err
	}
	return msgs, nil
}

type deadEntry struct {
	xm         redis.XMessage
	deliveries int64
}

// deadLetter copies entries to the dead-letter stream, then acks them. The
// copy comes first: a crash in between duplicates a dead letter rather
// than losing it. The two keys may live on different Cluster nodes, so the
// steps are not pipelined together.
func (b *RedisBus) deadLetter(ctx context.Context, stream, key, group string, dead []deadEntry) error {
	if len(dead) == 0 {
		return nil
	}
	ids := make([]string, 0, len(dead))
	for _, d := range dead {
		_, err := b.xadd(ctx, DeadLetterStream(stream),
			fieldPayload, d.xm.Values[fieldPayload],
			fieldOriginalID, d.xm.ID,
			fieldGroup, group,
			fieldDeliveries, d.deliveries)
		if err != nil {
			return fmt.Errorf("dead-letter %s: %w", d.xm.ID, err)
		}
		ids = append(ids, d.xm.ID)
	}
	if err := b.ack(ctx, key, group, ids); err != nil {
		return fmt.Errorf("ack dead letters: %w", err)
	}
	return nil
}

// claimState is where a group's next XAUTOCLAIM starts, and when it may be
// sent at the earliest.
type claimState struct {
	cursor     string
	quietUntil time.Time
}
