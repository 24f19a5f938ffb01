// Package housekeep is the housekeeping role: on a robfig/cron schedule (in
// UTC) it rolls raw results up into daily per-check rollups (monitored,
// degraded and down time, result counts, latency percentiles) for today and
// yesterday, rolls up again the days rolled up before rollups kept time
// while their raw results are still kept, and deletes raw results past the
// retention period (DESIGN §5).
package housekeep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"pharos/app/store"
)

// Store is what housekeeping needs from the database.
type Store interface {
	Orgs(ctx context.Context) ([]store.Org, error)
	RollupDay(ctx context.Context, orgID int64, day time.Time) (int, error)
	DaysWithoutTime(ctx context.Context, orgID int64, since time.Time) ([]time.Time, error)
	DeleteResultsBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)
	AdvanceMaintenance(ctx context.Context, now time.Time, lookback time.Duration) ([]store.MaintenanceChange, error)
	PruneNotifications(ctx context.Context, cutoff time.Time, limit int) (int64, error)
	PruneUnconfirmedSubscribers(ctx context.Context, before time.Time) (int64, error)
}

var _ Store = (*store.Store)(nil)

// Defaults of Options.
const (
	// DefaultRetention is how long raw results are kept: the daily
	// rollups keep the 90-day bars and history once they are gone.
	DefaultRetention = 48 * time.Hour
	// MinRetention is the shortest retention accepted: the rollup replays
	// today and yesterday from raw results every hour, so yesterday's
	// first result must still be there at the end of today.
	MinRetention          = 48 * time.Hour
	DefaultRollupSchedule = "7 * * * *"  // hourly, off the top of the hour
	DefaultRetainSchedule = "17 3 * * *" // daily, at night (UTC)
	DefaultDeleteBatch    = 5000
	// unconfirmedGrace is how long after its confirmation link expired
	// (or its webhook was created untested) a subscriber stays stored.
	unconfirmedGrace = 7 * 24 * time.Hour
)

// Options configure a Housekeeper; zero values select the defaults.
type Options struct {
	// Retention is how long raw results are kept (default 48 hours, at
	// least MinRetention).
	Retention time.Duration
	// RollupSchedule and RetainSchedule are cron lines in UTC.
	RollupSchedule string
	RetainSchedule string
	// DeleteBatch bounds the rows one retention statement deletes.
	DeleteBatch int
	// MaintenanceTick, MaintenanceLookback and Events drive the
	// maintenance job (maintenance.go).
	MaintenanceTick     time.Duration
	MaintenanceLookback time.Duration
	Events              Events
	// RunAtStart runs both jobs once when Run starts.
	RunAtStart bool
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Housekeeper is the housekeeping role.
type Housekeeper struct {
	store   Store
	opts    Options
	log     *slog.Logger
	runs    *prometheus.CounterVec
	deleted prometheus.Counter
}

// New returns a housekeeper over st.
func New(st Store, opts Options) (*Housekeeper, error) {
	switch {
	case opts.Retention == 0:
		opts.Retention = DefaultRetention
	case opts.Retention < MinRetention:
		return nil, fmt.Errorf("housekeep: result retention %s is shorter than %s: the daily rollup replays today and yesterday from raw results", opts.Retention, MinRetention)
	}
	if opts.RollupSchedule == "" {
		opts.RollupSchedule = DefaultRollupSchedule
	}
	if opts.RetainSchedule == "" {
		opts.RetainSchedule = DefaultRetainSchedule
	}
	if opts.DeleteBatch <= 0 {
		opts.DeleteBatch = DefaultDeleteBatch
	}
	opts.maintenanceDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Housekeeper{
		store: st, opts: opts, log: opts.Logger.With(slog.String("role", "housekeeper")),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_housekeeping_runs_total",
			Help: "Housekeeping job runs, by job (rollup, retention, maintenance) and outcome (ok, error).",
		}, []string{"job", "outcome"}),
		deleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pharos_housekeeping_results_deleted_total",
			Help: "Raw results deleted by retention.",
		}),
	}
	if opts.Registerer != nil {
		if err := errors.Join(opts.Registerer.Register(h.runs), opts.Registerer.Register(h.deleted)); err != nil {
			return nil, fmt.Errorf("housekeep: metrics: %w", err)
		}
	}
	return h, nil
}

// Run schedules the jobs until ctx ends, then stops the scheduler and waits
// for a job in progress (which sees ctx cancelled) before returning nil.
func (h *Housekeeper) Run(ctx context.Context) error {
	c := cron.New(cron.WithLocation(time.UTC), cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	if _, err := c.AddFunc(h.opts.RollupSchedule, func() { h.job(ctx, "rollup", h.Rollup) }); err != nil {
		return fmt.Errorf("housekeep: rollup schedule %q: %w", h.opts.RollupSchedule, err)
	}
	if _, err := c.AddFunc(h.opts.RetainSchedule, func() { h.job(ctx, "retention", h.Retain) }); err != nil {
		return fmt.Errorf("housekeep: retention schedule %q: %w", h.opts.RetainSchedule, err)
	}
	c.Schedule(cron.Every(h.opts.MaintenanceTick), cron.FuncJob(func() { h.maintenanceJob(ctx) }))
	if h.opts.RunAtStart {
		h.job(ctx, "rollup", h.Rollup)
		h.job(ctx, "retention", h.Retain)
		h.maintenanceJob(ctx)
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

func (h *Housekeeper) job(ctx context.Context, name string, fn func(context.Context) error) {
	if ctx.Err() != nil {
		return
	}
	start := h.opts.Now()
	if err := fn(ctx); err != nil {
		h.runs.WithLabelValues(name, "error").Inc()
		h.log.Error("housekeeping job failed", slog.String("job", name), slog.Any("error", err))
		return
	}
	h.runs.WithLabelValues(name, "ok").Inc()
	h.log.Info("housekeeping job done", slog.String("job", name), slog.Duration("took", h.opts.Now().Sub(start)))
}

// Rollup recomputes every organisation's rollups of today and yesterday
// (UTC): yesterday's late results land, today's bar stays current. Days
// rolled up before rollups kept time are rolled up again once, as long as
// all of their raw results are still kept; older ones keep their counts.
func (h *Housekeeper) Rollup(ctx context.Context) error {
	orgs, err := h.store.Orgs(ctx)
	if err != nil {
		return fmt.Errorf("housekeep: rollup: %w", err)
	}
	now := h.opts.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	cutoff := now.Add(-h.opts.Retention)
	firstWhole := time.Date(cutoff.Year(), cutoff.Month(), cutoff.Day()+1, 0, 0, 0, 0, time.UTC)
	var errs []error
	for _, org := range orgs {
		days := []time.Time{today.AddDate(0, 0, -1), today}
		old, err := h.store.DaysWithoutTime(ctx, org.ID, firstWhole)
		if err != nil {
			errs = append(errs, fmt.Errorf("housekeep: rollup org %d: %w", org.ID, err))
		}
		for _, d := range old {
			if d.Before(days[0]) {
				days = append(days, d)
			}
		}
		for _, day := range days {
			if _, err := h.store.RollupDay(ctx, org.ID, day); err != nil {
				errs = append(errs, fmt.Errorf("housekeep: rollup org %d: %w", org.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Retain deletes raw results older than the retention period, and the
// finished deliveries and fanned-out outbox events as old.
func (h *Housekeeper) Retain(ctx context.Context) error {
	cutoff := h.opts.Now().UTC().Add(-h.opts.Retention)
	if _, err := h.store.PruneNotifications(ctx, cutoff, h.opts.DeleteBatch); err != nil {
		return fmt.Errorf("housekeep: retention: %w", err)
	}
	// Addresses someone typed and nobody confirmed go a week after their
	// link expired.
	if _, err := h.store.PruneUnconfirmedSubscribers(ctx, h.opts.Now().UTC().Add(-unconfirmedGrace)); err != nil {
		return fmt.Errorf("housekeep: retention: %w", err)
	}
	n, err := h.store.DeleteResultsBefore(ctx, cutoff, h.opts.DeleteBatch)
	h.deleted.Add(float64(n))
	if err != nil {
		return fmt.Errorf("housekeep: retention: %w", err)
	}
	if n > 0 {
		h.log.Info("old results deleted", slog.Int64("count", n), slog.Time("cutoff", cutoff))
	}
	return nil
}
