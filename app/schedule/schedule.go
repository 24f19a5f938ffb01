// Package schedule is the scheduler (DESIGN §3): it turns the catalogue of
// enabled checks into probe jobs, one per check × region × round, on the
// region's stream pipeline.JobsStream(region).
//
// One scheduler leads at a time, holding the bus lock "scheduler" (renewed
// every LockTTL/3 by compare-and-set; on the in-process bus the only
// scheduler always wins it). The leader keeps every check in a min-heap
// keyed by its next due time (pipeline.Round: a stable phase per check), so
// a tick costs only the checks that are due, and encodes each check's job
// template once per configuration version. It polls the catalogue's version
// every Options.Refresh and reloads on change, so edits take effect within
// one interval without a restart.
//
// Handover: after every tick the leader records on the bus the time up to
// which every due round has been enqueued (the watermark, see watermark.go).
// A new leader resumes after it, enqueueing the rounds due since whose
// deadline has not passed, so a leader change neither skips nor repeats a
// round (a leader that dies mid-tick may repeat that tick's jobs once). A
// leader stops publishing at the moment its lease could have expired, so
// two leaders never publish at once.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
)

// Defaults applied by New.
const (
	DefaultLockTTL        = 10 * time.Second
	DefaultRefresh        = 2 * time.Second
	DefaultPublishers     = 16
	DefaultPublishTimeout = 5 * time.Second
	DefaultPruneInterval  = time.Minute
	DefaultConsumerIdle   = 10 * time.Minute
	DefaultStatsInterval  = 5 * time.Second
)

// lockName is the bus lock the leader holds.
const lockName = "scheduler"

// Catalog is what the scheduler reads from the store: every enabled check
// (a system-wide read), a cheap change detector, and one check for RunNow.
// *store.Store implements it.
type Catalog interface {
	EnabledChecks(ctx context.Context) ([]store.Check, error)
	ChecksVersion(ctx context.Context) (string, error)
	Check(ctx context.Context, orgID, id int64) (store.Check, error)
}

var _ Catalog = (*store.Store)(nil)

// Bus is what the scheduler needs of the bus: streams for jobs and its
// watermark, and the leader lock.
type Bus interface {
	bus.Streams
	bus.Locker
}

// Options configure a Scheduler. Zero values select the defaults.
type Options struct {
	// LockTTL is the leader lease's lifetime (default 10s); a dead
	// leader is replaced within about LockTTL + LockTTL/3.
	LockTTL time.Duration
	// Tick is how often the leader enqueues the jobs that became due:
	// the scheduling resolution. Zero (the default) follows the plan:
	// long enough for the busiest region to have 32 jobs fall due, between
	// 100ms and 1s, and at most a thirtieth of the shortest interval (1s
	// for 1,000 checks every 30s; see tick.go).
	Tick time.Duration
	// Refresh is how often the catalogue version is polled (default 2s).
	Refresh time.Duration
	// Publishers is how many jobs are published concurrently (default 16).
	Publishers int
	// PublishTimeout bounds every bus call (default 5s).
	PublishTimeout time.Duration
	// PruneInterval is how often the leader removes the consumers of dead
	// workers and aggregators from the job and result streams (default
	// 1m; see housekeep.go).
	PruneInterval time.Duration
	// ConsumerIdle is how long a consumer may go without reading before it
	// counts as dead and is removed, if it holds no pending entries
	// (default 10m). On Redis before 7.2 it counts from the last entry
	// the consumer received, so a live one of a quiet stream may go too;
	// that is harmless (it comes back with its next entry), but keeping
	// ConsumerIdle above the longest check interval makes it rare.
	ConsumerIdle time.Duration
	// StatsInterval is how often the leader samples the job streams'
	// length and pending entries for metrics (default 5s).
	StatsInterval time.Duration
	// Name identifies this scheduler in logs and in the watermark's
	// consumer group (default hostname-pid-random).
	Name string
	// Logger (default: discarded) and Registerer (default: none).
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Scheduler enqueues probe jobs while it leads. Build it with New; run it
// with Run; RunNow works whether or not it leads.
type Scheduler struct {
	catalog Catalog
	bus     Bus
	opts    Options
	log     *slog.Logger
	metrics *metrics
}

// New returns a scheduler reading checks from catalog and publishing jobs
// to b.
func New(catalog Catalog, b Bus, opts Options) (*Scheduler, error) {
	if catalog == nil || b == nil {
		return nil, errors.New("schedule: New needs a catalogue and a bus")
	}
	opts = withDefaults(opts)
	if opts.Name == "" {
		opts.Name = bus.ConsumerName("scheduler")
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("schedule: metrics: %w", err)
	}
	return &Scheduler{
		catalog: catalog,
		bus:     b,
		opts:    opts,
		log:     opts.Logger.With(slog.String("scheduler", opts.Name)),
		metrics: m,
	}, nil
}

func withDefaults(o Options) Options {
	if o.LockTTL <= 0 {
		o.LockTTL = DefaultLockTTL
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Publishers <= 0 {
		o.Publishers = DefaultPublishers
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = DefaultPruneInterval
	}
	if o.ConsumerIdle <= 0 {
		o.ConsumerIdle = DefaultConsumerIdle
	}
	if o.StatsInterval <= 0 {
		o.StatsInterval = DefaultStatsInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run competes for leadership until ctx ends, scheduling while it leads.
// On return it has stopped publishing and released the lease.
func (s *Scheduler) Run(ctx context.Context) error {
	s.log.Info("scheduler started", slog.Duration("lock_ttl", s.opts.LockTTL))
	defer s.log.Info("scheduler stopped")
	retry := s.opts.LockTTL / 3
	for {
		lctx, cancel := context.WithTimeout(ctx, s.opts.PublishTimeout)
		start := time.Now()
		lease, ok, err := s.bus.TryLock(lctx, lockName, s.opts.LockTTL)
		cancel()
		switch {
		case ctx.Err() != nil:
			if ok {
				s.release(lease)
			}
			return nil
		case err != nil:
			s.log.Warn("leader lock", slog.Any("error", err))
		case ok:
			s.lead(ctx, lease, start)
			s.release(lease)
			if ctx.Err() != nil {
				return nil
			}
		}
		if !pipeline.Sleep(ctx, retry) {
			return nil
		}
	}
}

// lead runs one leadership term until the lease is lost or ctx ends.
func (s *Scheduler) lead(ctx context.Context, lease bus.Lease, acquired time.Time) {
	s.metrics.leader.Set(1)
	defer s.metrics.leader.Set(0)
	s.log.Info("scheduler leads")
	t := newTerm(s, lease, acquired)
	if err := t.run(ctx); err != nil {
		s.log.Warn("leadership ended", slog.Any("error", err))
		return
	}
	s.log.Info("leadership ended")
}

// release gives the lease up, with its own timeout (ctx may be over).
func (s *Scheduler) release(lease bus.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.PublishTimeout)
	defer cancel()
	if err := lease.Release(ctx); err != nil && !errors.Is(err, bus.ErrClosed) {
		s.log.Warn("release leader lock", slog.Any("error", err))
	}
}
