package aggregate

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the aggregator's Prometheus series, registered on the
// Registerer the caller passes (never the global registry).
type metrics struct {
	results      *prometheus.CounterVec // outcome: stored, duplicate, malformed, unknown_check, beacon, set_aside
	missed       *prometheus.CounterVec // region: rounds that never reported
	lag          prometheus.Histogram   // produced → committed
	batchSize    prometheus.Histogram   // results per batch
	batchSeconds prometheus.Histogram   // transaction time per batch
	batchErrors  prometheus.Counter     // batches that failed and were left unacked
	regionHealth *prometheus.GaugeVec   // region: 1 healthy, 0 unhealthy
	streamLength *prometheus.GaugeVec   // shard
	pending      *prometheus.GaugeVec   // shard
	shardsOwned  prometheus.Gauge       // shards this aggregator owns
	transitions  *prometheus.CounterVec // action: open, worsen, improve, change, resolve, repeat
	collectors   []prometheus.Collector // for registration
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_aggregator_results_total",
			Help: "Results the aggregator handled, by outcome (stored, duplicate, malformed, unknown_check, beacon, set_aside).",
		}, []string{"outcome"}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_rounds_missed_total",
			Help: "Check rounds that never reported, by region: gaps of more than one interval between a check's results (a bus that lost its data, jobs dropped late).",
		}, []string{"region"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pharos_aggregator_lag_seconds",
			Help:    "Time from a worker producing a result to the aggregator committing it.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pharos_aggregator_batch_size",
			Help:    "Results per aggregator batch.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000},
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pharos_aggregator_batch_seconds",
			Help:    "Time to store and judge one batch, commit included.",
			Buckets: prometheus.DefBuckets,
		}),
		batchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pharos_aggregator_batch_errors_total",
			Help: "Batches that failed to commit and were left unacknowledged for redelivery.",
		}),
		regionHealth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pharos_region_healthy",
			Help: "Whether a probe region is judged healthy (1) or unhealthy (0) in the last evaluation.",
		}, []string{"region"}),
		streamLength: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pharos_results_stream_length",
			Help: "Entries in a result shard's stream.",
		}, []string{"shard"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pharos_results_stream_pending",
			Help: "Entries of a result shard delivered to the aggregators and not yet acknowledged.",
		}, []string{"shard"}),
		shardsOwned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pharos_aggregator_shards_owned",
			Help: "Result shards this aggregator owns.",
		}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_aggregator_incident_actions_total",
			Help: "Automatic incident actions taken, by action.",
		}, []string{"action"}),
	}
	m.collectors = []prometheus.Collector{m.results, m.missed, m.lag, m.batchSize, m.batchSeconds, m.batchErrors,
		m.regionHealth, m.streamLength, m.pending, m.shardsOwned, m.transitions}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return m, errors.Join(errs...)
}
