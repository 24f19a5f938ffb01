package worker_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/probes"
)

// busCase is one bus implementation under test: newBus returns a fresh
// bus; peer returns another connection to the same bus.
type busCase struct {
	name   string
	newBus func(t *testing.T, opts bus.Options) (b bus.Bus, peer func() bus.Bus)
}

func buses() []busCase {
	return []busCase{
		{"memory", func(t *testing.T, opts bus.Options) (bus.Bus, func() bus.Bus) {
			b := bus.NewMemory(opts)
			t.Cleanup(func() { b.Close() })
			return b, func() bus.Bus { return b }
		}},
		{"redis", func(t *testing.T, opts bus.Options) (bus.Bus, func() bus.Bus) {
			opts.Prefix = bustest.Prefix(t)
			return bustest.Redis(t, opts), func() bus.Bus { return bustest.Redis(t, opts) }
		}},
	}
}

// cutBus is a bus.Streams whose calls fail while cut: a worker whose bus
// connection is gone, on either implementation.
type cutBus struct {
	bus.Streams
	cut atomic.Bool
}

var errCut = errors.New("test: bus cut")

func (c *cutBus) Publish(ctx context.Context, stream string, p []byte) (string, error) {
	if c.cut.Load() {
		return "", errCut
	}
	return c.Streams.Publish(ctx, stream, p)
}

func (c *cutBus) Consume(ctx context.Context, stream, group, consumer string, n int, block time.Duration) ([]bus.Message, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Streams.Consume(ctx, stream, group, consumer, n, block)
}

func (c *cutBus) Ack(ctx context.Context, stream, group string, ids ...string) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Streams.Ack(ctx, stream, group, ids...)
}

// publishJob enqueues a job for spec on region's stream.
func publishJob(t *testing.T, b bus.Streams, stream string, j pipeline.Job) {
	t.Helper()
	if j.ID == "" {
		j.ID = rand.Text()
	}
	if j.Due.IsZero() {
		j.Due = time.Now().UTC()
	}
	if j.Deadline.IsZero() {
		j.Deadline = j.Due.Add(time.Minute)
	}
	payload, err := pipeline.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), stream, payload); err != nil {
		t.Fatal(err)
	}
}

// results reads every result published so far on stream (group "test"),
// leaving out the workers' beacons.
func results(t *testing.T, b bus.Streams, stream string) []pipeline.Result {
	t.Helper()
	var out []pipeline.Result
	for {
		msgs, err := b.Consume(t.Context(), stream, "test", "reader", 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			r, err := pipeline.DecodeResult(m.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Beacon {
				out = append(out, r)
			}
			if err := b.Ack(t.Context(), stream, "test", m.ID); err != nil {
				t.Fatal(err)
			}
		}
		if len(msgs) == 0 {
			return out
		}
	}
}

// allResults reads every result published so far on every shard (beacons
// aside), ordered by when the worker produced them: a check's results go
// to its own shard, so the shards' streams alone do not tell the order.
func allResults(t *testing.T, b bus.Streams) []pipeline.Result {
	t.Helper()
	var out []pipeline.Result
	for shard := range pipeline.Shards {
		out = append(out, results(t, b, pipeline.ResultsStream(shard))...)
	}
	slices.SortStableFunc(out, func(a, b pipeline.Result) int { return a.Produced.Compare(b.Produced) })
	return out
}

// awaitResults collects the results until there are exactly n, failing
// the test after 10s.
func awaitResults(t *testing.T, b bus.Streams, n int, what string) []pipeline.Result {
	t.Helper()
	var got []pipeline.Result
	waitFor(t, 10*time.Second, what, func() bool {
		got = append(got, allResults(t, b)...)
		return len(got) == n
	})
	return got
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric returns the value of the gauge or counter name in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += value(m)
		}
		return sum
	}
	return 0
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}

// runWorker runs w until the test ends (or stop is called) and returns
// stop, which cancels it and waits for Run to return.
func runWorker(t *testing.T, run func(ctx context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("Run did not return 20s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// loopbackProber may reach loopback targets, as tests need.
func loopbackProber() *probes.Prober { return probes.New(probes.Options{AllowPrivate: true}) }

// proxy is a loopback TCP proxy to a Redis server that the test can cut
// (close every connection and refuse new ones) and restore, simulating a
// Redis outage without touching the shared server.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.setCut(true)
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go pipe(up, c)
	go pipe(c, up)
}

// setCut cuts (true) or restores (false) the proxy.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}
