package schedule

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"pharos/app/bus"
)

// Watermark storage. The leader must leave "every round due at or before T
// is enqueued" where the next leader finds it, on either bus, with only the
// Streams interface: the watermark is an entry on stream watermarkStream,
// read through consumer group watermarkGroup.
//
// Invariant: the newest watermark entry is never delivered to the group.
// The leader appends a new entry, then consumes (and acknowledges) only the
// entries older than it, counting how many it appended since. A new leader
// consumes everything undelivered, takes the latest time, and appends it
// again before acknowledging, which restores the invariant. Entries a dead
// leader had consumed but not acknowledged come back to whoever consumes
// after the claim timeout; they are older, so taking the maximum is safe.
// Acknowledged entries leave the stream as on any other; the newest,
// never delivered, always stays.
//
// The leader appends after every tick that enqueued jobs, ten times a
// second at a steady trickle. Appending is one call to the bus; retiring
// the older entries (a read and an acknowledgement) is two more, so they
// are retired watermarkRetire at a time: the stream holds at most
// watermarkRetire+1 entries of the leader's.
const (
	watermarkStream = "schedule:until"
	watermarkGroup  = "scheduler"
	watermarkBatch  = 256
	watermarkRetire = 16
)

type watermark struct {
	bus      bus.Streams
	consumer string
	timeout  time.Duration
	// undelivered counts the entries this leader appended and has not
	// consumed yet.
	undelivered int
}

func newWatermark(b bus.Streams, consumer string, timeout time.Duration) *watermark {
	return &watermark{bus: b, consumer: consumer, timeout: timeout}
}

// load returns the latest recorded watermark; found is false when none was
// ever recorded (a fresh installation, or a bus that lost its data).
func (w *watermark) load(ctx context.Context) (until time.Time, found bool, err error) {
	var ids []string
	for {
		cctx, cancel := context.WithTimeout(ctx, w.timeout)
		msgs, err := w.bus.Consume(cctx, watermarkStream, watermarkGroup, w.consumer, watermarkBatch, 0)
		cancel()
		if err != nil {
			return time.Time{}, false, err
		}
		for _, m := range msgs {
			ids = append(ids, m.ID)
			ns, perr := strconv.ParseInt(string(m.Payload), 10, 64)
			if perr != nil {
				continue // not ours; acknowledged below
			}
			if t := time.Unix(0, ns).UTC(); !found || t.After(until) {
				until, found = t, true
			}
		}
		if len(msgs) < watermarkBatch {
			break
		}
	}
	w.undelivered = 0
	if found {
		if err := w.append(ctx, until); err != nil {
			return time.Time{}, false, err
		}
	}
	return until, found, w.ack(ctx, ids)
}

// save records until as the watermark and, every watermarkRetire saves,
// retires the older entries.
func (w *watermark) save(ctx context.Context, until time.Time) error {
	if err := w.append(ctx, until); err != nil {
		return err
	}
	if w.undelivered <= watermarkRetire {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, w.timeout)
	msgs, err := w.bus.Consume(cctx, watermarkStream, watermarkGroup, w.consumer, w.undelivered-1, 0)
	cancel()
	if err != nil {
		return fmt.Errorf("schedule: retire watermarks: %w", err)
	}
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		ids = append(ids, m.ID)
		if m.Deliveries == 1 {
			w.undelivered--
		}
	}
	return w.ack(ctx, ids)
}

func (w *watermark) append(ctx context.Context, until time.Time) error {
	cctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	if _, err := w.bus.Publish(cctx, watermarkStream, strconv.AppendInt(nil, until.UnixNano(), 10)); err != nil {
		return fmt.Errorf("schedule: record watermark: %w", err)
	}
	w.undelivered++
	return nil
}

func (w *watermark) ack(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	if err := w.bus.Ack(cctx, watermarkStream, watermarkGroup, ids...); err != nil {
		return fmt.Errorf("schedule: acknowledge watermarks: %w", err)
	}
	return nil
}
