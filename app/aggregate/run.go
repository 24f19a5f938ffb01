package aggregate

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// Run consumes the result shards this aggregator owns until ctx ends, then
// stops its shard consumers (a batch in flight is rolled back and left
// unacknowledged, or, once committed, acknowledged), releases its shard
// leases and returns nil.
//
// Ownership: a shard is consumed by the aggregator holding its lease
// ("aggregate:shard:N" on the bus's Locker). Every LockTTL/3 the aggregator
// renews its leases, stops consuming a shard whose lease was lost, and tries
// to take free shards up to MaxShards, so a dead aggregator's shards move to
// a live one within about one LockTTL.
func (a *Aggregator) Run(ctx context.Context) error {
	if a.bus == nil {
		return errors.New("aggregate: Run needs a bus")
	}
	a.log.Info("aggregator started", slog.Int("shards", pipeline.Shards), slog.String("consumer", a.opts.Consumer))
	merged, stopMerging := make(chan struct{}), make(chan struct{})
	o := &owner{a: a, shards: map[int]*shardRun{}, merger: newMerger(a)}
	go func() {
		defer close(merged)
		o.merger.run(ctx, stopMerging)
	}()
	defer func() {
		o.stopAll() // the shards first: one may be waiting in the merger
		close(stopMerging)
		<-merged
	}()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		a.sweepLoop(sweepCtx)
	}()
	defer func() {
		stopSweep()
		<-swept
	}()
	o.balance(ctx)
	tick := time.NewTicker(a.opts.LockTTL / 3)
	defer tick.Stop()
	stats := time.NewTicker(10 * time.Second)
	defer stats.Stop()
	for {
		select {
		case <-ctx.Done():
			a.log.Info("aggregator stopping")
			return nil
		case <-tick.C:
			o.balance(ctx)
		case <-stats.C:
			o.stats(ctx)
		}
	}
}

// owner tracks the shards this aggregator holds.
type owner struct {
	a      *Aggregator
	shards map[int]*shardRun
	merger *merger
}

type shardRun struct {
	lease   bus.Lease
	renewed time.Time
	cancel  context.CancelFunc
	done    chan struct{}
}

func shardLock(shard int) string { return "aggregate:shard:" + strconv.Itoa(shard) }

// balance renews held leases, drops lost shards and takes free ones.
func (o *owner) balance(ctx context.Context) {
	a := o.a
	for shard, run := range o.shards {
		ok, err := run.lease.Renew(ctx)
		switch {
		case err != nil && time.Since(run.renewed) < a.opts.LockTTL:
			a.log.Warn("renew shard lease", slog.Int("shard", shard), slog.Any("error", err))
		case err != nil || !ok:
			a.log.Warn("shard lease lost", slog.Int("shard", shard), slog.Any("error", err))
			o.stop(shard)
		default:
			run.renewed = time.Now()
		}
	}
	if ctx.Err() != nil {
		return
	}
	start := rand.IntN(pipeline.Shards) // so aggregators starting together interleave
	for i := range pipeline.Shards {
		if len(o.shards) >= a.opts.MaxShards {
			break
		}
		shard := (start + i) % pipeline.Shards
		if _, held := o.shards[shard]; held {
			continue
		}
		lease, ok, err := a.bus.TryLock(ctx, shardLock(shard), a.opts.LockTTL)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("take shard lease", slog.Int("shard", shard), slog.Any("error", err))
			}
			break
		}
		if !ok {
			continue
		}
		sctx, cancel := context.WithCancel(ctx)
		run := &shardRun{lease: lease, renewed: time.Now(), cancel: cancel, done: make(chan struct{})}
		o.shards[shard] = run
		a.owned.own(shard)
		go func() {
			defer close(run.done)
			a.consumeShard(sctx, shard, o.merger)
		}()
		a.log.Info("shard taken", slog.Int("shard", shard))
	}
	a.metrics.shardsOwned.Set(float64(len(o.shards)))
}

// stop ends a shard's consumer, waits for it and gives its lease up.
func (o *owner) stop(shard int) {
	run := o.shards[shard]
	run.cancel()
	<-run.done
	o.a.owned.disown(shard)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := run.lease.Release(ctx); err != nil && !errors.Is(err, bus.ErrClosed) {
		o.a.log.Warn("release shard lease", slog.Int("shard", shard), slog.Any("error", err))
	}
	delete(o.shards, shard)
	o.a.metrics.shardsOwned.Set(float64(len(o.shards)))
}

func (o *owner) stopAll() {
	for _, run := range o.shards {
		run.cancel() // stop them all at once, then wait for each
	}
	for shard := range o.shards {
		o.stop(shard)
	}
}

// stats reports the owned shards' stream length and pending entries.
func (o *owner) stats(ctx context.Context) {
	for shard := range o.shards {
		length, pending, err := o.a.bus.Stats(ctx, pipeline.ResultsStream(shard), pipeline.AggregatorsGroup)
		if err != nil {
			o.a.log.Warn("result stream stats", slog.Int("shard", shard), slog.Any("error", err))
			continue
		}
		label := strconv.Itoa(shard)
		o.a.metrics.streamLength.WithLabelValues(label).Set(float64(length))
		o.a.metrics.pending.WithLabelValues(label).Set(float64(pending))
	}
}
