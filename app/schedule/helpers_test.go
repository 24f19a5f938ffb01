package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
)

// fixture is an organisation with one page and component in a real store.
type fixture struct {
	s                *store.Store
	org, page, compo int64
}

func newFixture(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	org, err := s.CreateOrg(ctx, "ACME", "acme")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{s: s, org: org.ID}
	err = s.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "acme", Title: "ACME", TimeZone: "UTC"})
		if err != nil {
			return err
		}
		c, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: p.ID, Name: "API"})
		f.page, f.compo = p.ID, c.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) add(t *testing.T, name, url string, interval time.Duration, regions ...string) store.Check {
	t.Helper()
	var c store.Check
	err := f.s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		c, err = tx.CreateCheck(context.Background(), store.Check{OrgID: f.org, PageID: f.page, ComponentID: f.compo,
			Name: name, URL: url, Spec: json.RawMessage(`{"url":"` + url + `"}`), Regions: regions, Interval: interval})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) update(t *testing.T, c store.Check) {
	t.Helper()
	err := f.s.InTx(context.Background(), func(tx *store.Tx) error { return tx.UpdateCheckConfig(context.Background(), c) })
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) remove(t *testing.T, c store.Check) {
	t.Helper()
	err := f.s.InTx(context.Background(), func(tx *store.Tx) error { return tx.DeleteCheck(context.Background(), c.OrgID, c.ID) })
	if err != nil {
		t.Fatal(err)
	}
}

// seen is a job as the reader received it.
type seen struct {
	pipeline.Job
	at time.Time
}

// reader consumes streams (group "test") in the background until stop.
type reader struct {
	mu   sync.Mutex
	jobs []seen
	stop func()
}

func readJobs(t *testing.T, b bus.Streams, streams ...string) *reader {
	t.Helper()
	r := &reader{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range streams {
		wg.Go(func() {
			for ctx.Err() == nil {
				msgs, err := b.Consume(ctx, s, "test", "reader", 500, 50*time.Millisecond)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("read %s: %v", s, err)
					}
					return
				}
				now := time.Now()
				var ids []string
				for _, m := range msgs {
					j, err := pipeline.DecodeJob(m.Payload)
					if err != nil {
						t.Errorf("decode job: %v", err)
						continue
					}
					r.mu.Lock()
					r.jobs = append(r.jobs, seen{Job: j, at: now})
					r.mu.Unlock()
					ids = append(ids, m.ID)
				}
				if len(ids) > 0 {
					if err := b.Ack(ctx, s, "test", ids...); err != nil && ctx.Err() == nil {
						t.Errorf("ack: %v", err)
					}
				}
			}
		})
	}
	var once sync.Once
	r.stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(r.stop)
	return r
}

func (r *reader) all() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.jobs...)
}

// start runs s until the returned stop is called (or the test ends).
func start(t *testing.T, s *Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return 10s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}

// cutBus is a scheduler bus whose every call fails once cut: a scheduler
// whose process died, without a graceful release.
type cutBus struct {
	Bus
	cut atomic.Bool
}

var errCut = errors.New("test: bus cut")

func (c *cutBus) Publish(ctx context.Context, stream string, p []byte) (string, error) {
	if c.cut.Load() {
		return "", errCut
	}
	return c.Bus.Publish(ctx, stream, p)
}

func (c *cutBus) Consume(ctx context.Context, stream, group, consumer string, n int, block time.Duration) ([]bus.Message, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Bus.Consume(ctx, stream, group, consumer, n, block)
}

func (c *cutBus) Ack(ctx context.Context, stream, group string, ids ...string) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Bus.Ack(ctx, stream, group, ids...)
}

func (c *cutBus) TryLock(ctx context.Context, name string, ttl time.Duration) (bus.Lease, bool, error) {
	if c.cut.Load() {
		return nil, false, errCut
	}
	l, ok, err := c.Bus.TryLock(ctx, name, ttl)
	if l != nil {
		l = &cutLease{Lease: l, cut: &c.cut}
	}
	return l, ok, err
}

type cutLease struct {
	bus.Lease
	cut *atomic.Bool
}

func (l *cutLease) Renew(ctx context.Context) (bool, error) {
	if l.cut.Load() {
		return false, errCut
	}
	return l.Lease.Renew(ctx)
}

func (l *cutLease) Release(ctx context.Context) error {
	if l.cut.Load() {
		return errCut
	}
	return l.Lease.Release(ctx)
}
