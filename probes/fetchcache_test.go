package probes

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFetchCache(t *testing.T) {
	t.Parallel()
	c := newFetchCache[int]()
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	var fetches atomic.Int32
	release := make(chan struct{})
	fetch := func() (int, time.Time, error) {
		fetches.Add(1)
		<-release
		return 42, now.Add(time.Hour), nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if v, err := c.get(context.Background(), "k", now, fetch); v != 42 || err != nil {
				t.Errorf("got %d, %v; want 42", v, err)
			}
		})
	}
	time.AfterFunc(20*time.Millisecond, func() { close(release) })
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("20 concurrent callers fetched %d times, want 1", n)
	}
	c.get(context.Background(), "k", now.Add(59*time.Minute), fetch)
	c.get(context.Background(), "k", now.Add(61*time.Minute), fetch)
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetched %d times, want 2: once more after expiry", n)
	}

	failed := 0
	fail := func() (int, time.Time, error) { failed++; return 0, time.Time{}, errors.New("unreachable") }
	c.get(context.Background(), "bad", now, fail)
	c.get(context.Background(), "bad", now.Add(fetchFailTTL-time.Second), fail)
	c.get(context.Background(), "bad", now.Add(fetchFailTTL+time.Second), fail)
	if failed != 2 {
		t.Errorf("a failure was fetched %d times, want 2 (kept for %s)", failed, fetchFailTTL)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	timedOut := 0
	late := func() (int, time.Time, error) { timedOut++; return 0, time.Time{}, ctx.Err() }
	c.get(ctx, "late", now, late)
	c.get(context.Background(), "late", now.Add(time.Second), late)
	if timedOut != 2 {
		t.Errorf("a fetch cut short by its probe's deadline was kept (%d fetches, want 2)", timedOut)
	}
}
