package schedule

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
)

// term is one leadership: the plan of every enabled check and the
// watermark, owned by the goroutine running term.run.
type term struct {
	s     *Scheduler
	lease bus.Lease // nil in benchmarks: always valid
	// validUntil (unix ns) is when the lease may expire: the start of the
	// last successful renewal plus the TTL, measured before the request
	// left, so it is never later than the lock's real expiry.
	validUntil atomic.Int64

	checks  map[int64]*entry
	queue   dueHeap
	until   time.Time // every round due at or before until is enqueued
	wm      *watermark
	version string
	tick    time.Duration // planTick of the plan, set by apply
	// regions are the regions of the plan's checks, sorted, for the
	// housekeeping goroutine (apply stores them).
	regions atomic.Pointer[[]string]
}

func newTerm(s *Scheduler, lease bus.Lease, acquired time.Time) *term {
	t := &term{s: s, lease: lease, checks: map[int64]*entry{},
		wm: newWatermark(s.bus, s.opts.Name, s.opts.PublishTimeout)}
	t.validUntil.Store(acquired.Add(s.opts.LockTTL).UnixNano())
	return t
}

// errLeaseLost ends a term whose lease expired or was taken over.
var errLeaseLost = errors.New("schedule: leader lease lost")

// run schedules until ctx ends or the lease is lost.
func (t *term) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { t.renewLoop(ctx, cancel) })

	if err := t.start(ctx); err != nil {
		return err
	}
	loaded := make(chan []store.Check, 1)
	wg.Go(func() { t.loadLoop(ctx, loaded) })
	wg.Go(func() { t.housekeep(ctx) })

	tick := time.NewTicker(t.tick)
	defer tick.Stop()
	lastSave := time.Now()
	for {
		select {
		case <-ctx.Done():
			err := context.Cause(ctx)
			if errors.Is(err, errLeaseLost) {
				return err // another leader may be writing the watermark now
			}
			t.stop()
			if !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		case checks := <-loaded:
			was := t.tick
			t.apply(checks, time.Now())
			if t.tick != was {
				tick.Reset(t.tick)
			}
		case <-tick.C:
			now := time.Now()
			n := t.step(ctx, now)
			if n > 0 || now.Sub(lastSave) >= time.Second {
				t.save(ctx)
				lastSave = now
			}
		}
	}
}

// start reads the watermark and the catalogue.
func (t *term) start(ctx context.Context) error {
	now := time.Now()
	lctx, cancel := t.leaseCtx(ctx)
	w, found, err := t.wm.load(lctx)
	cancel()
	if err != nil {
		return fmt.Errorf("schedule: read watermark: %w", err)
	}
	t.until = now
	if found && w.Before(now) {
		t.until = w
	}
	t.s.log.Info("scheduler resumes", slog.Time("scheduled_until", t.until), slog.Bool("watermark_found", found))
	version, checks, err := t.load(ctx)
	if err != nil {
		return err
	}
	t.version = version
	t.apply(checks, now)
	return nil
}

// stop records the final watermark while the lease still holds.
func (t *term) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), t.s.opts.PublishTimeout)
	defer cancel()
	t.save(ctx)
}

// leaseCtx bounds ctx by the lease's validity: nothing this leader sends
// may arrive after another could have taken over.
func (t *term) leaseCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.lease == nil {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, time.Unix(0, t.validUntil.Load()))
}

func (t *term) leaseValid(now time.Time) bool {
	return t.lease == nil || now.UnixNano() < t.validUntil.Load()
}

// renewLoop renews the lease every LockTTL/3 and ends the term as soon as
// it is lost, or once it may have expired while renewals failed.
func (t *term) renewLoop(ctx context.Context, end context.CancelCauseFunc) {
	if t.lease == nil {
		return
	}
	ttl := t.s.opts.LockTTL
	for pipeline.Sleep(ctx, ttl/3) {
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, ttl/3)
		ok, err := t.lease.Renew(rctx)
		cancel()
		switch {
		case err == nil && ok:
			t.validUntil.Store(start.Add(ttl).UnixNano())
		case err == nil:
			end(errLeaseLost)
			return
		case ctx.Err() != nil:
			return
		default:
			t.s.log.Warn("renew leader lock", slog.Any("error", err))
			if !t.leaseValid(time.Now()) {
				end(fmt.Errorf("%w: %w", errLeaseLost, err))
				return
			}
		}
	}
}

// load reads the catalogue version and every enabled check.
func (t *term) load(ctx context.Context) (string, []store.Check, error) {
	lctx, cancel := context.WithTimeout(ctx, 4*t.s.opts.PublishTimeout)
	defer cancel()
	version, err := t.s.catalog.ChecksVersion(lctx)
	if err != nil {
		return "", nil, fmt.Errorf("schedule: %w", err)
	}
	checks, err := t.s.catalog.EnabledChecks(lctx)
	if err != nil {
		return "", nil, fmt.Errorf("schedule: %w", err)
	}
	return version, checks, nil
}

// loadLoop polls the catalogue version every Refresh and sends the checks
// when it changed.
func (t *term) loadLoop(ctx context.Context, out chan<- []store.Check) {
	version := t.version
	for pipeline.Sleep(ctx, t.s.opts.Refresh) {
		vctx, cancel := context.WithTimeout(ctx, t.s.opts.PublishTimeout)
		v, err := t.s.catalog.ChecksVersion(vctx)
		cancel()
		if err != nil {
			t.s.metrics.loadErrors.Inc()
			t.s.log.Warn("poll checks version", slog.Any("error", err))
			continue
		}
		if v == version {
			continue
		}
		v, checks, err := t.load(ctx)
		if err != nil {
			t.s.metrics.loadErrors.Inc()
			t.s.log.Warn("reload checks", slog.Any("error", err))
			continue
		}
		select {
		case out <- checks:
			version = v
		case <-ctx.Done():
			return
		}
	}
}

// apply brings the plan in line with checks: new checks start at their
// first round after the watermark, changed ones get new templates (and a
// new round when their interval changed), missing ones leave.
func (t *term) apply(checks []store.Check, now time.Time) {
	seen := make(map[int64]bool, len(checks))
	for _, c := range checks {
		seen[c.ID] = true
		e, ok := t.checks[c.ID]
		if ok && e.sameConfig(c) {
			continue
		}
		fresh := &entry{}
		if err := t.s.metrics.compile(fresh, c); err != nil {
			t.s.metrics.loadErrors.Inc()
			t.s.log.Warn("check not scheduled", slog.Int64("check_id", c.ID), slog.Any("error", err))
			if ok {
				t.remove(e)
			}
			continue
		}
		if !ok {
			fresh.round, fresh.due = firstRound(c.ID, c.Interval, t.until, now)
			t.checks[c.ID] = fresh
			heap.Push(&t.queue, fresh)
			continue
		}
		if e.interval != fresh.interval {
			e.round, e.due = firstRound(c.ID, fresh.interval, t.until, now)
			e.done = nil
		}
		e.interval, e.orgID, e.updated, e.spec = fresh.interval, fresh.orgID, fresh.updated, fresh.spec
		if len(e.regions) != len(fresh.regions) {
			e.done = nil
		}
		e.regions = fresh.regions
		if e.done == nil {
			e.done = fresh.done
		}
		heap.Fix(&t.queue, e.index)
	}
	for id, e := range t.checks {
		if !seen[id] {
			t.remove(e)
		}
	}
	t.s.metrics.checks.Set(float64(len(t.checks)))
	t.tick = t.planTick()
	t.s.metrics.tick.Set(t.tick.Seconds())
	t.storeRegions()
}

func (t *term) remove(e *entry) {
	heap.Remove(&t.queue, e.index)
	delete(t.checks, e.id)
}

// save records the watermark; a failure only widens what the next leader
// enqueues again.
func (t *term) save(ctx context.Context) {
	if !t.leaseValid(time.Now()) {
		return
	}
	sctx, cancel := t.leaseCtx(ctx)
	defer cancel()
	if err := t.wm.save(sctx, t.until); err != nil {
		t.s.log.Warn("record watermark", slog.Any("error", err))
	}
}
