package schedule

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/store"
)

// fakeCatalog serves a fixed list of checks.
type fakeCatalog struct{ checks []store.Check }

func (f *fakeCatalog) EnabledChecks(context.Context) ([]store.Check, error) { return f.checks, nil }
func (f *fakeCatalog) ChecksVersion(context.Context) (string, error)        { return "1", nil }
func (f *fakeCatalog) Check(context.Context, int64, int64) (store.Check, error) {
	return store.Check{}, store.ErrNotFound
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchInterval schedules 100,000 checks × 3 regions at 60s over one full
// simulated interval (ticks of 100ms) and reports jobs/s of wall time and
// the CPU seconds the process used per 100,000 jobs.
//
//	go test ./app/schedule -run '^$' -bench Interval -benchtime 1x
func benchInterval(b *testing.B, bs Bus) {
	const checks = 100_000
	spec := json.RawMessage(`{"url":"https://api.example.org/health","expect":{"status":[200],"body_contains":["ok"]},"tls":{"warn_days":21}}`)
	cat := &fakeCatalog{}
	for i := range checks {
		cat.checks = append(cat.checks, store.Check{ID: int64(i + 1), OrgID: 1, Spec: spec,
			Regions: []string{"fra", "iad", "sin"}, Interval: time.Minute})
	}
	s, err := New(cat, bs, Options{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		t := newTerm(s, nil, time.Now())
		t0 := time.Now()
		t.until = t0
		t.apply(cat.checks, t0)
		cpu0, wall0 := cpuTime(), time.Now()
		jobs := 0
		for now := t0.Add(100 * time.Millisecond); !now.After(t0.Add(time.Minute)); now = now.Add(100 * time.Millisecond) {
			jobs += t.step(ctx, now)
		}
		wall, cpu := time.Since(wall0), cpuTime()-cpu0
		if jobs != 3*checks {
			b.Fatalf("enqueued %d jobs, want %d", jobs, 3*checks)
		}
		b.ReportMetric(float64(jobs)/wall.Seconds(), "jobs/s")
		b.ReportMetric(cpu.Seconds()/float64(jobs)*100_000, "cpu-s/100k-jobs")
		b.ReportMetric(wall.Seconds(), "s/interval")
	}
}

func BenchmarkIntervalMemory(b *testing.B) {
	bs := bus.NewMemory(bus.Options{MaxLen: 400_000})
	defer bs.Close()
	benchInterval(b, bs)
}

func BenchmarkIntervalRedis(b *testing.B) {
	benchInterval(b, bustest.Redis(b, bus.Options{}))
}
