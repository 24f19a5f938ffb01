package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// maxBackoff bounds the pause between failed bus calls.
const maxBackoff = 2 * time.Second

// fetchLoop reads jobs while there are free slots, and runs each on a
// runner, until ctx ends. Slots are taken before reading, so the worker
// never holds jobs it cannot start: they stay with the stream, for an idle
// peer. The job goroutines return by the time drain ends.
func (w *Worker) fetchLoop(ctx, drain context.Context, running *sync.WaitGroup) {
	slots := make(chan struct{}, w.opts.Concurrency)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if !w.out.readyForJobs(w.opts.Concurrency) {
			// The bus is down or slow: results are waiting. Reading more
			// jobs now could reclaim our own pending ones; publish first.
			w.out.waitReady(ctx, w.opts.Concurrency)
			continue
		}
		if w.overdue.Load() >= int64(w.opts.Concurrency) {
			// As many abandoned probes still run as there are slots: more
			// jobs would only pile up more goroutines. Healthy says so.
			pipeline.Sleep(ctx, w.opts.Block)
			continue
		}
		// Take one slot (waiting for it), then every other free one.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
		for n < w.opts.Concurrency {
			select {
			case slots <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		msgs, err := w.read(ctx, n)
		for range n - len(msgs) {
			<-slots
		}
		for _, m := range msgs {
			running.Add(1)
			w.run.Go(func() {
				defer running.Done()
				defer func() { <-slots }()
				w.handle(drain, m)
			})
		}
		if err != nil && ctx.Err() == nil {
			w.metrics.busErrors.Inc()
			w.log.Warn("read jobs", slog.Any("error", err), slog.Duration("retry_in", backoff))
			pipeline.Sleep(ctx, backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = 50 * time.Millisecond
	}
}

// read returns up to n jobs, waiting up to Options.Block when there is
// none. Run-now jobs go ahead of scheduled ones, but take at most half of
// a read's slots (none, when a read has one slot and the last one went to
// a run-now job) while scheduled jobs wait: one organisation's burst of
// run-now requests cannot starve everyone's scheduled rounds, and a
// run-now job still waits behind at most as many scheduled jobs as it
// overtakes.
//
// Each read is a round trip to Redis, and at a trickle nearly every call
// finds one job or none, so a stream known empty is not read again: a read
// of run-now that came back short ends the run-now reads, and when nothing
// was taken the scheduled read is the one that waits. An idle worker reads
// twice per Block, a job at a trickle takes two reads.
func (w *Worker) read(ctx context.Context, n int) ([]bus.Message, error) {
	runNow, scheduled := w.streams[0], w.streams[1]
	share := (n + 1) / 2
	if n == 1 && w.lastRunNow {
		share = 0
	}
	var out []bus.Message
	took := 0              // run-now jobs taken
	runNowDrained := false // a read of run-now came back short: it is empty
	waited := false
	for _, p := range []struct {
		stream string
		limit  int
	}{{runNow, share}, {scheduled, n}, {runNow, n}} {
		want := min(p.limit, n-len(out))
		if want <= 0 || (p.stream == runNow && runNowDrained) {
			continue
		}
		var block time.Duration
		if p.stream == scheduled && runNowDrained && len(out) == 0 {
			block, waited = w.opts.Block, true
		}
		msgs, err := w.consume(ctx, p.stream, want, block)
		out = append(out, msgs...)
		if p.stream == runNow {
			took += len(msgs)
			runNowDrained = len(msgs) < want
		}
		if err != nil {
			return out, err
		}
	}
	if len(out) == 0 && !waited {
		msgs, err := w.consume(ctx, scheduled, n, w.opts.Block)
		out = append(out, msgs...)
		if err != nil {
			return out, err
		}
	}
	if len(out) > 0 {
		w.lastRunNow = took > 0
	}
	return out, nil
}

// consume reads up to n entries of stream, waiting up to block.
func (w *Worker) consume(ctx context.Context, stream string, n int, block time.Duration) ([]bus.Message, error) {
	cctx, cancel := context.WithTimeout(ctx, block+w.opts.BusTimeout)
	defer cancel()
	return w.bus.Consume(cctx, stream, pipeline.ProbersGroup, w.opts.Consumer, n, block)
}

// handle runs one job and hands its result to the outbox. A malformed job
// or one past its deadline is acknowledged without running. It returns by
// the time drain ends, leaving the job pending if its probe has not
// returned by then.
func (w *Worker) handle(drain context.Context, m bus.Message) {
	w.flying.add(m.Stream, m.ID)
	defer w.flying.remove(m.Stream, m.ID) // by then its result is in the outbox, or it is given up
	job, err := pipeline.DecodeJob(m.Payload)
	if err != nil {
		w.metrics.malformed.Inc()
		w.log.Warn("malformed job dropped", slog.String("stream", m.Stream), slog.String("entry", m.ID), slog.Any("error", err))
		w.ackNow(drain, m)
		return
	}
	if !time.Now().Before(job.Deadline) {
		w.metrics.droppedLate.Inc()
		w.log.Debug("late job dropped", slog.String("job_id", job.ID), slog.Int64("check_id", job.CheckID),
			slog.Time("deadline", job.Deadline))
		w.ackNow(drain, m)
		return
	}
	// Only the operator opens the SSRF guard (Options.AllowPrivate, from
	// PHAROS_ALLOW_PRIVATE_TARGETS). A job's spec comes from tenant-written
	// configuration, so its own switch is ignored.
	job.Spec.AllowPrivate = false
	res, ok := w.probe(drain, job)
	if !ok {
		return // the worker stopped before the probe returned: the job stays pending
	}
	w.metrics.jobsRun.Inc()

	id, err := uuid.NewV7()
	if err != nil {
		w.log.Error("result id", slog.Any("error", err)) // the job stays pending and is reclaimed
		return
	}
	r := pipeline.Result{
		ID: id.String(), JobID: job.ID, OrgID: job.OrgID, CheckID: job.CheckID, Region: job.Region,
		Round: job.Round, Worker: w.opts.Consumer, Produced: time.Now().UTC(), Result: res,
	}
	payload, err := pipeline.Marshal(r)
	if err != nil {
		w.log.Error("encode result", slog.Int64("check_id", job.CheckID), slog.Any("error", err))
		return
	}
	w.out.add(pending{
		stream:    pipeline.ResultsStream(pipeline.Shard(job.CheckID)),
		payload:   payload,
		jobStream: m.Stream,
		jobEntry:  m.ID,
	})
}

// ackNow acknowledges a job that produced no result. On failure the job is
// redelivered later and judged again, which is harmless.
func (w *Worker) ackNow(ctx context.Context, m bus.Message) {
	actx, cancel := context.WithTimeout(ctx, w.opts.BusTimeout)
	defer cancel()
	if err := w.bus.Ack(actx, m.Stream, pipeline.ProbersGroup, m.ID); err != nil && !errors.Is(err, bus.ErrClosed) {
		w.metrics.busErrors.Inc()
		w.log.Warn("ack job", slog.String("entry", m.ID), slog.Any("error", err))
	}
}
