package app

import (
	"math"
	"runtime/debug"
	"testing"
)

// keepGCSettings puts the process's collector setting and memory limit
// back after the test: tuneGC sets both, and the package's other tests
// must not run under pharos run's 28 MiB limit. (The tests that call it
// are not parallel.)
func keepGCSettings(t *testing.T) {
	percent := debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1) // a negative limit only reads it
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

// TestTuneGC: without GOGC the long-running commands collect at
// gcPercent; with it, the runtime's reading of GOGC stands.
func TestTuneGC(t *testing.T) {
	keepGCSettings(t)
	debug.SetGCPercent(100)

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
	keepGCSettings(t)
	debug.SetMemoryLimit(unset)

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
