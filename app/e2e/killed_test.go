package e2e

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
)

// TestWorkerKilledMidJobIsReclaimed runs two probe workers of region fra
// against a target that takes a second to answer. Whichever worker starts
// the first job is killed while the probe is in flight: its Redis
// connection is cut (so its result can never be published, as when the
// process dies) and it is stopped. The job, left pending in the consumer
// group, is reclaimed by the other worker once it has been idle for
// ClaimIdle, run there before its deadline, and its result stored once;
// every later round is run by the survivor, and no round is lost or stored
// twice.
func TestWorkerKilledMidJobIsReclaimed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const (
		interval  = 6 * time.Second
		probeTime = time.Second
		claimIdle = 2 * time.Second // longer than a probe: a live worker never loses its job
	)
	slow := h.target("127.0.0.6", slowly(probeTime, ok()))
	check := h.addCheck("slow", slow, interval, []string{"fra"})

	led := h.ledger([]string{"fra"})
	stopAggregator := h.startAggregator()
	started := make(chan string, 16)
	workers := map[string]*workerRun{}
	for _, name := range []string{"fra-a", "fra-b"} {
		pr := notifying{Prober: realProber(), name: name, started: started}
		workers[name] = h.startWorker("fra", name, pr, bus.Options{ClaimIdle: claimIdle})
	}
	_, stopScheduler := h.startScheduler()

	var victim, survivor *workerRun
	select {
	case name := <-started:
		victim = workers[name]
		for other, w := range workers {
			if other != name {
				survivor = w
			}
		}
	case <-time.After(interval + 10*time.Second):
		t.Fatal("no worker started a probe within an interval")
	}
	killedAt := time.Now()
	if err := victim.bus.Close(); err != nil {
		t.Fatalf("cut the victim off: %v", err)
	}
	victim.stop()

	// The first round's job: the one the victim held.
	var first pipeline.Job
	waitFor(t, interval+10*time.Second, "the victim's job run again and stored", func() bool {
		led.collect()
		if len(led.jobs) == 0 {
			return false
		}
		jobs := make([]pipeline.Job, 0, len(led.jobs))
		for _, j := range led.jobs {
			jobs = append(jobs, j)
		}
		first = slices.MinFunc(jobs, func(a, b pipeline.Job) int { return int(a.Round - b.Round) })
		return len(led.byJob[first.ID]) > 0 && led.unsettled() == ""
	})
	var res pipeline.Result
	for id := range led.byJob[first.ID] {
		res = led.results[id]
	}
	if res.Worker != survivor.w.Consumer() {
		t.Errorf("the killed job's result came from %q, want the survivor %q", res.Worker, survivor.w.Consumer())
	}
	if res.Result.State != probes.StateUp {
		t.Errorf("the reclaimed probe reported %s (%v), want up: it must really have run", res.Result.State, res.Result.Problems)
	}
	// Reclaimed once idle for ClaimIdle, then probed for probeTime.
	if took := res.Produced.Sub(killedAt); took < claimIdle {
		t.Errorf("the survivor's result came %v after the kill, want at least ClaimIdle (%v): reclaimed too early", took, claimIdle)
	}

	// One more round, run by the survivor alone.
	waitFor(t, interval+10*time.Second, "a later round stored", func() bool {
		led.collect()
		return len(led.jobs) >= 2 && led.unsettled() == ""
	})
	stopScheduler()
	led.settle(15 * time.Second)
	survivor.stop()
	stopAggregator()
	led.verify(t)

	if n := metric(t, victim.reg, "pharos_worker_results_published_total"); n != 0 {
		t.Errorf("the victim published %v results, want 0 (it was cut off mid-job)", n)
	}
	if n := metric(t, survivor.reg, "pharos_jobs_dropped_late_total"); n != 0 {
		t.Errorf("the survivor dropped %v jobs as late, want 0", n)
	}
	b := h.bus(bus.Options{})
	ctx := context.Background()
	if _, pending, err := b.Stats(ctx, pipeline.JobsStream("fra"), pipeline.ProbersGroup); err != nil || pending != 0 {
		t.Errorf("jobs still pending in the probers group: %d (%v), want 0", pending, err)
	}
	if n, _, err := b.Stats(ctx, bus.DeadLetterStream(pipeline.JobsStream("fra")), pipeline.ProbersGroup); err != nil || n != 0 {
		t.Errorf("dead-lettered jobs: %d (%v), want 0", n, err)
	}
	stored := 0 // rows and steady samples
	for _, row := range led.stored() {
		if row.checkID == check.ID {
			stored++
		}
	}
	if n := stored; n != len(led.jobs) {
		t.Errorf("got %d stored results for %d rounds, want one each", n, len(led.jobs))
	}
	t.Logf("job %s (round %d) killed on %s, reclaimed and run by %s, result %v after the kill; %d rounds stored once each",
		first.ID, first.Round, victim.w.Consumer(), res.Worker, res.Produced.Sub(killedAt).Round(time.Millisecond), len(led.jobs))
}

// notifying is a prober that reports the name of its worker on started
// every time a probe begins.
type notifying struct {
	worker.Prober
	name    string
	started chan<- string
}

func (n notifying) Run(ctx context.Context, spec probes.Spec) probes.Result {
	select {
	case n.started <- n.name:
	default:
	}
	return n.Prober.Run(ctx, spec)
}

// slowly delays every answer of h by d (or until the client gives up).
func slowly(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}
