package web

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/buildinfo"
	"pharos/app/store"
)

// Per-check series in the manner of the blackbox exporter
// (PHAROS_METRICS_CHECKS): each enabled check's latest word from each
// region, read from the store at scrape time, so Prometheus alerts on the
// same verdicts the status page shows without probing anything itself.
// Every series is labelled by check (its name and id), component, page
// (slug) and region; that is checks × regions × 7 series (up, duration,
// certificate expiry and four states), the cardinality the README names.

// checkStates are the probe states pharos_check_state enumerates, one
// series each, so a missing series never means "not down".
var checkStates = []string{"up", "degraded", "down", "unknown"}

// checkMetricsTimeout bounds the store read of one scrape.
const checkMetricsTimeout = 10 * time.Second

// checkCollector is a prometheus.Collector over the store's latest states.
type checkCollector struct {
	read func(ctx context.Context) ([]store.CheckRegionState, error)
	log  *slog.Logger

	up, state, duration, notAfter, readError *prometheus.Desc
}

var _ prometheus.Collector = (*checkCollector)(nil)

func newCheckCollector(read func(ctx context.Context) ([]store.CheckRegionState, error), log *slog.Logger) *checkCollector {
	labels := []string{"check", "check_id", "component", "page", "region"}
	return &checkCollector{
		read: read,
		log:  log,
		up: prometheus.NewDesc("pharos_check_up",
			"1 when the check's latest probe from the region got an answer that passed (up or degraded), 0 when it was down or unknown.", labels, nil),
		state: prometheus.NewDesc("pharos_check_state",
			"The check's latest state from the region: 1 on the series of the current state (up, degraded, down, unknown), 0 on the others.",
			append(labels, "state"), nil),
		duration: prometheus.NewDesc("pharos_check_duration_seconds",
			"How long the check's latest probe from the region took (absent once its result was pruned).", labels, nil),
		notAfter: prometheus.NewDesc("pharos_check_cert_not_after_timestamp_seconds",
			"When the soonest-expiring leaf certificate the check's nodes serve, seen from the region, expires (Unix time; absent without TLS).", labels, nil),
		readError: prometheus.NewDesc("pharos_check_metrics_read_error",
			"1 when this scrape could not read the checks' states from the database (the pharos_check_* series are then absent), 0 otherwise.", nil, nil),
	}
}

// Describe sends the descriptors of every series the collector makes.
func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.state, c.duration, c.notAfter, c.readError} {
		ch <- d
	}
}

// Collect reads the latest states and sends their series. A failed read
// costs this scrape the per-check series, not the rest of /metrics: it is
// logged and reported as pharos_check_metrics_read_error 1.
func (c *checkCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), checkMetricsTimeout)
	defer cancel()
	states, err := c.read(ctx)
	if err != nil {
		c.log.Error("metrics: read check states", slog.Any("error", err))
		ch <- prometheus.MustNewConstMetric(c.readError, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.readError, prometheus.GaugeValue, 0)
	for _, s := range states {
		labels := []string{s.Check, strconv.FormatInt(s.CheckID, 10), s.Component, s.Page, s.Region}
		up := 0.0
		if s.State == "up" || s.State == "degraded" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, labels...)
		current := "unknown"
		for _, st := range checkStates {
			if s.State == st {
				current = st
			}
		}
		for _, st := range checkStates {
			v := 0.0
			if st == current {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, append(labels, st)...)
		}
		if s.HasDuration {
			ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, s.Duration.Seconds(), labels...)
		}
		if !s.CertNotAfter.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.notAfter, prometheus.GaugeValue, float64(s.CertNotAfter.Unix()), labels...)
		}
	}
}

// registerBuildInfo exports pharos_build_info{version,goversion,revision} 1,
// the usual way to join a build's identity onto other series.
func registerBuildInfo(reg prometheus.Registerer) error {
	return reg.Register(buildinfo.Read().Collector())
}
