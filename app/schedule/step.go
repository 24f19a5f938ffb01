package schedule

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// errSkipped marks a job not attempted because an earlier one failed.
var errSkipped = errors.New("schedule: not attempted after an earlier failure")

// outJob is one job of a tick on its way to the bus.
type outJob struct {
	e       *entry
	region  int
	payload []byte
	err     error
}

// step enqueues every round due at or before now, moves the watermark and
// returns how many jobs it published. A job whose deadline passed before it
// could be published is skipped and counted; a job that failed to publish
// stays due and is tried again next tick.
func (t *term) step(ctx context.Context, now time.Time) int {
	if !t.leaseValid(now) {
		return 0
	}
	var batch []*entry
	var jobs []outJob
	for t.queue.Len() > 0 && !t.queue[0].due.After(now) {
		e := heap.Pop(&t.queue).(*entry)
		batch = append(batch, e)
		dl := deadline(e.due, e.interval)
		for i := range e.regions {
			if e.done[i] {
				continue
			}
			if !dl.After(now) {
				e.regions[i].late.Inc()
				e.done[i] = true
				continue
			}
			payload, err := encode(&e.regions[i], e.round, e.due, dl, false)
			if err != nil {
				t.s.log.Error("encode job", slog.Int64("check_id", e.id), slog.Any("error", err))
				continue
			}
			jobs = append(jobs, outJob{e: e, region: i, payload: payload})
		}
	}
	if len(jobs) > 0 {
		pctx, done := t.stepCtx(ctx)
		t.publishAll(pctx, jobs)
		done()
	}
	published, failed := 0, 0
	var cause error // a real failure, not one of the jobs skipped after it
	for _, j := range jobs {
		if j.err != nil {
			failed++
			if cause == nil && !errors.Is(j.err, errSkipped) {
				cause = j.err
			}
			continue
		}
		published++
		j.e.done[j.region] = true
		j.e.regions[j.region].scheduled.Inc()
		t.s.metrics.lag.Observe(now.Sub(j.e.due).Seconds())
	}
	if failed > 0 {
		t.s.metrics.publishErrors.Add(float64(failed))
		t.s.log.Warn("publish jobs; retrying next tick", slog.Int("failed", failed), slog.Any("error", cause))
	}
	for _, e := range batch {
		if !slices.Contains(e.done, false) {
			e.round++
			e.due = e.due.Add(e.interval)
			clear(e.done)
		}
		heap.Push(&t.queue, e)
	}
	until := now
	if t.queue.Len() > 0 && !t.queue[0].due.After(now) {
		until = t.queue[0].due.Add(-time.Nanosecond) // not enqueued yet
	}
	if until.After(t.until) {
		t.until = until
	}
	return published
}

// stepCtx is the context a tick's jobs are published in. A graceful stop
// lets the tick finish, bounded by the lease: jobs published before the
// stop and jobs refused by its cancellation would leave a watermark that
// is behind some published rounds, and the next leader would enqueue them
// again. A lost lease stops it at once, as it must.
func (t *term) stepCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	pctx, cancel := t.leaseCtx(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		if errors.Is(context.Cause(ctx), errLeaseLost) {
			cancel()
		}
	})
	return pctx, func() { stop(); cancel() }
}

// publishAll publishes jobs with Options.Publishers goroutines, setting
// each job's err. After the first failure the rest are not attempted (the
// bus is probably down, and each attempt could take the whole timeout).
func (t *term) publishAll(ctx context.Context, jobs []outJob) {
	p := min(t.s.opts.Publishers, len(jobs))
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := range p {
		wg.Go(func() {
			for i := w; i < len(jobs); i += p {
				j := &jobs[i]
				if failed.Load() {
					j.err = errSkipped
					continue
				}
				cctx, cancel := context.WithTimeout(ctx, t.s.opts.PublishTimeout)
				_, j.err = t.s.bus.Publish(cctx, j.e.regions[j.region].stream, j.payload)
				cancel()
				if j.err != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
}
