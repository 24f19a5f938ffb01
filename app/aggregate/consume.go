package aggregate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// maxAttempts is how often a failing batch is retried in place before it is
// left pending, for the bus to redeliver (and eventually dead-letter).
const maxAttempts = 5

// consumeShard reads one shard in batches until ctx ends. A batch too
// small to be worth a transaction of its own is handed to the merger,
// which stores it together with the other shards' (see merge); a full one
// is stored here, beside the other shards'. Either way the shard waits for
// its batch before reading the next, so a check's results are stored in
// order.
func (a *Aggregator) consumeShard(ctx context.Context, shard int, m *merger) {
	stream := pipeline.ResultsStream(shard)
	m.active.Add(1)
	defer m.active.Add(-1)
	for ctx.Err() == nil {
		msgs, err := a.collect(ctx, stream)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Warn("consume results", slog.String("stream", stream), slog.Any("error", err))
			pipeline.Sleep(ctx, time.Second)
			continue
		}
		switch {
		case len(msgs) == 0:
		case len(msgs) < a.opts.BatchSize/2:
			m.submit(delivery{stream: stream, msgs: msgs})
		default:
			a.handle(ctx, []delivery{{stream: stream, msgs: msgs}})
		}
	}
}

// collect returns the next batch: up to BatchSize entries, or what arrived
// from the first until the clock next reaches a multiple of BatchWait. The
// windows of all shards end together, so that at a trickle the merger gets
// their small batches at once; a batch waits at most BatchWait.
//
// A first read that does not fill the batch is followed by one more read,
// at the window's end, of what arrived meanwhile: reading entries as they
// came made a read per entry at a trickle (a round trip to Redis each),
// for a batch that ends at the same moment either way.
func (a *Aggregator) collect(ctx context.Context, stream string) ([]bus.Message, error) {
	msgs, err := a.bus.Consume(ctx, stream, pipeline.AggregatorsGroup, a.opts.Consumer, a.opts.BatchSize, time.Second)
	if err != nil || len(msgs) == 0 || len(msgs) >= a.opts.BatchSize {
		return msgs, err
	}
	if !pipeline.Sleep(ctx, time.Until(time.Now().Truncate(a.opts.BatchWait).Add(a.opts.BatchWait))) {
		return msgs, nil // what we have is delivered to us: process it
	}
	more, err := a.bus.Consume(ctx, stream, pipeline.AggregatorsGroup, a.opts.Consumer, a.opts.BatchSize-len(msgs), 0)
	if err != nil {
		return msgs, nil // the next read will fail again if the bus is down
	}
	return append(msgs, more...), nil
}

// delivery is a batch of entries read from one stream.
type delivery struct {
	stream string
	msgs   []bus.Message
}

// handle decodes, stores and acknowledges a batch of one or more streams'
// entries. Malformed entries can never succeed: they are logged, counted
// and acknowledged at once. The rest is acknowledged only after its
// transaction committed; while the database does not answer it is left
// pending and the bus redelivers it. A batch that fails while the database
// answers is split until the result that cannot be stored is alone: that
// one is set aside on its stream's dead-letter stream, and the rest of its
// batch is stored.
func (a *Aggregator) handle(ctx context.Context, batch []delivery) {
	n := 0
	for _, d := range batch {
		n += len(d.msgs)
	}
	entries := make([]entry, 0, n) // an entry holds a whole result: grow it once
	var bad []entry
	for _, d := range batch {
		for _, m := range d.msgs {
			r, err := pipeline.DecodeResult(m.Payload)
			if err != nil {
				a.log.Error("malformed result dropped", slog.String("stream", d.stream), slog.String("entry_id", m.ID), slog.Any("error", err))
				bad = append(bad, entry{stream: d.stream, id: m.ID})
				continue
			}
			entries = append(entries, entry{stream: d.stream, id: m.ID, payload: m.Payload, result: r})
		}
	}
	if len(bad) > 0 {
		a.metrics.results.WithLabelValues("malformed").Add(float64(len(bad)))
		a.ack(ctx, bad)
	}
	if len(entries) == 0 {
		return
	}
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		done, err := a.storeEntries(ctx, entries)
		if len(done) > 0 {
			if a.beforeAck != nil && !a.beforeAck() {
				return
			}
			a.ack(ctx, done)
		}
		if err == nil || ctx.Err() != nil {
			return // stored, or shutting down / shard lost: the rest stays pending
		}
		entries = pendingEntries(entries, done)
		if attempt == maxAttempts {
			a.log.Error("batch left for redelivery", slog.Any("streams", streams(entries)), slog.Int("results", len(entries)), slog.Any("error", err))
			return
		}
		a.log.Warn("batch failed, retrying", slog.Any("streams", streams(entries)), slog.Int("attempt", attempt), slog.Any("error", err))
		pipeline.Sleep(ctx, backoff)
		backoff *= 2
	}
}

// entry is a decoded result with its bus entry.
type entry struct {
	stream  string
	id      string
	payload []byte
	result  pipeline.Result
}

// isolateRetries is how often a single result is tried before it is set
// aside while the database answers: a serialisation failure or deadlock
// passes on a retry, a result that cannot be stored does not.
const isolateRetries = 3

// storeEntries stores entries in one transaction and returns those whose
// effects are durable (or that were set aside), which may be acknowledged.
// When the transaction fails while the database answers, the entries are
// split in halves and each is stored on its own, down to a single result,
// which is set aside. err is non-nil when some entries were neither stored
// nor set aside (the database does not answer, or ctx ended).
func (a *Aggregator) storeEntries(ctx context.Context, entries []entry) (done []entry, err error) {
	tries := 1
	if len(entries) == 1 {
		tries = isolateRetries
	}
	for try := range tries {
		if err = a.ProcessBatch(ctx, results(entries)); err == nil {
			return entries, nil
		}
		if ctx.Err() != nil || !a.databaseAnswers(ctx) {
			return nil, err
		}
		if try < tries-1 {
			pipeline.Sleep(ctx, time.Duration(try+1)*100*time.Millisecond)
		}
	}
	if len(entries) == 1 {
		if aside := a.setAside(ctx, entries[0], err); aside != nil {
			return nil, errors.Join(err, aside)
		}
		return entries, nil
	}
	half := len(entries) / 2
	first, err1 := a.storeEntries(ctx, entries[:half])
	second, err2 := a.storeEntries(ctx, entries[half:])
	return append(first, second...), errors.Join(err1, err2)
}

// databaseAnswers reports whether the database answers a ping within a
// few seconds.
func (a *Aggregator) databaseAnswers(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return a.store.Ping(pctx) == nil
}

// setAside moves a result that cannot be stored to its stream's
// dead-letter stream, so that it no longer holds up its shard, and counts
// it; an operator can read it there.
func (a *Aggregator) setAside(ctx context.Context, e entry, cause error) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	dead := bus.DeadLetterStream(e.stream)
	if _, err := a.bus.Publish(pctx, dead, e.payload); err != nil {
		return fmt.Errorf("aggregate: set result %s aside: %w", e.result.ID, err)
	}
	a.metrics.results.WithLabelValues("set_aside").Inc()
	a.log.Error("result that cannot be stored set aside", slog.String("stream", e.stream), slog.String("entry_id", e.id),
		slog.String("result_id", e.result.ID), slog.Int64("check_id", e.result.CheckID), slog.String("dead_letter_stream", dead),
		slog.Any("error", cause))
	return nil
}

func results(entries []entry) []pipeline.Result {
	out := make([]pipeline.Result, len(entries))
	for i, e := range entries {
		out[i] = e.result
	}
	return out
}

// streams are the streams entries come from, in order of first appearance.
func streams(entries []entry) []string {
	var out []string
	for _, e := range entries {
		if !slices.Contains(out, e.stream) {
			out = append(out, e.stream)
		}
	}
	return out
}

// entryKey names an entry across streams.
type entryKey struct{ stream, id string }

// pendingEntries are the entries not in done.
func pendingEntries(entries, done []entry) []entry {
	if len(done) == 0 {
		return entries
	}
	gone := make(map[entryKey]bool, len(done))
	for _, e := range done {
		gone[entryKey{e.stream, e.id}] = true
	}
	var out []entry
	for _, e := range entries {
		if !gone[entryKey{e.stream, e.id}] {
			out = append(out, e)
		}
	}
	return out
}

// ack acknowledges entries whose effects are durable, one call per stream.
// It outlives ctx briefly: work committed during shutdown should not be
// redone.
func (a *Aggregator) ack(ctx context.Context, entries []entry) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, stream := range streams(entries) {
		var ids []string
		for _, e := range entries {
			if e.stream == stream {
				ids = append(ids, e.id)
			}
		}
		if err := a.bus.Ack(actx, stream, pipeline.AggregatorsGroup, ids...); err != nil {
			// Redelivery is harmless: the results are stored once.
			a.log.Warn("ack results", slog.String("stream", stream), slog.Int("entries", len(ids)), slog.Any("error", err))
		}
	}
}
