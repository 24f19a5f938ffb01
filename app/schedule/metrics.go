package schedule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scheduler's Prometheus series, registered on the
// Registerer the caller passes (never the global registry).
type metrics struct {
	scheduled     *prometheus.CounterVec // region
	skippedLate   *prometheus.CounterVec // region
	runNow        *prometheus.CounterVec // region
	lag           prometheus.Histogram
	checks        prometheus.Gauge
	tick          prometheus.Gauge
	leader        prometheus.Gauge
	publishErrors prometheus.Counter
	loadErrors    prometheus.Counter

	consumersPruned *prometheus.CounterVec // stream_kind
	jobsLength      *prometheus.GaugeVec   // region
	jobsPending     *prometheus.GaugeVec   // region
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		scheduled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_scheduler_jobs_scheduled_total",
			Help: "Jobs the scheduler enqueued, by region.",
		}, []string{"region"}),
		skippedLate: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_scheduler_jobs_skipped_late_total",
			Help: "Rounds not enqueued because their deadline passed first (the bus was down or the scheduler stalled), by region.",
		}, []string{"region"}),
		runNow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_scheduler_run_now_jobs_total",
			Help: "Run-now jobs enqueued, by region.",
		}, []string{"region"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pharos_scheduler_lag_seconds",
			Help:    "Time from a job's due time to its enqueueing.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		checks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pharos_scheduler_checks_loaded",
			Help: "Enabled checks in the leader's plan.",
		}),
		tick: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pharos_scheduler_tick_seconds",
			Help: "How often the leader enqueues the jobs that fell due (set by the plan unless fixed).",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pharos_scheduler_leader",
			Help: "1 while this scheduler holds the leader lock.",
		}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pharos_scheduler_publish_errors_total",
			Help: "Jobs that failed to publish (retried next tick until their deadline).",
		}),
		loadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pharos_scheduler_load_errors_total",
			Help: "Failed catalogue reads and checks that could not be scheduled.",
		}),
		consumersPruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_consumers_pruned_total",
			Help: "Consumers of dead workers, aggregators or schedulers removed from their consumer groups, by stream kind (jobs, run_now, results, watermark).",
		}, []string{"stream_kind"}),
		jobsLength: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pharos_jobs_stream_length",
			Help: "Entries in a region's job and run-now streams (about the jobs in flight: acknowledged jobs leave the streams), sampled by the leader.",
		}, []string{"region"}),
		jobsPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pharos_jobs_stream_pending",
			Help: "Jobs of a region's job and run-now streams delivered to its workers and not acknowledged yet (in flight), sampled by the leader.",
		}, []string{"region"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.scheduled, m.skippedLate, m.runNow, m.lag, m.checks, m.tick, m.leader,
		m.publishErrors, m.loadErrors, m.consumersPruned, m.jobsLength, m.jobsPending} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return m, errors.Join(errs...)
}
