package worker

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"pharos/app/pipeline"
	"pharos/probes"
)

// Probe states, for the race between a probe returning and its waiter
// giving up on it.
const (
	probeRunning int32 = iota
	probeReturned
	probeAbandoned
)

// probe runs job's probe under its deadline (the spec's timeout, at most
// MaxProbeTime) and waits for it until that deadline plus ProbeGrace. A
// probe still running then is abandoned: the job gets a timeout result,
// the caller frees the slot, and the probe's runner is free again whenever
// the probe returns, counted meanwhile in pharos_worker_probes_past_deadline.
// ok is false when drain ended first: the worker is stopping and the job
// stays pending.
//
// A probe is not cancelled when the worker starts stopping: it was paid
// for, and finishing it within the drain beats another worker redoing it.
// It is cancelled when the drain ends, its result then being unpublishable.
func (w *Worker) probe(drain context.Context, job pipeline.Job) (res probes.Result, ok bool) {
	limit := min(job.Spec.ProbeTimeout(), w.opts.MaxProbeTime)
	start := time.Now()
	var state atomic.Int32
	done := make(chan probes.Result, 1)
	w.metrics.inFlight.Inc()
	w.probing.Add(1)
	w.run.Go(func() {
		defer w.probing.Add(-1)
		defer w.metrics.inFlight.Dec()
		ctx, cancel := context.WithTimeout(drain, limit) // ends early only once the drain has ended
		defer cancel()
		done <- w.prober.Run(ctx, job.Spec)
		if !state.CompareAndSwap(probeRunning, probeReturned) { // abandoned meanwhile
			w.overdue.Add(-1)
			w.metrics.pastDeadline.Dec()
			w.log.Info("abandoned probe returned", slog.Int64("check_id", job.CheckID),
				slog.Duration("took", time.Since(start)))
		}
	})

	grace := time.NewTimer(limit + w.opts.ProbeGrace)
	defer grace.Stop()
	select {
	case res := <-done:
		return res, true
	case <-grace.C:
	case <-drain.Done():
		return probes.Result{}, false
	}
	if !state.CompareAndSwap(probeRunning, probeAbandoned) {
		return <-done, true // it returned just now
	}
	waited := time.Since(start)
	w.overdue.Add(1)
	w.metrics.pastDeadline.Inc()
	w.metrics.overdue.Inc()
	w.log.Warn("probe abandoned past its deadline; its slot is free again", slog.Int64("check_id", job.CheckID),
		slog.String("job_id", job.ID), slog.Duration("timeout", limit), slog.Duration("waited", waited))
	return probes.Overdue(job.Spec, start, waited), true
}
