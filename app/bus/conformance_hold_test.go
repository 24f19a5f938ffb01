package bus_test

import (
	"slices"
	"testing"
	"time"

	"pharos/app/bus"
)

// testHold: a consumer holding an entry keeps it past ClaimIdle without
// counting a delivery; an entry it stopped holding is reclaimed by another
// consumer, after which holding it again returns nothing and takes it not
// back; an acknowledged entry is not held.
func testHold(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	const idle = 300 * time.Millisecond
	b := newBus(t, bus.Options{ClaimIdle: idle})
	published := publish(ctx, t, b, "jobs", "slow", "dropped")
	if got := consume(ctx, t, b, "jobs", "probers", "w1", 10); len(got) != 2 {
		t.Fatalf("first delivery: got %d entries, want 2", len(got))
	}
	slow, dropped := published[0], published[1]
	deadline := time.Now().Add(3 * idle)
	for time.Now().Before(deadline) {
		held, err := b.Hold(ctx, "jobs", "probers", "w1", slow)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(held, []string{slow}) {
			t.Fatalf("hold: got %v, want [%s]", held, slow)
		}
		time.Sleep(idle / 4)
	}
	got := consume(ctx, t, b, "jobs", "probers", "w2", 10)
	if len(got) != 1 || got[0].ID != dropped || got[0].Deliveries != 2 {
		t.Fatalf("after ClaimIdle: w2 got %+v, want only the entry w1 stopped holding", got)
	}
	held, err := b.Hold(ctx, "jobs", "probers", "w1", slow, dropped)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(held, []string{slow}) {
		t.Errorf("hold after w2 reclaimed one: got %v, want only [%s]", held, slow)
	}
	if got := consume(ctx, t, b, "jobs", "probers", "w3", 10); len(got) != 0 {
		t.Errorf("w2's entry taken back or the held one reclaimed: w3 got %v", ids(got))
	}
	if err := b.Ack(ctx, "jobs", "probers", slow); err != nil {
		t.Fatal(err)
	}
	if held, err := b.Hold(ctx, "jobs", "probers", "w1", slow); err != nil || len(held) != 0 {
		t.Errorf("hold of an acknowledged entry: got %v, %v; want nothing", held, err)
	}
	if held, err := b.Hold(ctx, "missing", "probers", "w1", "1-0"); err != nil || len(held) != 0 {
		t.Errorf("hold on a missing stream: got %v, %v; want nothing", held, err)
	}
	time.Sleep(idle + idle/2)
	got = consume(ctx, t, b, "jobs", "probers", "w3", 10)
	if len(got) != 1 || got[0].ID != dropped || got[0].Deliveries != 3 {
		t.Errorf("w2's entry once idle: got %+v, want it with 3 deliveries (holds count none)", got)
	}
}
