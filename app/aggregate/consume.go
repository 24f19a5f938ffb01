package aggregate

import (
	"context"
	"log/slog"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// maxAttempts is how often a failing batch is retried in place before it is
// left pending, for the bus to redeliver (and eventually dead-letter).
const maxAttempts = 5

// consumeShard reads one shard in batches until ctx ends.
func (a *Aggregator) consumeShard(ctx context.Context, shard int) {
	stream := pipeline.ResultsStream(shard)
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
		if len(msgs) > 0 {
			a.handle(ctx, stream, msgs)
		}
	}
}

// collect returns the next batch: up to BatchSize entries, or what arrived
// within BatchWait of the first.
func (a *Aggregator) collect(ctx context.Context, stream string) ([]bus.Message, error) {
	msgs, err := a.bus.Consume(ctx, stream, pipeline.AggregatorsGroup, a.opts.Consumer, a.opts.BatchSize, time.Second)
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	deadline := time.Now().Add(a.opts.BatchWait)
	for len(msgs) < a.opts.BatchSize {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		more, err := a.bus.Consume(ctx, stream, pipeline.AggregatorsGroup, a.opts.Consumer, a.opts.BatchSize-len(msgs), wait)
		if err != nil || len(more) == 0 {
			break // what we have is delivered to us: process it
		}
		msgs = append(msgs, more...)
	}
	return msgs, nil
}

// handle decodes, stores and acknowledges one batch. Malformed entries can
// never succeed: they are logged, counted and acknowledged at once. The
// rest is acknowledged only after its transaction committed; when it
// cannot commit it is left pending and the bus redelivers it.
func (a *Aggregator) handle(ctx context.Context, stream string, msgs []bus.Message) {
	results := make([]pipeline.Result, 0, len(msgs))
	ids := make([]string, 0, len(msgs))
	var bad []string
	for _, m := range msgs {
		r, err := pipeline.DecodeResult(m.Payload)
		if err != nil {
			a.log.Error("malformed result dropped", slog.String("stream", stream), slog.String("entry_id", m.ID), slog.Any("error", err))
			bad = append(bad, m.ID)
			continue
		}
		results = append(results, r)
		ids = append(ids, m.ID)
	}
	if len(bad) > 0 {
		a.metrics.results.WithLabelValues("malformed").Add(float64(len(bad)))
		a.ack(ctx, stream, bad)
	}
	if len(results) == 0 {
		return
	}
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		err := a.ProcessBatch(ctx, results)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return // shutting down or shard lost: not committed, not acked
		}
		if attempt == maxAttempts {
			a.log.Error("batch left for redelivery", slog.String("stream", stream), slog.Int("results", len(results)), slog.Any("error", err))
			return
		}
		a.log.Warn("batch failed, retrying", slog.String("stream", stream), slog.Int("attempt", attempt), slog.Any("error", err))
		pipeline.Sleep(ctx, backoff)
		backoff *= 2
	}
	if a.beforeAck != nil && !a.beforeAck() {
		return
	}
	a.ack(ctx, stream, ids)
}

// ack acknowledges entries whose effects are durable. It outlives ctx
// briefly: work committed during shutdown should not be redone.
func (a *Aggregator) ack(ctx context.Context, stream string, ids []string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.bus.Ack(actx, stream, pipeline.AggregatorsGroup, ids...); err != nil {
		// Redelivery is harmless: the results are stored once.
		a.log.Warn("ack results", slog.String("stream", stream), slog.Int("entries", len(ids)), slog.Any("error", err))
	}
}
