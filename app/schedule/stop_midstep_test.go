package schedule

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/store/storetest"
)

// stopOnPublish stops the scheduler (cancels its Run) as the after-th job
// is published: a graceful stop in the middle of a tick's publishing.
type stopOnPublish struct {
	Bus
	after int64
	n     atomic.Int64
	stop  context.CancelFunc
}

func (s *stopOnPublish) Publish(ctx context.Context, stream string, p []byte) (string, error) {
	if stream != watermarkStream && s.n.Add(1) == s.after {
		s.stop()
	}
	return s.Bus.Publish(ctx, stream, p)
}

// TestStopMidStepRepeatsNoRound: a leader stopped while it publishes a
// tick's jobs finishes that tick before it records the watermark, so the
// next leader neither repeats a round nor misses one.
func TestStopMidStepRepeatsNoRound(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	f := newFixture(t, s)
	const n = 20
	for i := range n {
		f.add(t, fmt.Sprintf("check-%d", i), "https://x.example/", time.Second, "fra")
	}
	// Redis, whose publishes fail once their context ends (the in-process
	// bus's never do).
	b := bustest.Redis(t, bus.Options{Prefix: bustest.Prefix(t)})
	r := readJobs(t, b, pipeline.JobsStream("fra"))

	ctx, cancel := context.WithCancel(context.Background())
	first := &stopOnPublish{Bus: b, after: 3, stop: cancel}
	// A long tick: each step publishes about half the checks at once.
	a, err := New(s, first, Options{Name: "a", Tick: 500 * time.Millisecond, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx); err != nil {
		t.Fatalf("the first leader's Run: %v", err)
	}
	second, err := New(s, b, Options{Name: "b", Tick: 20 * time.Millisecond, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, second)
	waitFor(t, 10*time.Second, "a round of every check", func() bool {
		checks := map[int64]bool{}
		for _, j := range r.all() {
			checks[j.CheckID] = true
		}
		return len(checks) == n
	})
	time.Sleep(200 * time.Millisecond) // a repeat would follow at the second leader's first tick
	stop()
	r.stop()
	rounds := map[int64][]int64{}
	for _, j := range r.all() {
		rounds[j.CheckID] = append(rounds[j.CheckID], j.Round)
	}
	for id, list := range rounds {
		slices.Sort(list)
		for i := 1; i < len(list); i++ {
			switch {
			case list[i] == list[i-1]:
				t.Errorf("check %d round %d enqueued twice", id, list[i])
			case list[i] != list[i-1]+1:
				t.Errorf("check %d: rounds %d to %d missed", id, list[i-1]+1, list[i]-1)
			}
		}
	}
}
