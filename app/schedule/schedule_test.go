package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// The hand-built job encoding must decode to the job pipeline.Marshal
// would have written.
func TestEncodeJob(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &entry{}
	c := store.Check{ID: 12, OrgID: 3, Interval: time.Minute, Regions: []string{"iad", "fra", "iad"},
		Spec: []byte(`{"url":"https://x.example/","expect":{"status":[200]},"timeout":"5s"}`)}
	if err := m.compile(e, c); err != nil {
		t.Fatal(err)
	}
	if len(e.regions) != 2 || e.regions[0].region != "fra" || e.regions[1].region != "iad" {
		t.Fatalf("got regions %+v, want fra and iad once each", e.regions)
	}
	due := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	b, err := encode(&e.regions[1], 77, due, deadline(due, time.Minute), true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pipeline.DecodeJob(b)
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	want := pipeline.Job{ID: got.ID, OrgID: 3, CheckID: 12, Region: "iad", Round: 77, Due: due, Deadline: due.Add(time.Minute),
		RunNow: true, Spec: probes.Spec{URL: "https://x.example/", Expect: probes.Expect{Status: probes.StatusSet{{Lo: 200, Hi: 200}}},
			Timeout: probes.Duration(5 * time.Second)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded job (-want +got):\n%s", diff)
	}
	if len(got.ID) != 36 || got.ID[14] != '7' {
		t.Errorf("got id %q, want a UUIDv7", got.ID)
	}
}

// A plan entry notices each change of the configuration it was built
// from, the spec's too when updated_at stayed (it keeps only the spec's
// digest).
func TestEntrySameConfig(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	c := store.Check{ID: 12, OrgID: 3, Interval: time.Minute, Regions: []string{"iad"}, UpdatedAt: at,
		Spec: []byte(`{"url":"https://x.example/"}`)}
	e := &entry{}
	if err := m.compile(e, c); err != nil {
		t.Fatal(err)
	}
	if !e.sameConfig(c) {
		t.Error("the check it was built from is not the same configuration")
	}
	same := c
	same.Spec = append([]byte(nil), c.Spec...)
	if !e.sameConfig(same) {
		t.Error("an equal spec in other bytes is not the same configuration")
	}
	for name, change := range map[string]func(*store.Check){
		"spec":       func(c *store.Check) { c.Spec = []byte(`{"url":"https://y.example/"}`) },
		"updated_at": func(c *store.Check) { c.UpdatedAt = c.UpdatedAt.Add(time.Second) },
		"interval":   func(c *store.Check) { c.Interval = 2 * time.Minute },
		"org":        func(c *store.Check) { c.OrgID = 4 },
		"regions":    func(c *store.Check) { c.Regions = []string{"iad", "fra"} },
	} {
		changed := c
		change(&changed)
		if e.sameConfig(changed) {
			t.Errorf("%s changed: still the same configuration", name)
		}
	}
}

// Checks of one interval are spread over it, and every round falls on the
// check's phase.
func TestPhaseSpreading(t *testing.T) {
	t.Parallel()
	const n, interval = 6000, time.Minute
	perSecond := make([]int, 60)
	for id := int64(1); id <= n; id++ {
		p := pipeline.Phase(id, interval)
		if p < 0 || p >= interval {
			t.Fatalf("check %d: phase %v outside [0, %v)", id, p, interval)
		}
		perSecond[int(p/time.Second)]++
	}
	for s, k := range perSecond {
		if k < n/60/2 || k > n/60*2 {
			t.Errorf("second %d holds %d of %d checks, want about %d", s, k, n, n/60)
		}
	}
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for id := int64(1); id <= 50; id++ {
		round, due := firstRound(id, interval, now, now)
		if !due.After(now) || due.Sub(now) > interval {
			t.Errorf("check %d: first due %v, want within (now, now+interval]", id, due)
		}
		if off := due.Sub(time.Unix(0, 0)) - pipeline.Phase(id, interval); off%interval != 0 || int64(off/interval) != round {
			t.Errorf("check %d: due %v round %d not on the phase grid", id, due, round)
		}
		// A watermark far behind resumes at the first round still before its deadline.
		_, due = firstRound(id, interval, now.Add(-time.Hour), now)
		if !deadline(due, interval).After(now) || due.After(now) {
			t.Errorf("check %d: resumed at %v, want the latest round whose deadline is ahead", id, due)
		}
	}
}

// key identifies one round of one check in one region.
type key struct {
	check  int64
	region string
	round  int64
}

func TestSchedulerEnqueuesRoundsAndFollowsConfigChanges(t *testing.T) {
	t.Parallel()
	storetest.BackendsInBubble(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		removed := f.add(t, "removed", "https://a.example/", time.Second, "fra", "iad")
		changed := f.add(t, "changed", "https://b.example/", time.Second, "fra")
		b := bus.NewMemory(bus.Options{})
		defer b.Close()
		r := readJobs(t, b, pipeline.JobsStream("fra"), pipeline.JobsStream("iad"))
		sch, err := New(s, b, Options{Tick: 20 * time.Millisecond, Refresh: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, sch)
		time.Sleep(2500 * time.Millisecond)

		changeAt := time.Now()
		f.remove(t, removed)
		changed.Spec = []byte(`{"url":"https://b2.example/"}`)
		changed.Interval = 2 * time.Second
		f.update(t, changed)
		added := f.add(t, "added", "https://c.example/", time.Second, "iad")
		time.Sleep(4500 * time.Millisecond)
		stop()
		r.stop()

		jobs := r.all()
		rounds := map[key]int{}
		var firstAdded, firstChanged time.Time
		for _, j := range jobs {
			k := key{j.CheckID, j.Region, j.Round}
			rounds[k]++
			interval := time.Second
			if j.CheckID == changed.ID && j.Spec.URL == "https://b2.example/" {
				interval = 2 * time.Second
			}
			if _, due := pipeline.Round(j.CheckID, interval, j.Due); !due.Equal(j.Due) {
				t.Errorf("check %d: due %v is not on its phase grid", j.CheckID, j.Due)
			}
			if !j.Deadline.Equal(j.Due.Add(interval)) {
				t.Errorf("check %d: deadline %v, want due + %v", j.CheckID, j.Deadline, interval)
			}
			if lag := j.at.Sub(j.Due); lag < 0 || lag > 500*time.Millisecond {
				t.Errorf("check %d round %d: received %v after due, want within 500ms", j.CheckID, j.Round, lag)
			}
			switch {
			case j.CheckID == removed.ID && j.Due.After(changeAt.Add(time.Second)):
				t.Errorf("removed check still scheduled at %v", j.Due)
			case j.CheckID == changed.ID && j.Spec.URL == "https://b.example/" && j.Due.After(changeAt.Add(time.Second)):
				t.Errorf("changed check scheduled with its old spec at %v", j.Due)
			case j.CheckID == changed.ID && j.Spec.URL == "https://b2.example/" && (firstChanged.IsZero() || j.Due.Before(firstChanged)):
				firstChanged = j.Due
			case j.CheckID == added.ID && (firstAdded.IsZero() || j.Due.Before(firstAdded)):
				firstAdded = j.Due
			}
		}
		for k, n := range rounds {
			if n > 1 {
				t.Errorf("%+v enqueued %d times, want once", k, n)
			}
		}
		// "Within one interval": the refresh (100ms) plus the new interval.
		if firstAdded.IsZero() || firstAdded.Sub(changeAt) > 2200*time.Millisecond {
			t.Errorf("added check first due at %v, want within one interval of the change at %v", firstAdded, changeAt)
		}
		if firstChanged.IsZero() || firstChanged.Sub(changeAt) > 2200*time.Millisecond {
			t.Errorf("changed check's new spec first due at %v, want within one interval of %v", firstChanged, changeAt)
		}
		if n := countRounds(rounds, removed.ID, "iad"); n < 2 {
			t.Errorf("removed check: %d rounds in iad before removal, want at least 2", n)
		}
	})
}

func countRounds(rounds map[key]int, check int64, region string) int {
	n := 0
	for k := range rounds {
		if k.check == check && k.region == region {
			n++
		}
	}
	return n
}

func TestRunNow(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	f := newFixture(t, s)
	c := f.add(t, "api", "https://api.example/", time.Minute, "fra", "iad")
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	sch, err := New(s, b, Options{}) // not running: RunNow needs no leadership
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := sch.RunNow(t.Context(), f.org, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"fra", "iad"} {
		msgs, err := b.Consume(t.Context(), pipeline.RunNowStream(region), "test", "reader", 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Fatalf("%s: got %d run-now jobs, want 1", region, len(msgs))
		}
		j, err := pipeline.DecodeJob(msgs[0].Payload)
		if err != nil {
			t.Fatal(err)
		}
		if !j.RunNow || j.CheckID != c.ID || j.Region != region || j.Due.Before(before.Add(-time.Millisecond)) ||
			!j.Deadline.Equal(j.Due.Add(time.Minute)) || j.Spec.URL != "https://api.example/" {
			t.Errorf("%s: got %+v, want a run-now job due now", region, j)
		}
	}
	if n, _, _ := b.Stats(t.Context(), pipeline.JobsStream("fra"), "test"); n != 0 {
		t.Errorf("got %d scheduled jobs, want run-now jobs only on the run-now stream", n)
	}
	err = sch.RunNow(t.Context(), f.org+1, c.ID)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("run now of another organisation's check: got %v, want ErrNotFound", err)
	}
}
