package worker_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
)

// orderProber records the URLs it probes, in order, taking d each.
type orderProber struct {
	d    time.Duration
	mu   sync.Mutex
	urls []string
}

func (p *orderProber) Run(ctx context.Context, spec probes.Spec) probes.Result {
	p.mu.Lock()
	p.urls = append(p.urls, spec.URL)
	p.mu.Unlock()
	time.Sleep(p.d)
	return probes.Result{URL: spec.URL, State: probes.StateUp, CheckedAt: time.Now().UTC()}
}

func (p *orderProber) order() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.urls...)
}

// TestRunNowBurstDoesNotStarveScheduledJobs: one organisation floods the
// run-now stream with 200 jobs while 10 scheduled rounds of others wait.
// The scheduled jobs get at least every other slot: all 10 run within the
// first 24 probes, where reading run-now first took 200 probes before the
// first scheduled one. A run-now job still goes first on an idle worker.
func TestRunNowBurstDoesNotStarveScheduledJobs(t *testing.T) {
	t.Parallel()
	for _, bc := range buses() {
		for _, concurrency := range []int{1, 4} {
			t.Run(bc.name+"/"+map[int]string{1: "one slot", 4: "four slots"}[concurrency], func(t *testing.T) {
				t.Parallel()
				b, _ := bc.newBus(t, bus.Options{})
				publishJob(t, b, pipeline.RunNowStream("fra"), pipeline.Job{OrgID: 9, CheckID: 1, Region: "fra", RunNow: true,
					Spec: probes.Spec{URL: "https://now.example/first"}})
				for i := range 10 {
					publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: int64(100 + i), CheckID: int64(100 + i), Region: "fra",
						Spec: probes.Spec{URL: "https://scheduled.example/"}})
				}
				for range 199 {
					publishJob(t, b, pipeline.RunNowStream("fra"), pipeline.Job{OrgID: 9, CheckID: 1, Region: "fra", RunNow: true,
						Spec: probes.Spec{URL: "https://now.example/"}})
				}
				pr := &orderProber{d: 2 * time.Millisecond}
				w, err := worker.New(b, worker.Options{Region: "fra", Concurrency: concurrency, Prober: pr, BeaconEvery: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				stop := runWorker(t, w.Run)
				waitFor(t, 10*time.Second, "24 probes", func() bool { return len(pr.order()) >= 24 })
				stop()
				got := pr.order()
				if i := slices.Index(got, "https://now.example/first"); i < 0 || i >= concurrency {
					t.Errorf("the first run-now job was probe %d, want among the first read (%d slots)", i+1, concurrency)
				}
				scheduled := 0
				for _, u := range got[:24] {
					if strings.HasPrefix(u, "https://scheduled.example/") {
						scheduled++
					}
				}
				if scheduled != 10 {
					t.Errorf("scheduled jobs among the first 24 probes: %d, want all 10", scheduled)
				}
			})
		}
	}
}
