package aggregate

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// BenchmarkTrickle measures what a steady trickle costs per result by
// batch size: rounds of trickleChecks checks × 3 regions, all up (steady:
// compact samples), shuffled and stored through ProcessBatch in batches of
// `batch` results, one after another. batch=4 is what each of the 8
// shards gathers within BatchWait at 1,000 checks every 30 s; batch=32 is
// what the merger stores at once. The aggregator owns every shard, as the
// one aggregator of `pharos run` does, so its batches read back only what
// the owned cache does not hold. It reports the process's CPU per result
// (cpu-µs/result) and the wall time per result, which on PostgreSQL also
// holds the server's work.
//
//	go test -run '^$' -bench Trickle -benchtime 20x ./app/aggregate/
func BenchmarkTrickle(b *testing.B) {
	for _, backend := range benchBackends {
		for _, batch := range []int{4, 32} {
			b.Run(backend.name+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				benchTrickle(b, backend.open(b), batch)
			})
		}
	}
}

const trickleChecks = 300

func benchTrickle(b *testing.B, s *store.Store, size int) {
	f := newFixture(b, s, trickleChecks)
	f.base = time.Now().UTC().Truncate(time.Hour)
	a := f.aggregator(Options{RefreshEvery: DefaultRefreshEvery})
	for shard := range pipeline.Shards {
		a.owned.own(shard)
	}
	ids := make([]int, trickleChecks)
	for i := range ids {
		ids[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batches := func(round int) [][]pipeline.Result {
		rs := f.round(round, all(probes.StateUp), ids...)
		for i := range rs {
			realistic(&rs[i], f.base.Add(time.Duration(round)*time.Second))
		}
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		return slices.Collect(slices.Chunk(rs, size))
	}
	for _, batch := range batches(0) { // warm: latest rows and certificates exist
		process(b, a, batch)
	}
	var cpu time.Duration
	n := 0
	b.ResetTimer()
	for round := 1; round <= b.N; round++ {
		b.StopTimer()
		bs := batches(round)
		b.StartTimer()
		before := processCPU(b)
		for _, batch := range bs {
			process(b, a, batch)
			n += len(batch)
		}
		cpu += processCPU(b) - before
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/result")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/result")
}
