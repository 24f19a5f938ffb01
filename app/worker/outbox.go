package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"pharos/app/pipeline"
)

// flushBatch is how many results one flush round publishes at most before
// acknowledging their jobs together.
const flushBatch = 64

// pending is a result waiting to be published, with the job entry to
// acknowledge once it is.
type pending struct {
	seq       uint64
	stream    string
	payload   []byte
	jobStream string
	jobEntry  string
}

// outbox is the ordered, bounded buffer between the probes and the bus.
// Results leave it in the order they entered; when it is full the oldest
// is dropped (its job stays unacknowledged, so another worker may run it
// again if its deadline allows).
type outbox struct {
	max     int
	metrics *metrics

	mu      sync.Mutex
	items   []pending // oldest first
	nextSeq uint64
	down    bool // the last publish failed
	// recovering is set when a publish fails and cleared once the buffer
	// is empty again: until then no new jobs are read.
	recovering bool
	closed     bool
	changed    chan struct{} // closed and replaced on every change
}

func newOutbox(max int, m *metrics) *outbox {
	return &outbox{max: max, metrics: m, changed: make(chan struct{})}
}

// signal wakes everyone waiting for a change. Callers hold o.mu.
func (o *outbox) signal() {
	close(o.changed)
	o.changed = make(chan struct{})
	o.metrics.buffered.Set(float64(len(o.items)))
}

func (o *outbox) add(p pending) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.items) >= o.max {
		clear(o.items[:1])
		o.items = o.items[1:]
		o.metrics.bufferDropped.Inc()
	}
	o.nextSeq++
	p.seq = o.nextSeq
	o.items = append(o.items, p)
	o.signal()
}

// peek returns up to n of the oldest items, or waits for one; ok is false
// once the outbox is closed and empty, or ctx ended.
func (o *outbox) peek(ctx context.Context, n int) (batch []pending, ok bool) {
	for {
		o.mu.Lock()
		if len(o.items) > 0 {
			batch = append(batch, o.items[:min(n, len(o.items))]...)
			o.mu.Unlock()
			return batch, true
		}
		if o.closed {
			o.mu.Unlock()
			return nil, false
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// done removes the items up to and including seq (some may already have
// been dropped for room) and records whether the bus is reachable.
func (o *outbox) done(seq uint64, failed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := 0
	for i < len(o.items) && o.items[i].seq <= seq {
		i++
	}
	clear(o.items[:i])
	o.items = o.items[i:]
	o.down = failed
	if failed {
		o.recovering = true
	} else if len(o.items) == 0 {
		o.recovering = false
	}
	o.signal()
}

// readyForJobs reports whether reading jobs makes sense: the bus accepts
// results and the backlog is small.
func (o *outbox) readyForJobs(lowWater int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.down && !o.recovering && len(o.items) <= lowWater
}

// waitReady waits until readyForJobs may have changed, or ctx ends.
func (o *outbox) waitReady(ctx context.Context, lowWater int) {
	o.mu.Lock()
	ch := o.changed
	o.mu.Unlock()
	if o.readyForJobs(lowWater) {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}

// unacked adds the job entries of the buffered results to byStream: their
// jobs are not acknowledged until the results are published.
func (o *outbox) unacked(byStream map[string][]string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range o.items {
		if p.jobStream != "" {
			byStream[p.jobStream] = append(byStream[p.jobStream], p.jobEntry)
		}
	}
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// close makes peek report !ok once the outbox is empty.
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	o.signal()
}

// flushLoop publishes buffered results in order and acknowledges their
// jobs, backing off while the bus fails, until the outbox is closed and
// empty or ctx ends.
func (w *Worker) flushLoop(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for {
		batch, ok := w.out.peek(ctx, flushBatch)
		if !ok {
			return
		}
		n, err := w.publish(ctx, batch)
		if n > 0 {
			w.ackJobs(ctx, batch[:n])
			w.out.done(batch[n-1].seq, err != nil)
		} else if err != nil {
			w.out.done(0, true)
		}
		if err == nil {
			backoff = 50 * time.Millisecond
			continue
		}
		w.metrics.publishErrors.Inc()
		w.log.Warn("publish results; buffering", slog.Any("error", err), slog.Int("buffered", w.out.len()),
			slog.Duration("retry_in", backoff))
		pipeline.Sleep(ctx, backoff)
		if ctx.Err() != nil {
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// publish publishes batch in order and returns how many made it.
func (w *Worker) publish(ctx context.Context, batch []pending) (int, error) {
	for i, p := range batch {
		pctx, cancel := context.WithTimeout(ctx, w.opts.BusTimeout)
		_, err := w.bus.Publish(pctx, p.stream, p.payload)
		cancel()
		if err != nil {
			return i, err
		}
		if p.jobStream == "" {
			w.metrics.beacons.Inc()
		} else {
			w.metrics.published.Inc()
		}
	}
	return len(batch), nil
}

// ackJobs acknowledges the jobs of published results, one call per stream.
// A failed ack is logged: the job is then redelivered after the claim
// timeout and, if still before its deadline, probed once more.
func (w *Worker) ackJobs(ctx context.Context, published []pending) {
	byStream := map[string][]string{}
	for _, p := range published {
		if p.jobStream != "" { // a beacon has no job
			byStream[p.jobStream] = append(byStream[p.jobStream], p.jobEntry)
		}
	}
	for stream, ids := range byStream {
		var err error
		for attempt := range 3 {
			actx, cancel := context.WithTimeout(ctx, w.opts.BusTimeout)
			err = w.bus.Ack(actx, stream, pipeline.ProbersGroup, ids...)
			cancel()
			if err == nil || ctx.Err() != nil {
				break
			}
			pipeline.Sleep(ctx, time.Duration(attempt+1)*100*time.Millisecond)
		}
		if err != nil {
			w.metrics.busErrors.Inc()
			w.log.Warn("ack jobs", slog.String("stream", stream), slog.Int("jobs", len(ids)), slog.Any("error", err))
		}
	}
}
