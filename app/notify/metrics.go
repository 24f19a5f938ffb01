package notify

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the notifier's series.
type metrics struct {
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	events     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_notify_deliveries_total",
			Help: "Delivery attempts by subscriber kind (email, webhook) and outcome: sent, failed (retried later), dead (given up).",
		}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pharos_notify_delivery_latency_seconds",
			Help:    "Time from an event's commit to the end of a delivery's first attempt, by subscriber kind.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_notify_events_total",
			Help: "Outbox events fanned out, by event kind.",
		}, []string{"event"}),
	}
	if reg != nil {
		if err := errors.Join(reg.Register(m.deliveries), reg.Register(m.latency), reg.Register(m.events)); err != nil {
			return nil, fmt.Errorf("notify: metrics: %w", err)
		}
	}
	return m, nil
}
