package app

import (
	"os"
	"runtime/debug"
)

// gcPercent is the Go collector's GOGC for `pharos run`, the one-binary
// deployment that is meant to fit in 64 MB. Its live heap is small (about
// 10 MB at 1,000 checks) and churns fast (a probe's handshake allocates
// about 130 KB), and a tick's checks start together, so at the default of
// 100 the heap ran to twice a burst's live data between collections. At
// 1,000 checks every 30 s (deploy/bench/soak.sh, three-minute runs) RSS
// peaked at 65.0-69.9 MB at 100 (1.08-1.28 ms CPU per check, four runs),
// 61.9-63.5 MB at 75 (1.21 ms, two runs) and 59.8-61.2 MB at 50
// (1.28-1.61 ms, four runs: every collection wakes the idle processors
// too). serve and probe keep the runtime's default: under load their
// collector's share grows with the results (README, Memory for CPU).
const gcPercent = 75

// tuneGC sets gcPercent unless GOGC is set: the runtime reads GOGC from
// the process's own environment, so that is where it is looked up.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
