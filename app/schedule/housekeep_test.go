package schedule

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/store/storetest"
)

// The leader removes a dead worker's consumer once a live worker has
// reclaimed its jobs and it has been idle past ConsumerIdle, keeps live
// consumers and consumers holding jobs, and reports each region's job
// backlog.
func TestLeaderPrunesDeadConsumersAndSamplesJobStreams(t *testing.T) {
	t.Parallel()
	const claimIdle = 300 * time.Millisecond
	for _, tc := range []struct {
		name   string
		newBus func(t *testing.T) Bus
		bubble bool // run in a testing/synctest bubble (see backends)
	}{
		{"memory", func(t *testing.T) Bus {
			b := bus.NewMemory(bus.Options{ClaimIdle: claimIdle})
			t.Cleanup(func() { b.Close() })
			return b
		}, true},
		{"redis", func(t *testing.T) Bus {
			return bustest.Redis(t, bus.Options{ClaimIdle: claimIdle})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.bubble {
				synctest.Test(t, func(t *testing.T) { testPruning(t, tc.newBus(t)) })
				return
			}
			testPruning(t, tc.newBus(t))
		})
	}
}

// testPruning is TestLeaderPrunesDeadConsumersAndSamplesJobStreams on b.
func testPruning(t *testing.T, b Bus) {
	s := storetest.SQLite(t)
	f := newFixture(t, s)
	// An hourly check: the scheduler adds at most one job per region to
	// the known backlog (counted by its metric).
	f.add(t, "api", "https://api.example/", time.Hour, "fra", "sin")
	ctx := t.Context()
	fra, sin, sinNow := pipeline.JobsStream("fra"), pipeline.JobsStream("sin"), pipeline.RunNowStream("sin")

	// A worker of fra took two jobs and died.
	publishN(t, b, fra, 3)
	takeJobs(t, b, fra, "dead", 2)
	// A worker of sin holds one job (it is slow, or dead with nobody to
	// reclaim it): it must stay.
	publishN(t, b, sin, 3)
	publishN(t, b, sinNow, 2)
	takeJobs(t, b, sin, "stuck", 1)
	// A live worker of fra gets jobs all the time and acks them; it
	// reclaims the dead one's jobs after ClaimIdle.
	stopLive := liveWorker(t, b, fra, "live")

	logs := &logRecorder{}
	reg := prometheus.NewRegistry()
	sch, err := New(s, b, Options{Tick: 20 * time.Millisecond, LockTTL: time.Second, Registerer: reg,
		Logger:       slogRecorder(logs),
		ConsumerIdle: 700 * time.Millisecond, PruneInterval: 50 * time.Millisecond,
		StatsInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, sch)

	waitFor(t, 5*time.Second, "the dead consumer pruned", func() bool {
		return slices.Contains(logs.pruned(fra), "dead")
	})
	waitFor(t, 3*time.Second, "the job gauges", func() bool {
		return metric(t, reg, "pharos_jobs_stream_length", "sin") == 5+metric(t, reg, "pharos_scheduler_jobs_scheduled_total", "sin") &&
			metric(t, reg, "pharos_jobs_stream_pending", "sin") == 1
	})
	time.Sleep(800 * time.Millisecond) // more than ConsumerIdle
	if got := logs.pruned(fra); !slices.Equal(got, []string{"dead"}) {
		t.Errorf("pruned from %s: got %v, want only the dead consumer", fra, got)
	}
	if got := logs.pruned(sin); len(got) != 0 {
		t.Errorf("pruned from %s: got %v, want nothing (stuck holds a job)", sin, got)
	}
	if _, pending, err := b.Stats(ctx, sin, pipeline.ProbersGroup); err != nil || pending != 1 {
		t.Errorf("%s pending: got %d (%v), want the stuck job", sin, pending, err)
	}

	// Once the live worker stops, it goes too.
	stopLive()
	waitFor(t, 5*time.Second, "the stopped consumer pruned", func() bool {
		return slices.Contains(logs.pruned(fra), "live")
	})
	if got := metric(t, reg, "pharos_consumers_pruned_total", "jobs"); got != 2 {
		t.Errorf("pharos_consumers_pruned_total{stream_kind=jobs}: got %v, want 2", got)
	}
	// A scheduler that no longer leads leaves the gauges to the leader.
	stop()
	if got := metric(t, reg, "pharos_jobs_stream_length", "sin"); got != 0 {
		t.Errorf("pharos_jobs_stream_length{region=sin} after the term: got %v, want no series", got)
	}
}

func publishN(t *testing.T, b bus.Streams, stream string, n int) {
	t.Helper()
	for range n {
		if _, err := b.Publish(t.Context(), stream, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
}

// takeJobs consumes n entries as consumer and never acks them.
func takeJobs(t *testing.T, b bus.Streams, stream, consumer string, n int) {
	t.Helper()
	msgs, err := b.Consume(t.Context(), stream, pipeline.ProbersGroup, consumer, n, 0)
	if err != nil || len(msgs) != n {
		t.Fatalf("%s takes from %s: got %d entries (%v), want %d", consumer, stream, len(msgs), err, n)
	}
}

// liveWorker publishes a job to stream every 50ms and consumes and acks
// the stream's jobs as consumer, until the returned stop. (Redis before 7.2
// counts a consumer idle from the last entry it received, so a live worker
// must receive some.) Stop ends the loop between rounds, never inside one:
// a round cut between its read and its acks would leave the consumer
// holding entries, and a consumer holding entries is never pruned.
func liveWorker(t *testing.T, b bus.Streams, stream, consumer string) (stop func()) {
	stopped, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for pipeline.Sleep(stopped, 50*time.Millisecond) {
			ctx, cancelRound := context.WithTimeout(context.Background(), 5*time.Second)
			err := liveRound(ctx, b, stream, consumer)
			cancelRound()
			if err != nil {
				t.Errorf("%s: %v", consumer, err)
				return
			}
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// liveRound is one round of liveWorker: publish a job, take what there is,
// ack it all.
func liveRound(ctx context.Context, b bus.Streams, stream, consumer string) error {
	if _, err := b.Publish(ctx, stream, []byte(`{}`)); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	msgs, err := b.Consume(ctx, stream, pipeline.ProbersGroup, consumer, 10, 0)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	for _, m := range msgs {
		if err := b.Ack(ctx, stream, pipeline.ProbersGroup, m.ID); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
	}
	return nil
}

// metric is the value of name's series whose one label is value ("": the
// series without labels).
func metric(t *testing.T, reg *prometheus.Registry, name, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if l := m.GetLabel(); len(l) == 1 && l[0].GetValue() == value || len(l) == 0 && value == "" {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
