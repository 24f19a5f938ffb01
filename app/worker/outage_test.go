package worker_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
)

// Redis becomes unreachable while the worker holds jobs: the probes finish,
// their results wait in memory, and once Redis answers again they are
// published in order, none lost, none twice, and every job acknowledged.
// The outage is a proxy the test cuts, so the shared Redis is untouched.
func TestWorkerBuffersResultsWhileRedisIsUnreachable(t *testing.T) {
	t.Parallel()
	direct := bustest.RedisURL(t)
	// Probe i answers after 400ms + i×60ms, so results come in a known order
	// (wide enough that scheduling delays on a loaded machine cannot swap two).
	target := httpTarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		if i > 0 {
			time.Sleep(400*time.Millisecond + time.Duration(i)*60*time.Millisecond)
		}
	}))
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr()
	u.RawQuery = "dial_timeout=300ms&read_timeout=500ms&write_timeout=500ms"

	opts := bus.Options{Prefix: bustest.Prefix(t)}
	b := bustest.Connect(t, direct, opts)
	wb := bustest.Connect(t, u.String(), opts)
	reg := prometheus.NewRegistry()
	w, err := worker.New(wb, worker.Options{Region: "fra", Concurrency: 32, Prober: loopbackProber(),
		Registerer: reg, BusTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w.Run)

	job := func(check int64, i int) pipeline.Job {
		return pipeline.Job{ID: fmt.Sprintf("job-%d", check), OrgID: 1, CheckID: check, Region: "fra",
			Spec: probes.Spec{URL: target + "?i=" + strconv.Itoa(i), Timeout: probes.Duration(5 * time.Second)}}
	}
	for i := range 5 {
		publishJob(t, b, pipeline.JobsStream("fra"), job(int64(i+1), 0))
	}
	var got []pipeline.Result
	waitFor(t, 10*time.Second, "5 results before the outage", func() bool {
		got = append(got, allResults(t, b)...)
		return len(got) == 5
	})

	for i := range 20 {
		publishJob(t, b, pipeline.JobsStream("fra"), job(int64(100+i), i+1))
	}
	waitFor(t, 5*time.Second, "20 probes in flight", func() bool {
		return metric(t, reg, "pharos_worker_in_flight") == 20
	})
	p.setCut(true)
	waitFor(t, 10*time.Second, "20 results buffered", func() bool {
		return metric(t, reg, "pharos_worker_results_buffered") == 20 && metric(t, reg, "pharos_worker_in_flight") == 0
	})
	time.Sleep(500 * time.Millisecond)
	if n := metric(t, reg, "pharos_worker_publish_errors_total"); n == 0 {
		t.Errorf("publish errors: got 0, want some during the outage")
	}
	p.setCut(false)
	after := map[int][]int64{} // shard → checks after the outage, in stream order
	readAfter := func() []pipeline.Result {
		var out []pipeline.Result
		for shard := range pipeline.Shards {
			for _, r := range results(t, b, pipeline.ResultsStream(shard)) {
				after[shard] = append(after[shard], r.CheckID)
				out = append(out, r)
			}
		}
		return out
	}
	waitFor(t, 15*time.Second, "25 results after recovery", func() bool {
		got = append(got, readAfter()...)
		return len(got) >= 25
	})
	stop()
	got = append(got, readAfter()...)

	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.JobID] {
			t.Errorf("job %s has two results", r.JobID)
		}
		seen[r.JobID] = true
	}
	if len(got) != 25 {
		t.Fatalf("got %d results, want 25", len(got))
	}
	// The buffered results are published in the order they were produced:
	// on each shard's stream, the checks after the outage come in order
	// (check 100+i finished i-th).
	for shard, ids := range after {
		if !slices.IsSorted(ids) {
			t.Errorf("shard %d: checks after the outage published as %v, want in order", shard, ids)
		}
	}
	if _, pending, err := b.Stats(t.Context(), pipeline.JobsStream("fra"), pipeline.ProbersGroup); err != nil || pending != 0 {
		t.Errorf("got %d jobs pending (%v), want 0", pending, err)
	}
	if n := metric(t, reg, "pharos_worker_results_dropped_total"); n != 0 {
		t.Errorf("results dropped: got %v, want 0", n)
	}
}
