package app

import (
	"os"
	"runtime/debug"
)

// gcPercent is the Go collector's GOGC for `pharos run`, the one-binary
// deployment that is meant to fit in 64 MB. Its live heap is small (about
// 5 MB at 1,000 checks: the job templates, the decoded specs, the caches)
// and churns fast (a probe's handshake allocates about 130 KB), so the
// collector's cost is mostly per cycle, and a cycle is due every time the
// heap grows by GOGC % of that live heap. At 1,000 checks every 30 s
// (gctrace over two minutes after the first, 4,000 checks each): GOGC=75
// ran 114 cycles, 0.26 ms of collector CPU per check, peak RSS 55.1 MB;
// 100: 77 cycles, 0.18 ms, 58.1 MB; 150: 50 cycles, 0.11 ms, 62.0 MB.
// The build before the live heap shrank from 7.9 to 5.1 MB collected at
// 75 with 71 cycles, 0.18 ms and 64.7 MB. serve and probe keep the
// runtime's default: under load their collector's share grows with the
// results (README, Memory for CPU).
const gcPercent = 150

// memoryLimit is the soft limit on the Go runtime's memory (heap, stacks,
// its own metadata) for `pharos run`. GOGC alone let the heap's peaks
// drift up over an hour at 1,000 checks every 30 s: RSS 58–60 MB in the
// first ten minutes, 64–65.8 MB at times after 25 (soak.sh, an hour), of
// which 26–28 MB are the binary's own pages. Near the limit the collector
// runs sooner and the scavenger hands idle memory back; below it GOGC
// decides alone. The live heap is about a fifth of it, so the limit
// cannot make the collector run without end (and the runtime caps its
// share of the CPU when it tries).
const memoryLimit = 28 << 20

// tuneGC sets gcPercent unless GOGC is set, and memoryLimit unless
// GOMEMLIMIT is: the runtime reads both from the process's own
// environment, so that is where they are looked up.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
