package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"pharos/app/bus"
)

// receive reads one event or fails after a while.
func receive(t *testing.T, ch <-chan []byte) string {
	t.Helper()
	select {
	case p, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed, want an event")
		}
		return string(p)
	case <-time.After(3 * time.Second):
		t.Fatal("no event within 3s")
	}
	return ""
}

func waitClosed(t *testing.T, ch <-chan []byte) {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("subscription still open 3s after its end")
		}
	}
}

func subscribe(ctx context.Context, t *testing.T, b bus.Bus, channel string) <-chan []byte {
	t.Helper()
	ch, err := b.Subscribe(ctx, channel)
	if err != nil {
		t.Fatalf("subscribe %s: %v", channel, err)
	}
	return ch
}

func publishEvent(ctx context.Context, t *testing.T, b bus.Bus, channel, payload string) {
	t.Helper()
	if err := b.PublishEvent(ctx, channel, []byte(payload)); err != nil {
		t.Fatalf("publish event %s: %v", channel, err)
	}
}

func testEventsFanOut(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	ctx1, cancel1 := context.WithCancel(ctx)
	defer cancel1()
	sub1 := subscribe(ctx1, t, b, "events:acme")
	sub2 := subscribe(ctx, t, b, "events:acme")
	other := subscribe(ctx, t, b, "events:other")

	publishEvent(ctx, t, b, "events:acme", "e1")
	publishEvent(ctx, t, b, "events:acme", "e2")
	for i, sub := range []<-chan []byte{sub1, sub2} {
		for _, want := range []string{"e1", "e2"} {
			if got := receive(t, sub); got != want {
				t.Errorf("subscriber %d: got %q, want %q", i+1, got, want)
			}
		}
	}

	cancel1()
	waitClosed(t, sub1)
	publishEvent(ctx, t, b, "events:acme", "e3")
	if got := receive(t, sub2); got != "e3" {
		t.Errorf("remaining subscriber: got %q, want e3", got)
	}
	publishEvent(ctx, t, b, "events:other", "o1")
	if got := receive(t, other); got != "o1" {
		t.Errorf("other channel: got %q, want o1 (and none of acme's events)", got)
	}
}

func testSlowSubscriber(t *testing.T, newBus newBusFunc) {
	const buffer, n = 4, 100
	ctx := testContext(t)
	b := newBus(t, bus.Options{EventBuffer: buffer})
	slow := subscribe(ctx, t, b, "events:acme")
	start := time.Now()
	for i := range n {
		publishEvent(ctx, t, b, "events:acme", fmt.Sprint(i))
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("publishing %d events to a stalled subscriber took %v", n, elapsed)
	}
	time.Sleep(300 * time.Millisecond) // let the events arrive
	var got []string
	for last := ""; last != fmt.Sprint(n-1); {
		last = receive(t, slow)
		got = append(got, last)
	}
	if got[0] == "0" || len(got) > buffer+1 {
		t.Errorf("stalled subscriber got %v, want only the newest events (oldest dropped)", got)
	}
}

func tryLock(ctx context.Context, t *testing.T, b bus.Bus, name string, ttl time.Duration) (bus.Lease, bool) {
	t.Helper()
	lease, ok, err := b.TryLock(ctx, name, ttl)
	if err != nil {
		t.Fatalf("lock %s: %v", name, err)
	}
	return lease, ok
}

func renew(ctx context.Context, t *testing.T, l bus.Lease) bool {
	t.Helper()
	ok, err := l.Renew(ctx)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	return ok
}

func release(ctx context.Context, t *testing.T, l bus.Lease) {
	t.Helper()
	if err := l.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
}

func testLockExclusive(t *testing.T, newBus newBusFunc) {
	const ttl = 5 * time.Second
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	first, ok := tryLock(ctx, t, b, "scheduler", ttl)
	if !ok {
		t.Fatal("first lock refused")
	}
	if _, ok := tryLock(ctx, t, b, "scheduler", ttl); ok {
		t.Fatal("second lock granted while the first is held")
	}
	if _, ok := tryLock(ctx, t, b, "housekeeping", ttl); !ok {
		t.Fatal("a lock of another name refused")
	}
	if !renew(ctx, t, first) {
		t.Fatal("holder could not renew")
	}
	release(ctx, t, first)
	second, ok := tryLock(ctx, t, b, "scheduler", ttl)
	if !ok {
		t.Fatal("lock refused after release")
	}
	// The first holder no longer owns it: renewing and releasing must not
	// touch the second holder's lock.
	if renew(ctx, t, first) {
		t.Error("released lease renewed")
	}
	release(ctx, t, first)
	if _, ok := tryLock(ctx, t, b, "scheduler", ttl); ok {
		t.Error("a stale lease's release freed the new holder's lock")
	}
	if !renew(ctx, t, second) {
		t.Error("second holder could not renew")
	}
}

func testLockExpiry(t *testing.T, newBus newBusFunc) {
	const ttl = 500 * time.Millisecond
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	first, ok := tryLock(ctx, t, b, "scheduler", ttl)
	if !ok {
		t.Fatal("first lock refused")
	}
	// Renewing keeps it past its ttl.
	for range 5 {
		time.Sleep(ttl / 3)
		if !renew(ctx, t, first) {
			t.Fatal("renew failed while held")
		}
		if _, ok := tryLock(ctx, t, b, "scheduler", ttl); ok {
			t.Fatal("lock granted to another while renewed")
		}
	}
	// The first holder stops renewing (it died): the lock expires.
	time.Sleep(ttl + 100*time.Millisecond)
	second, ok := tryLock(ctx, t, b, "scheduler", ttl)
	if !ok {
		t.Fatal("lock not handed over after expiry")
	}
	if renew(ctx, t, first) {
		t.Error("expired lease renewed")
	}
	release(ctx, t, first)
	if _, ok := tryLock(ctx, t, b, "scheduler", ttl); ok {
		t.Error("an expired lease's release freed the new holder's lock")
	}
	release(ctx, t, second)
	if _, ok := tryLock(ctx, t, b, "scheduler", ttl); !ok {
		t.Error("lock refused after the holder released it")
	}
}

func testClose(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	sub := subscribe(ctx, t, b, "events:acme")
	blocked := make(chan error, 1)
	go func() {
		_, err := b.Consume(ctx, "jobs", "g", "c", 1, 3*time.Second)
		blocked <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	waitClosed(t, sub)
	if err := <-blocked; err == nil {
		t.Error("blocked consume returned no error after close")
	}
	if _, err := b.Publish(ctx, "jobs", []byte("x")); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("publish after close: got %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
