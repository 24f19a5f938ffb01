package schedule

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store/storetest"
)

func TestTickFor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		perSecond float64
		shortest  time.Duration
		want      time.Duration
	}{
		{"no checks", 0, 0, time.Second},
		{"1,000 checks every 30s", 1000.0 / 30, 30 * time.Second, 960 * time.Millisecond},
		{"3,000 checks every 30s", 100, 30 * time.Second, 320 * time.Millisecond},
		{"10,000 checks every 30s: never under 100ms", 10000.0 / 30, 30 * time.Second, 100 * time.Millisecond},
		{"one check every hour: never over 1s", 1.0 / 3600, time.Hour, time.Second},
		{"a 5s interval", 2, 5 * time.Second, 5 * time.Second / 30},
		{"a 1s interval: never under 100ms", 2, time.Second, 100 * time.Millisecond},
	} {
		if got := TickFor(c.perSecond, c.shortest); got != c.want {
			t.Errorf("%s: TickFor(%v, %v) = %v, want %v", c.name, c.perSecond, c.shortest, got, c.want)
		}
	}
}

// The rate that counts is the busiest region's: 1,000 checks every 30 s
// spread over two regions start half as many jobs in each as in one.
func TestPlanTickCountsTheBusiestRegion(t *testing.T) {
	t.Parallel()
	plan := func(opts Options, regionsOf func(i int) []string) time.Duration {
		tm := &term{s: &Scheduler{opts: opts}, checks: map[int64]*entry{}}
		for i := range 2000 {
			e := &entry{id: int64(i), interval: 30 * time.Second}
			for _, r := range regionsOf(i) {
				e.regions = append(e.regions, target{region: r})
			}
			tm.checks[e.id] = e
		}
		return tm.planTick()
	}
	if got, want := plan(Options{}, func(int) []string { return []string{"fra"} }), 480*time.Millisecond; got != want {
		t.Errorf("2,000 checks in one region: tick %v, want %v", got, want)
	}
	if got, want := plan(Options{}, func(i int) []string { return []string{[]string{"fra", "iad"}[i%2]} }), 960*time.Millisecond; got != want {
		t.Errorf("1,000 checks in each of two regions: tick %v, want %v", got, want)
	}
	if got, want := plan(Options{}, func(int) []string { return []string{"fra", "iad"} }), 480*time.Millisecond; got != want {
		t.Errorf("2,000 checks in both of two regions: tick %v, want %v", got, want)
	}
	if got, want := plan(Options{Tick: 20 * time.Millisecond}, func(int) []string { return []string{"fra"} }), 20*time.Millisecond; got != want {
		t.Errorf("Options.Tick set: tick %v, want it kept (%v)", got, want)
	}
}

// The tick follows the catalogue: a check with a short interval shortens
// it at the next reload, and every job is still enqueued within a tick of
// its due time. (The scheduler's own timing, in a bubble: on SQLite only,
// since PostgreSQL's connections cannot join one.)
func TestTickFollowsThePlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := storetest.SQLite(t)
		f := newFixture(t, s)
		slow := f.add(t, "slow", "https://a.example/", 30*time.Second, "fra")
		b := bus.NewMemory(bus.Options{})
		defer b.Close()
		r := readJobs(t, b, pipeline.JobsStream("fra"))
		reg := prometheus.NewRegistry()
		sch, err := New(s, b, Options{Refresh: 100 * time.Millisecond, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, sch)
		tick := func() time.Duration {
			return time.Duration(metric(t, reg, "pharos_scheduler_tick_seconds", "") * float64(time.Second))
		}
		waitFor(t, time.Second, "the first plan", func() bool { return tick() != 0 })
		if got := tick(); got != time.Second {
			t.Errorf("one check every 30s: tick %v, want 1s", got)
		}
		time.Sleep(61 * time.Second)
		fast := f.add(t, "fast", "https://b.example/", 6*time.Second, "fra")
		waitFor(t, time.Second, "the tick to follow the new check", func() bool { return tick() == 200*time.Millisecond })
		time.Sleep(30 * time.Second)
		stop()
		r.stop()

		rounds := map[int64]int{}
		for _, j := range r.all() {
			rounds[j.CheckID]++
			limit := time.Second
			if j.CheckID == fast.ID {
				limit = 200 * time.Millisecond
			}
			if lag := j.at.Sub(j.Due); lag < 0 || lag > limit {
				t.Errorf("check %d round %d: received %v after due, want within its tick (%v)", j.CheckID, j.Round, lag, limit)
			}
		}
		if got := rounds[slow.ID]; got < 3 || got > 4 {
			t.Errorf("slow check: %d rounds in 91s at 30s, want 3 or 4", got)
		}
		if got := rounds[fast.ID]; got < 4 || got > 6 {
			t.Errorf("fast check: %d rounds in 30s at 6s, want 5 (4 to 6)", got)
		}
	})
}
