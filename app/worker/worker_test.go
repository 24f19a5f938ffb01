package worker_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
	"pharos/probes/probetest"
)

// httpTarget serves h on loopback and returns its URL.
func httpTarget(t *testing.T, h http.Handler) string {
	t.Helper()
	ln := probetest.Listeners(t, "127.0.0.1")[0]
	probetest.ServeHTTP(t, ln, h)
	return "http://127.0.0.1:" + probetest.Port(ln) + "/"
}

func TestWorkerPublishesResultToShard(t *testing.T) {
	t.Parallel()
	root := probetest.NewRoot(probetest.CertOptions{CommonName: "Test Root"})
	ln := probetest.Listeners(t, "127.0.0.1")[0]
	probetest.ServeTLS(t, ln, root.Leaf(probetest.CertOptions{CommonName: "localhost", DNSNames: []string{"localhost"}}),
		probetest.Text(200, "text/plain", "all good"), nil)
	tlsURL := "https://localhost:" + probetest.Port(ln) + "/"
	httpURL := httpTarget(t, probetest.Text(200, "text/plain", "ok"))
	prober := probes.New(probes.Options{AllowPrivate: true, Roots: probetest.Pool(root)})

	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			b, _ := bc.newBus(t, bus.Options{})
			reg := prometheus.NewRegistry()
			w, err := worker.New(b, worker.Options{Region: "fra", Prober: prober, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			specs := map[int64]string{101: tlsURL, 102: httpURL, 103: tlsURL}
			for id, u := range specs {
				publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 7, CheckID: id, Region: "fra", Round: 42,
					Spec: probes.Spec{URL: u, Expect: probes.Expect{BodyContains: []string{"o"}}}})
			}
			stop := runWorker(t, w.Run)
			got := map[int64]pipeline.Result{}
			waitFor(t, 10*time.Second, "three results", func() bool {
				for shard := range pipeline.Shards {
					for _, r := range results(t, b, pipeline.ResultsStream(shard)) {
						if want := pipeline.Shard(r.CheckID); shard != want {
							t.Errorf("check %d: result on shard %d, want %d", r.CheckID, shard, want)
						}
						got[r.CheckID] = r
					}
				}
				return len(got) == 3
			})
			stop()
			for id, r := range got {
				if r.Result.State != probes.StateUp || r.OrgID != 7 || r.Round != 42 || r.Region != "fra" ||
					r.Worker != w.Consumer() || r.ID == "" || r.Produced.IsZero() || r.Result.URL != specs[id] {
					t.Errorf("check %d: got %+v, want an up result of org 7, round 42, from %s", id, r, w.Consumer())
				}
			}
			if _, pending, err := b.Stats(t.Context(), pipeline.JobsStream("fra"), pipeline.ProbersGroup); err != nil || pending != 0 {
				t.Errorf("got %d jobs pending (%v), want 0: every job acknowledged", pending, err)
			}
			if n := metric(t, reg, "pharos_worker_jobs_run_total"); n != 3 {
				t.Errorf("jobs run: got %v, want 3", n)
			}
		})
	}
}

func TestWorkerDropsLateJobs(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	u := httpTarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			hits.Store(0)
			b, _ := bc.newBus(t, bus.Options{})
			reg := prometheus.NewRegistry()
			w, err := worker.New(b, worker.Options{Region: "fra", Prober: loopbackProber(), Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-time.Minute)
			publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 1, CheckID: 5, Region: "fra",
				Spec: probes.Spec{URL: u}, Due: past.Add(-time.Minute), Deadline: past})
			stop := runWorker(t, w.Run)
			waitFor(t, 5*time.Second, "the late job to be dropped", func() bool {
				return metric(t, reg, "pharos_jobs_dropped_late_total") == 1
			})
			stop()
			if n := hits.Load(); n != 0 {
				t.Errorf("target hit %d times, want 0: a late job is never run", n)
			}
			if rs := allResults(t, b); len(rs) != 0 {
				t.Errorf("got %d results, want none", len(rs))
			}
			if _, pending, _ := b.Stats(t.Context(), pipeline.JobsStream("fra"), pipeline.ProbersGroup); pending != 0 {
				t.Errorf("got %d pending, want 0: the dropped job is acknowledged", pending)
			}
		})
	}
}

func TestWorkerBoundsConcurrency(t *testing.T) {
	t.Parallel()
	var cur, peak atomic.Int64
	u := httpTarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(150 * time.Millisecond)
	}))
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: 3, Prober: loopbackProber()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 1, CheckID: int64(i + 1), Region: "fra", Spec: probes.Spec{URL: u}})
	}
	stop := runWorker(t, w.Run)
	awaitResults(t, b, 12, "12 results")
	stop()
	if p := peak.Load(); p != 3 {
		t.Errorf("peak concurrent probes: got %d, want 3", p)
	}
}

// A worker killed mid-job never acknowledges it; after the claim timeout
// another worker of the region reclaims it, runs it and publishes the one
// result.
func TestWorkerJobOfDeadWorkerIsReclaimed(t *testing.T) {
	t.Parallel()
	u := httpTarget(t, probetest.Text(200, "text/plain", "ok"))
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			b, peer := bc.newBus(t, bus.Options{ClaimIdle: 300 * time.Millisecond})
			dying := &cutBus{Streams: peer()}
			started, release := make(chan struct{}), make(chan struct{})
			defer close(release)
			stuck := proberFunc(func(ctx context.Context, spec probes.Spec) probes.Result {
				close(started)
				<-release
				return probes.Result{URL: spec.URL, State: probes.StateUp}
			})
			a, err := worker.New(dying, worker.Options{Region: "fra", Consumer: "a", Prober: stuck, DrainTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{ID: "job-1", OrgID: 1, CheckID: 9, Region: "fra", Spec: probes.Spec{URL: u}})
			ctxA, killA := context.WithCancel(context.Background())
			doneA := make(chan struct{})
			go func() { defer close(doneA); a.Run(ctxA) }()
			<-started
			dying.cut.Store(true) // the worker's connection dies with it
			killA()

			w, err := worker.New(b, worker.Options{Region: "fra", Consumer: "b", Prober: loopbackProber()})
			if err != nil {
				t.Fatal(err)
			}
			stop := runWorker(t, w.Run)
			var got []pipeline.Result
			waitFor(t, 10*time.Second, "the reclaimed job's result", func() bool {
				got = append(got, allResults(t, b)...)
				return len(got) > 0
			})
			release <- struct{}{} // worker a's probe ends; it cannot publish
			<-doneA
			stop()
			got = append(got, allResults(t, b)...)
			if len(got) != 1 || got[0].JobID != "job-1" || got[0].Worker != "b" || got[0].Result.State != probes.StateUp {
				t.Errorf("got %+v, want one up result of job-1 from worker b", got)
			}
		})
	}
}

type proberFunc func(ctx context.Context, spec probes.Spec) probes.Result

func (f proberFunc) Run(ctx context.Context, spec probes.Spec) probes.Result { return f(ctx, spec) }

// A region whose network refuses everything: every result is down with
// connection_failed (the lead's region-outage test builds workers so).
func TestWorkerWithRefusingDialer(t *testing.T) {
	t.Parallel()
	u := httpTarget(t, probetest.Text(200, "text/plain", "ok"))
	refuse := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errRefused}
	}
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	w, err := worker.New(b, worker.Options{Region: "sin",
		Prober: probes.New(probes.Options{AllowPrivate: true, Dial: refuse})})
	if err != nil {
		t.Fatal(err)
	}
	publishJob(t, b, pipeline.JobsStream("sin"), pipeline.Job{OrgID: 1, CheckID: 3, Region: "sin", Spec: probes.Spec{URL: u}})
	stop := runWorker(t, w.Run)
	got := awaitResults(t, b, 1, "a result")
	stop()
	r := got[0].Result
	if r.State != probes.StateDown || len(r.Problems) == 0 || r.Problems[0].Code != "connection_failed" {
		t.Errorf("got %s %+v, want down with connection_failed", r.State, r.Problems)
	}
}

var errRefused = refusedError{}

type refusedError struct{}

func (refusedError) Error() string { return "connection refused (test region outage)" }

// Run-now jobs are read before scheduled ones.
func TestWorkerPrefersRunNowJobs(t *testing.T) {
	t.Parallel()
	u := httpTarget(t, probetest.Text(200, "text/plain", "ok"))
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	for i := range 30 {
		publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 1, CheckID: int64(100 + i), Region: "fra", Spec: probes.Spec{URL: u}})
	}
	publishJob(t, b, pipeline.RunNowStream("fra"), pipeline.Job{OrgID: 1, CheckID: 1, Region: "fra", RunNow: true, Spec: probes.Spec{URL: u}})
	w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: 1, Prober: loopbackProber()})
	if err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w.Run)
	got := awaitResults(t, b, 31, "31 results")
	stop()
	if got[0].CheckID != 1 {
		t.Errorf("first result is of check %d, want the run-now check 1", got[0].CheckID)
	}
}
