package app

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC the long-running commands collect at
// gcPercent; with it, the runtime's reading of GOGC stands. (Not
// parallel: it changes the process's collector setting, and puts it back.)
func TestTuneGC(t *testing.T) {
	was := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(was) })

	t.Setenv("GOGC", "")
	tuneGC()
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC: GC percent %d, want %d", got, gcPercent)
	}
	t.Setenv("GOGC", "100")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: GC percent %d, want it left at 100", got)
	}
}

// TestTuneGCMemoryLimit: pharos run sets its soft memory limit unless
// GOMEMLIMIT is set.
func TestTuneGCMemoryLimit(t *testing.T) {
	const unset = math.MaxInt64 // the runtime's "no limit"
	was := debug.SetMemoryLimit(unset)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })

	t.Setenv("GOMEMLIMIT", "")
	tuneGC()
	if got := debug.SetMemoryLimit(unset); got != memoryLimit {
		t.Errorf("without GOMEMLIMIT: limit %d, want %d", got, memoryLimit)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	tuneGC()
	if got := debug.SetMemoryLimit(unset); got != unset {
		t.Errorf("with GOMEMLIMIT set: limit %d, want it left alone (%d)", got, int64(unset))
	}
}
