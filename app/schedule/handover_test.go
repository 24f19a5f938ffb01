package schedule

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/store/storetest"
)

// Two schedulers on Redis: the leader goes away, the other takes over
// within two lock TTLs, and over the handover every check × region round
// is enqueued once: none missing, none twice.
func TestLeaderHandoverOnRedis(t *testing.T) {
	t.Parallel()
	bustest.RedisURL(t)
	for _, tc := range []struct {
		name  string
		crash bool // the leader dies without releasing or saving
		// dupes is how many repeated rounds are tolerated per check ×
		// region: a crash between a tick's publishes and its watermark
		// repeats that tick once (the issue allows one round).
		dupes int
	}{
		{"graceful", false, 0},
		{"crash", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a store and a Redis prefix each
			s := storetest.SQLite(t)
			f := newFixture(t, s)
			var checks []int64
			for i := range 20 {
				c := f.add(t, "check-"+string(rune('a'+i)), "https://x.example/", time.Second, "fra", "iad")
				checks = append(checks, c.ID)
			}
			opts := bus.Options{Prefix: bustest.Prefix(t)}
			observer := bustest.Redis(t, opts)
			r := readJobs(t, observer, pipeline.JobsStream("fra"), pipeline.JobsStream("iad"))

			const ttl = 300 * time.Millisecond
			newScheduler := func(name string) (*Scheduler, *cutBus, *prometheus.Registry) {
				cb := &cutBus{Bus: bustest.Redis(t, opts)}
				reg := prometheus.NewRegistry()
				sch, err := New(s, cb, Options{Name: name, LockTTL: ttl, Tick: 20 * time.Millisecond,
					Refresh: 100 * time.Millisecond, Registerer: reg})
				if err != nil {
					t.Fatal(err)
				}
				return sch, cb, reg
			}
			a, busA, regA := newScheduler("a")
			b, _, regB := newScheduler("b")
			stopA := start(t, a)
			waitFor(t, 2*time.Second, "a to lead", func() bool { return gauge(t, regA, "pharos_scheduler_leader") == 1 })
			// Rounds are owed from when a leads: on a loaded machine that
			// can be a second or more after it started.
			led := time.Now()
			stopB := start(t, b)
			time.Sleep(1500 * time.Millisecond)
			if gauge(t, regB, "pharos_scheduler_leader") != 0 {
				t.Fatal("b leads while a holds the lock")
			}

			killed := time.Now()
			if tc.crash {
				busA.cut.Store(true)
			}
			stopA()
			waitFor(t, 3*time.Second, "b to lead", func() bool { return gauge(t, regB, "pharos_scheduler_leader") == 1 })
			took := time.Since(killed)
			t.Logf("b took over %v after a stopped (lock TTL %v)", took, ttl)
			if took > 2*ttl {
				t.Errorf("b took over after %v, want within two lock TTLs (%v)", took, 2*ttl)
			}
			time.Sleep(2500 * time.Millisecond)
			stopB()
			end := time.Now()
			time.Sleep(200 * time.Millisecond)
			r.stop()

			rounds := map[key]int{}
			for _, j := range r.all() {
				rounds[key{j.CheckID, j.Region, j.Round}]++
			}
			dupes := 0
			for _, id := range checks {
				for _, region := range []string{"fra", "iad"} {
					var got []int64
					for k, n := range rounds {
						if k.check == id && k.region == region {
							got = append(got, k.round)
							if n > 1 {
								dupes++
							}
							if n > 1+tc.dupes {
								t.Errorf("check %d %s round %d enqueued %d times", id, region, k.round, n)
							}
						}
					}
					slices.Sort(got)
					first, _ := pipeline.Round(id, time.Second, led)
					// Rounds due up to 2 s before b stopped — well past the
					// handover — must be there: a loaded machine may leave
					// the newest second unscheduled when b stops.
					last, _ := pipeline.Round(id, time.Second, end.Add(-2*time.Second))
					if len(got) == 0 || got[0] > first || got[len(got)-1] < last {
						t.Errorf("check %d %s: rounds %v do not cover %d..%d", id, region, got, first, last)
						continue
					}
					for i := 1; i < len(got); i++ {
						if got[i] != got[i-1]+1 {
							t.Errorf("check %d %s: round %d missing (rounds %v)", id, region, got[i-1]+1, got)
						}
					}
				}
			}
			t.Logf("%d check × region rounds enqueued, %d repeated", len(rounds), dupes)
		})
	}
}
