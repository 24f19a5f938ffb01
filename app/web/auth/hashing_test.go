package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"pharos/app/store"
)

// TestHasherCap: hashes and verifications share one cap; callers beyond it
// wait the configured time, then get ErrHashBusy, or their context's
// error; the number running at once, counted in the hooks, never exceeds
// the cap.
func TestHasherCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inFlight, peak atomic.Int32
		release := make(chan struct{})
		hold := func() {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			inFlight.Add(-1)
		}
		h := NewHasher(HasherOptions{Concurrency: 3, Wait: time.Second,
			Hash:  func(string, int) (store.PasswordHash, error) { hold(); return "hash", nil },
			Check: func(store.PasswordHash, string) error { hold(); return nil }})

		errs := make(chan error, 10)
		for i := range 8 {
			go func() {
				var err error
				if i%2 == 0 {
					_, err = h.Hash(t.Context(), "password")
				} else {
					_, err = h.Matches(t.Context(), "hash", "password")
				}
				errs <- err
			}()
		}
		synctest.Wait()
		if got := inFlight.Load(); got != 3 {
			t.Fatalf("running at once = %d, want the cap, 3", got)
		}
		gone, cancel := context.WithCancel(t.Context())
		go func() { _, err := h.Matches(gone, "hash", "password"); errs <- err }()
		synctest.Wait()
		cancel()
		synctest.Wait()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("a caller whose context ended: got %v, want context.Canceled", err)
		}
		time.Sleep(time.Second) // the others' wait ends
		synctest.Wait()
		for range 5 {
			if err := <-errs; !errors.Is(err, ErrHashBusy) {
				t.Errorf("a caller beyond the cap: got %v, want ErrHashBusy", err)
			}
		}
		close(release)
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("a caller within the cap: got %v, want nil", err)
			}
		}
		if got := peak.Load(); got != 3 {
			t.Errorf("most running at once = %d, want 3", got)
		}
		// Slots come back: a later caller gets one at once.
		if ok, err := h.Matches(t.Context(), "hash", "password"); !ok || err != nil {
			t.Errorf("after the burst: got %v, %v; want a match", ok, err)
		}
	})
}

// TestHasherWaitsForASlot: a caller that finds the cap full gets the slot
// freed within its wait.
func TestHasherWaitsForASlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		h := NewHasher(HasherOptions{Concurrency: 1, Wait: time.Second,
			Check: func(store.PasswordHash, string) error { <-release; return nil }})
		go func() { _, _ = h.Matches(t.Context(), "hash", "first") }()
		synctest.Wait()
		done := make(chan error, 1)
		go func() { _, err := h.Matches(t.Context(), "hash", "second"); done <- err }()
		time.Sleep(500 * time.Millisecond)
		release <- struct{}{} // the first finishes within the second's wait
		release <- struct{}{}
		if err := <-done; err != nil {
			t.Errorf("a caller whose slot came free in time: got %v, want nil", err)
		}
	})
}
