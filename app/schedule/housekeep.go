package schedule

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"pharos/app/pipeline"
)

// Housekeeping of the streams, done by the leader only (one process does
// it, and it knows every region in use):
//
//   - Every StatsInterval it samples the length and pending entries of each
//     region's job and run-now streams (pharos_jobs_stream_length and
//     _pending; the aggregator reports its result shards itself).
//   - Every PruneInterval it removes the consumers idle longer than
//     ConsumerIdle that hold no pending entries (bus.Streams.PruneConsumers)
//     from the groups of the job, run-now, result and watermark streams.
//     Probe workers and schedulers take a fresh consumer name per process,
//     so without this every restart would leave one behind for good. A
//     dead consumer's pending entries are first reclaimed by a live
//     consumer of its group (after the bus's ClaimIdle); until then it
//     stays.

// Stream kinds, the stream_kind label of pharos_consumers_pruned_total.
const (
	kindJobs      = "jobs"
	kindRunNow    = "run_now"
	kindResults   = "results"
	kindWatermark = "watermark"
)

// groupRef is one consumer group to prune.
type groupRef struct {
	stream, group, kind string
}

// storeRegions publishes the plan's regions to the housekeeping goroutine.
// It runs on the term's goroutine.
func (t *term) storeRegions() {
	set := make(map[string]struct{})
	for _, e := range t.checks {
		for i := range e.regions {
			set[e.regions[i].region] = struct{}{}
		}
	}
	regions := slices.Sorted(maps.Keys(set))
	t.regions.Store(&regions)
}

func (t *term) loadRegions() []string {
	if p := t.regions.Load(); p != nil {
		return *p
	}
	return nil
}

// housekeep samples the job streams and prunes dead consumers until ctx
// ends (the term is over); the gauges are then cleared, as this scheduler
// no longer samples them.
func (t *term) housekeep(ctx context.Context) {
	opts := t.s.opts
	stats := time.NewTicker(opts.StatsInterval)
	defer stats.Stop()
	prune := time.NewTicker(opts.PruneInterval)
	defer prune.Stop()
	defer t.s.metrics.jobsLength.Reset()
	defer t.s.metrics.jobsPending.Reset()

	sampled := map[string]bool{}
	t.sampleJobs(ctx, sampled)
	for {
		select {
		case <-ctx.Done():
			return
		case <-stats.C:
			t.sampleJobs(ctx, sampled)
		case <-prune.C:
			t.pruneConsumers(ctx)
		}
	}
}

// sampleJobs sets the job stream gauges of every region in the plan and
// drops those of regions no longer in it. sampled holds the regions whose
// gauges are set.
func (t *term) sampleJobs(ctx context.Context, sampled map[string]bool) {
	m := t.s.metrics
	current := map[string]bool{}
	for _, region := range t.loadRegions() {
		current[region] = true
		var length, pending int64
		ok := true
		for _, stream := range []string{pipeline.JobsStream(region), pipeline.RunNowStream(region)} {
			sctx, cancel := context.WithTimeout(ctx, t.s.opts.PublishTimeout)
			l, p, err := t.s.bus.Stats(sctx, stream, pipeline.ProbersGroup)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					t.s.log.Warn("job stream stats", slog.String("stream", stream), slog.Any("error", err))
				}
				ok = false
				break
			}
			length, pending = length+l, pending+p
		}
		if !ok {
			continue // keep the last sample
		}
		m.jobsLength.WithLabelValues(region).Set(float64(length))
		m.jobsPending.WithLabelValues(region).Set(float64(pending))
		sampled[region] = true
	}
	for region := range sampled {
		if !current[region] {
			m.jobsLength.DeleteLabelValues(region)
			m.jobsPending.DeleteLabelValues(region)
			delete(sampled, region)
		}
	}
}

// pruneGroups lists the consumer groups the leader prunes.
func (t *term) pruneGroups() []groupRef {
	regions := t.loadRegions()
	groups := make([]groupRef, 0, 2*len(regions)+pipeline.Shards+1)
	for _, r := range regions {
		groups = append(groups,
			groupRef{pipeline.JobsStream(r), pipeline.ProbersGroup, kindJobs},
			groupRef{pipeline.RunNowStream(r), pipeline.ProbersGroup, kindRunNow})
	}
	for shard := range pipeline.Shards {
		groups = append(groups, groupRef{pipeline.ResultsStream(shard), pipeline.AggregatorsGroup, kindResults})
	}
	return append(groups, groupRef{watermarkStream, watermarkGroup, kindWatermark})
}

// pruneConsumers removes the dead consumers of every group the leader
// looks after. It stops when the lease may have expired.
func (t *term) pruneConsumers(ctx context.Context) {
	idle := t.s.opts.ConsumerIdle
	for _, g := range t.pruneGroups() {
		if !t.leaseValid(time.Now()) || ctx.Err() != nil {
			return
		}
		lctx, cancelLease := t.leaseCtx(ctx)
		pctx, cancel := context.WithTimeout(lctx, t.s.opts.PublishTimeout)
		removed, err := t.s.bus.PruneConsumers(pctx, g.stream, g.group, idle)
		cancel()
		cancelLease()
		if err != nil {
			if ctx.Err() == nil {
				t.s.log.Warn("prune consumers", slog.String("stream", g.stream), slog.String("group", g.group),
					slog.Any("error", err))
			}
			continue
		}
		for _, name := range removed {
			t.s.log.Info("consumer pruned", slog.String("stream", g.stream), slog.String("group", g.group),
				slog.String("consumer", name), slog.Duration("idle_over", idle))
		}
		if len(removed) > 0 {
			t.s.metrics.consumersPruned.WithLabelValues(g.kind).Add(float64(len(removed)))
		}
	}
}
