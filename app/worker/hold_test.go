package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
)

// slowProber takes d per probe and counts the probes started.
type slowProber struct {
	d       time.Duration
	started *atomic.Int64
}

func (p slowProber) Run(ctx context.Context, spec probes.Spec) probes.Result {
	p.started.Add(1)
	select {
	case <-time.After(p.d):
	case <-ctx.Done():
	}
	return probes.Result{URL: spec.URL, State: probes.StateUp, CheckedAt: time.Now().UTC()}
}

// TestSlowProbeIsNotRunTwice: a probe that takes several times the bus's
// ClaimIdle, with an idle second worker in the region: the first worker
// holds its job, so the job runs once and has one result. Without holding
// (HoldEvery longer than the probe) it is reclaimed and run again — what
// the hold is for.
func TestSlowProbeIsNotRunTwice(t *testing.T) {
	t.Parallel()
	const claimIdle = 300 * time.Millisecond
	for _, bc := range buses() {
		for _, tt := range []struct {
			name      string
			holdEvery time.Duration
			runs      int64
		}{{"held", claimIdle / 4, 1}, {"not held", time.Minute, 2}} {
			t.Run(bc.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				b, peer := bc.newBus(t, bus.Options{ClaimIdle: claimIdle})
				var started atomic.Int64
				pr := slowProber{d: 4 * claimIdle, started: &started}
				publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 1, CheckID: 7, Region: "fra",
					Spec: probes.Spec{URL: "https://slow.example/"}})
				first, err := worker.New(b, worker.Options{Region: "fra", Consumer: "first", Prober: pr, HoldEvery: tt.holdEvery,
					BeaconEvery: time.Minute, Block: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				stopFirst := runWorker(t, first.Run)
				waitFor(t, 5*time.Second, "the first probe started", func() bool { return started.Load() == 1 })
				second, err := worker.New(peer(), worker.Options{Region: "fra", Consumer: "second", Prober: pr,
					HoldEvery: tt.holdEvery, BeaconEvery: time.Minute, Block: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				stopSecond := runWorker(t, second.Run)
				var got []pipeline.Result
				waitFor(t, 10*time.Second, "the job's results", func() bool {
					got = append(got, results(t, b, pipeline.ResultsStream(pipeline.Shard(7)))...)
					return int64(len(got)) >= tt.runs && started.Load() >= tt.runs
				})
				time.Sleep(2 * claimIdle) // a late second run would show now
				got = append(got, results(t, b, pipeline.ResultsStream(pipeline.Shard(7)))...)
				stopFirst()
				stopSecond()
				held := tt.runs == 1
				if n := started.Load(); (held && n != 1) || (!held && n < 2) {
					t.Errorf("probes run: %d, want %s", n, map[bool]string{true: "1", false: "at least 2"}[held])
				}
				if n := len(got); (held && n != 1) || (!held && n < 2) {
					t.Errorf("results: %d, want %s", n, map[bool]string{true: "1", false: "at least 2"}[held])
				}
			})
		}
	}
}
