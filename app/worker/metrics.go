package worker

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the worker's Prometheus series, labelled with its region and
// registered on the Registerer the caller passes (never the global one).
type metrics struct {
	inFlight      prometheus.Gauge
	jobsRun       prometheus.Counter
	droppedLate   prometheus.Counter
	malformed     prometheus.Counter
	published     prometheus.Counter
	buffered      prometheus.Gauge
	bufferDropped prometheus.Counter
	publishErrors prometheus.Counter
	busErrors     prometheus.Counter
	overdue       prometheus.Counter
	pastDeadline  prometheus.Gauge
	canaryUp      prometheus.Gauge
	beacons       prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, region string) (*metrics, error) {
	labels := prometheus.Labels{"region": region}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
	}
	m := &metrics{
		inFlight:      gauge("pharos_worker_in_flight", "Probes running now."),
		jobsRun:       counter("pharos_worker_jobs_run_total", "Jobs probed."),
		droppedLate:   counter("pharos_jobs_dropped_late_total", "Jobs picked up after their deadline: acknowledged, never run."),
		malformed:     counter("pharos_worker_jobs_malformed_total", "Jobs that could not be decoded: acknowledged, never run."),
		published:     counter("pharos_worker_results_published_total", "Results published to the result streams."),
		buffered:      gauge("pharos_worker_results_buffered", "Results waiting in memory to be published."),
		bufferDropped: counter("pharos_worker_results_dropped_total", "Buffered results dropped, oldest first, because the buffer was full."),
		publishErrors: counter("pharos_worker_publish_errors_total", "Failed attempts to publish results (the results stay buffered)."),
		busErrors:     counter("pharos_worker_bus_errors_total", "Failed job reads and acknowledgements."),
		overdue: counter("pharos_worker_probes_overdue_total",
			"Probes abandoned after their timeout plus grace: a timeout result was recorded and the slot freed."),
		pastDeadline: gauge("pharos_worker_probes_past_deadline",
			"Abandoned probes still running past their timeout plus grace; /healthz fails above half the slots."),
		canaryUp: gauge("pharos_worker_canary_up",
			"Whether the worker reached the canary (PHAROS_CANARY_URL) at its last beacon: 1 yes, 0 no."),
		beacons: counter("pharos_worker_beacons_sent_total", "Beacons published: the worker is alive, and what the canary said."),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.inFlight, m.jobsRun, m.droppedLate, m.malformed, m.published,
		m.buffered, m.bufferDropped, m.publishErrors, m.busErrors, m.overdue, m.pastDeadline, m.canaryUp, m.beacons} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return m, errors.Join(errs...)
}
