package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
)

// blockingProber never returns until released, whatever its context says.
type blockingProber chan struct{}

func (b blockingProber) Run(ctx context.Context, spec probes.Spec) probes.Result {
	<-b
	return probes.Result{URL: spec.URL, State: probes.StateUp}
}

// A probe worker whose slots are mostly held by probes stuck past their
// deadline answers /healthz 503, so that the platform restarts it.
func TestProbeHealthzFailsWhenSlotsAreStuck(t *testing.T) {
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	release := make(blockingProber)
	defer close(release)
	w, err := worker.New(b, worker.Options{Region: "fra", Shards: 1, Concurrency: 2, Prober: release,
		ProbeGrace: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := workerHealth(w)
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusOK {
		t.Fatalf("idle worker: got %d, want 200", rec.Code)
	}
	for i := range 2 {
		job := pipeline.Job{ID: "job-" + string(rune('a'+i)), OrgID: 1, CheckID: int64(i + 1), Region: "fra",
			Due: time.Now(), Deadline: time.Now().Add(time.Minute),
			Spec: probes.Spec{URL: "https://example.org/", Timeout: probes.Duration(100 * time.Millisecond)}}
		payload, err := pipeline.Marshal(job)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Publish(t.Context(), pipeline.JobsStream("fra"), payload); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(10 * time.Second)
	rec := get()
	for rec.Code == http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		rec = get()
	}
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "2 probes still running past their deadline") {
		t.Errorf("stuck worker: got %d %q, want 503 naming the stuck probes", rec.Code, rec.Body.String())
	}
}
