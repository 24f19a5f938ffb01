package worker

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestRunnersReuseGoroutines: functions run one after another share one
// goroutine; functions running at once get one each; a runner idle for
// runnerIdle ends, and close ends the idle ones at once.
func TestRunnersReuseGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRunners()
		ran := 0
		for range 100 {
			r.Go(func() { ran++ })
			synctest.Wait() // the function returned and its runner waits again
		}
		if ran != 100 || r.live.Load() != 1 {
			t.Fatalf("100 functions in turn: ran %d, %d runners left, want 100 and 1", ran, r.live.Load())
		}

		// Two functions that wait for each other need two goroutines.
		a, b := make(chan struct{}), make(chan struct{})
		r.Go(func() { close(a); <-b })
		r.Go(func() { <-a; close(b) })
		synctest.Wait()
		if got := r.live.Load(); got != 2 {
			t.Fatalf("two functions at once: %d runners, want 2", got)
		}

		time.Sleep(runnerIdle + time.Second)
		synctest.Wait()
		if got := r.live.Load(); got != 0 {
			t.Fatalf("after %v idle: %d runners, want 0", runnerIdle, got)
		}

		r.Go(func() {})
		synctest.Wait()
		start := time.Now()
		r.close()
		synctest.Wait()
		if got := r.live.Load(); got != 0 || time.Since(start) != 0 {
			t.Fatalf("after close: %d runners after %v, want 0 at once", got, time.Since(start))
		}
	})
}
