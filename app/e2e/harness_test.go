package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/aggregate"
	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/schedule"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/worker"
	"pharos/probes"
	"pharos/probes/probetest"
)

// harness is one pipeline under test: a fresh PostgreSQL schema holding one
// organisation, page and component, a Redis key prefix of its own, a test
// CA for the targets, and the roles the test starts. Everything it starts
// is stopped, and every key under its prefix deleted, when the test ends.
type harness struct {
	t      *testing.T
	st     *store.Store
	prefix string
	log    *slog.Logger
	ca     *probetest.CA

	org  int64
	page store.Page
	comp store.Component

	// canary, when set, is the URL the workers started afterwards probe
	// with every beacon.
	canary string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		prefix: bustest.Prefix(t), // its keys are deleted after every role stopped
		st:     storetest.Postgres(t),
		log:    testLogger(t),
		ca:     probetest.NewRoot(probetest.CertOptions{CommonName: "Pharos E2E Root", Organization: "Pharos E2E"}),
	}
	ctx := t.Context()
	err := h.st.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.CreateOrg(ctx, "E2E", "e2e")
		if err != nil {
			return err
		}
		h.org = org.ID
		h.page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "e2e", Title: "E2E", TimeZone: "UTC"})
		if err != nil {
			return err
		}
		h.comp, err = tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: h.page.ID, Name: "Edge"})
		return err
	})
	if err != nil {
		t.Fatalf("create the page: %v", err)
	}
	return h
}

// testLogger discards the roles' logs unless the test runs with -v.
func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// bus opens a connection of its own to the test's Redis prefix, closed
// when the test ends (after the roles using it stopped).
func (h *harness) bus(opts bus.Options) *bus.RedisBus {
	h.t.Helper()
	opts.Prefix, opts.Logger = h.prefix, h.log
	return bustest.Redis(h.t, opts)
}

// role is what every Pharos role is.
type role interface {
	Run(ctx context.Context) error
}

// start runs r until the returned stop is called or the test ends. stop
// cancels r's context and waits for Run to return; it may be called more
// than once.
func (h *harness) start(name string, r role) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("%s: Run: %v", name, err)
				}
			case <-time.After(30 * time.Second):
				h.t.Errorf("%s did not stop within 30s of its context ending", name)
			}
		})
	}
	h.t.Cleanup(stop)
	return stop
}

// startScheduler runs a scheduler with a short lock TTL and a fast tick.
func (h *harness) startScheduler() (reg *prometheus.Registry, stop func()) {
	h.t.Helper()
	reg = prometheus.NewRegistry()
	s, err := schedule.New(h.st, h.bus(bus.Options{}), schedule.Options{
		LockTTL: 3 * time.Second, Tick: 50 * time.Millisecond, Refresh: 500 * time.Millisecond,
		Name: "e2e-scheduler", Logger: h.log, Registerer: reg,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return reg, h.start("scheduler", s)
}

// startAggregator runs an aggregator owning every result shard, judging
// region health on every batch.
func (h *harness) startAggregator() (stop func()) {
	h.t.Helper()
	a, err := aggregate.New(h.st, h.bus(bus.Options{}), aggregate.Options{
		Consumer: "e2e-aggregator", RefreshEvery: -1,
		Logger: h.log, Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.start("aggregator", a)
}

// workerRun is a started probe worker with what a test needs to watch or
// kill it.
type workerRun struct {
	w    *worker.Worker
	bus  *bus.RedisBus // its own connection: closing it cuts the worker off
	reg  *prometheus.Registry
	stop func()
}

// startWorker runs a probe worker of region on a connection of its own.
func (h *harness) startWorker(region, consumer string, pr worker.Prober, busOpts bus.Options) *workerRun {
	h.t.Helper()
	b := h.bus(busOpts)
	reg := prometheus.NewRegistry()
	w, err := worker.New(b, worker.Options{
		Region: region, Consumer: consumer, Prober: pr,
		DrainTimeout: time.Second, Logger: h.log, Registerer: reg,
		Canary: h.canary, BeaconEvery: 500 * time.Millisecond,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return &workerRun{w: w, bus: b, reg: reg, stop: h.start("worker "+consumer, w)}
}

// addCheck creates a check of tg on the harness's component, bypassing the
// apply validator so that the interval may be a second or two.
func (h *harness) addCheck(name string, tg *target, interval time.Duration, regions []string) store.Check {
	h.t.Helper()
	spec, err := json.Marshal(probes.Spec{
		URL:     tg.url(),
		TLS:     probes.TLSSpec{CA: h.ca.PEM()},
		Timeout: probes.Duration(3 * time.Second),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := h.t.Context()
	var c store.Check
	err = h.st.InTx(ctx, func(tx *store.Tx) error {
		c, err = tx.CreateCheck(ctx, store.Check{
			OrgID: h.org, PageID: h.page.ID, ComponentID: h.comp.ID, Name: name, URL: tg.url(), Spec: spec,
			Regions: regions, Interval: interval, ConfirmRounds: 2,
		})
		return err
	})
	if err != nil {
		h.t.Fatalf("create check %s: %v", name, err)
	}
	return c
}

// count runs a COUNT(*) (or any single-integer) query.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.st.DB().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkStates returns every check's state by id.
func (h *harness) checkStates() map[int64]string {
	h.t.Helper()
	rows, err := h.st.DB().QueryContext(context.Background(), `SELECT id, state FROM checks WHERE org_id = $1`, h.org)
	if err != nil {
		h.t.Fatalf("check states: %v", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var state string
		if err := rows.Scan(&id, &state); err != nil {
			h.t.Fatalf("check states: %v", err)
		}
		out[id] = state
	}
	if err := rows.Err(); err != nil {
		h.t.Fatalf("check states: %v", err)
	}
	return out
}

// waitFor polls cond every 50ms until it holds, failing the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric sums every series of the named metric in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// metricByLabel returns the named metric's value for each value of label.
func metricByLabel(t *testing.T, reg *prometheus.Registry, name, label string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
