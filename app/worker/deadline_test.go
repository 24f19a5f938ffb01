package worker_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
	"pharos/probes/probetest"
)

// stuckProber never returns for URLs containing "stuck" until the test
// ends (it ignores its context, as a probe lost in a loop would); other
// probes are up at once.
type stuckProber struct {
	release chan struct{}
	once    sync.Once
}

func newStuckProber(t *testing.T) *stuckProber {
	p := &stuckProber{release: make(chan struct{})}
	t.Cleanup(p.unblock)
	return p
}

func (p *stuckProber) unblock() { p.once.Do(func() { close(p.release) }) }

func (p *stuckProber) Run(ctx context.Context, spec probes.Spec) probes.Result {
	if strings.Contains(spec.URL, "stuck") {
		<-p.release
	}
	return probes.Result{URL: spec.URL, State: probes.StateUp, Problems: []probes.Problem{}, Nodes: []probes.NodeResult{}}
}

func stuckJob(check int64, timeout time.Duration) pipeline.Job {
	return pipeline.Job{OrgID: 1, CheckID: check, Region: "fra",
		Spec: probes.Spec{URL: fmt.Sprintf("https://stuck-%d.example.org/", check), Timeout: probes.Duration(timeout)}}
}

func quickJob(check int64) pipeline.Job {
	return pipeline.Job{OrgID: 1, CheckID: check, Region: "fra", Spec: probes.Spec{URL: fmt.Sprintf("https://ok-%d.example.org/", check)}}
}

// A probe that ignores its deadline holds its slot no longer than its
// timeout plus the grace: the job gets a timeout result, the slot serves
// the next jobs, the overdue probe is counted until it returns, and a
// worker whose slots are mostly stuck is not healthy.
func TestWorkerAbandonsStuckProbes(t *testing.T) {
	t.Parallel()
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			b, _ := bc.newBus(t, bus.Options{})
			reg := prometheus.NewRegistry()
			pr := newStuckProber(t)
			const timeout, grace = 300 * time.Millisecond, 200 * time.Millisecond
			w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: 4, Prober: pr,
				ProbeGrace: grace, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				publishJob(t, b, pipeline.JobsStream("fra"), stuckJob(int64(i+1), timeout))
			}
			start := time.Now()
			stop := runWorker(t, w.Run)
			waitFor(t, 10*time.Second, "three probes abandoned", func() bool {
				return metric(t, reg, "pharos_worker_probes_overdue_total") == 3
			})
			if took := time.Since(start); took < timeout+grace {
				t.Errorf("abandoned after %s, want no sooner than timeout + grace (%s)", took, timeout+grace)
			}
			got := awaitResults(t, b, 3, "three timeout results")
			for _, r := range got {
				res := r.Result
				if res.State != probes.StateDown || len(res.Problems) != 1 || res.Problems[0].Code != probes.CodeTimeout {
					t.Fatalf("check %d: got %s %+v, want down with one timeout problem", r.CheckID, res.State, res.Problems)
				}
				if !strings.Contains(res.Problems[0].Message, "its timeout is 300ms") {
					t.Errorf("message %q does not name the timeout", res.Problems[0].Message)
				}
			}
			if n := metric(t, reg, "pharos_worker_probes_past_deadline"); n != 3 {
				t.Errorf("probes past deadline: got %v, want 3", n)
			}
			if err := w.Healthy(); err == nil {
				t.Error("Healthy: got nil with 3 of 4 slots' worth of probes stuck, want an error")
			}

			// The freed slots serve other checks.
			for i := range 6 {
				publishJob(t, b, pipeline.JobsStream("fra"), quickJob(int64(100+i)))
			}
			for _, r := range awaitResults(t, b, 6, "six results of healthy checks") {
				if r.Result.State != probes.StateUp {
					t.Errorf("check %d: got %s, want up", r.CheckID, r.Result.State)
				}
			}

			pr.unblock() // the stuck probes return at last
			waitFor(t, 5*time.Second, "no probe past its deadline", func() bool {
				return metric(t, reg, "pharos_worker_probes_past_deadline") == 0
			})
			if err := w.Healthy(); err != nil {
				t.Errorf("Healthy after the probes returned: %v, want nil", err)
			}
			stop()
			if rs := allResults(t, b); len(rs) != 0 {
				t.Errorf("got %d more results, want none: a job abandoned with a timeout result is not published twice", len(rs))
			}
			if _, pending, err := b.Stats(t.Context(), pipeline.JobsStream("fra"), pipeline.ProbersGroup); err != nil || pending != 0 {
				t.Errorf("got %d jobs pending (%v), want 0", pending, err)
			}
		})
	}
}

// One stuck probe of four slots leaves the worker healthy: only more than
// half is a reason to restart it.
func TestWorkerHealthyWithFewStuckProbes(t *testing.T) {
	t.Parallel()
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	reg := prometheus.NewRegistry()
	w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: 4, Prober: newStuckProber(t),
		ProbeGrace: 100 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	publishJob(t, b, pipeline.JobsStream("fra"), stuckJob(1, 100*time.Millisecond))
	publishJob(t, b, pipeline.JobsStream("fra"), stuckJob(2, 100*time.Millisecond))
	runWorker(t, w.Run)
	waitFor(t, 10*time.Second, "two probes abandoned", func() bool {
		return metric(t, reg, "pharos_worker_probes_overdue_total") == 2
	})
	if err := w.Healthy(); err != nil {
		t.Errorf("Healthy with 2 of 4 stuck: %v, want nil", err)
	}
}

// Shutdown completes within the drain deadline even with every slot
// stuck (SIGTERM is not ignored); the unfinished jobs stay pending for
// another worker, and results finished before are published.
func TestWorkerShutdownWithStuckProbes(t *testing.T) {
	t.Parallel()
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			b, _ := bc.newBus(t, bus.Options{})
			const drain = time.Second
			w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: 4, Prober: newStuckProber(t),
				DrainTimeout: drain})
			if err != nil {
				t.Fatal(err)
			}
			publishJob(t, b, pipeline.JobsStream("fra"), quickJob(100))
			for i := range 4 {
				publishJob(t, b, pipeline.JobsStream("fra"), stuckJob(int64(i+1), time.Minute))
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			awaitResults(t, b, 1, "the quick job's result")
			waitFor(t, 5*time.Second, "four jobs held", func() bool {
				_, pending, err := b.Stats(t.Context(), pipeline.JobsStream("fra"), pipeline.ProbersGroup)
				return err == nil && pending == 4
			})

			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if took := time.Since(start); took > drain+500*time.Millisecond {
					t.Errorf("Run returned %s after cancel, want within the %s drain deadline", took, drain)
				}
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return 10s after cancel with stuck probes")
			}
			if _, pending, err := b.Stats(t.Context(), pipeline.JobsStream("fra"), pipeline.ProbersGroup); err != nil || pending != 4 {
				t.Errorf("got %d jobs pending (%v), want the 4 unfinished ones, for another worker", pending, err)
			}
		})
	}
}

// The body that jammed workers: four checks of a JSON body nested 100,000
// deep, next to healthy checks, on a worker of four slots. Every check
// reports within seconds, and the worker stays healthy.
func TestWorkerDeepJSONBody(t *testing.T) {
	t.Parallel()
	root := probetest.NewRoot(probetest.CertOptions{CommonName: "Test Root"})
	cert := root.Leaf(probetest.CertOptions{CommonName: "localhost", DNSNames: []string{"localhost"}})
	ln := probetest.Listeners(t, "127.0.0.1")[0]
	deep := strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000)
	probetest.ServeTLS(t, ln, cert, probetest.Text(200, "application/json", deep), nil)
	deepURL := "https://localhost:" + probetest.Port(ln) + "/"
	ok := httpTarget(t, probetest.Text(200, "application/json", `{"status":"ok"}`))

	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	reg := prometheus.NewRegistry()
	w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: 4, Registerer: reg,
		Prober: probes.New(probes.Options{AllowPrivate: true, Roots: probetest.Pool(root)})})
	if err != nil {
		t.Fatal(err)
	}
	expect := probes.Expect{JSON: map[string]any{"$..a": map[string]any{"a": 2}}}
	for i := range 4 {
		publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 1, CheckID: int64(i + 1), Region: "fra",
			Spec: probes.Spec{URL: deepURL, Expect: expect}})
	}
	for i := range 4 {
		publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 2, CheckID: int64(100 + i), Region: "fra",
			Spec: probes.Spec{URL: ok, Expect: probes.Expect{JSON: map[string]any{"$.status": "ok"}}}})
	}
	start := time.Now()
	runWorker(t, w.Run)
	got := awaitResults(t, b, 8, "eight results")
	took := time.Since(start)
	for _, r := range got {
		res := r.Result
		switch {
		case r.CheckID >= 100 && res.State != probes.StateUp:
			t.Errorf("healthy check %d: got %s %v, want up", r.CheckID, res.State, res.Problems)
		case r.CheckID < 100 && (len(res.Problems) != 1 || res.Problems[0].Code != "json_mismatch"):
			t.Errorf("deep check %d: got %v, want one json_mismatch", r.CheckID, res.Problems)
		}
	}
	if took > 5*time.Second {
		t.Errorf("eight results took %s, want a few seconds at most", took)
	}
	if n := metric(t, reg, "pharos_worker_probes_overdue_total"); n != 0 || w.Healthy() != nil {
		t.Errorf("overdue probes: %v, healthy: %v; want none and healthy", n, w.Healthy())
	}
}
