package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/bus"
)

func prune(ctx context.Context, t *testing.T, b bus.Bus, stream, group string, idle time.Duration) []string {
	t.Helper()
	removed, err := b.PruneConsumers(ctx, stream, group, idle)
	if err != nil {
		t.Fatalf("prune %s/%s: %v", stream, group, err)
	}
	return removed
}

// A consumer goes once it is idle and holds nothing; one holding pending
// entries stays until a live consumer has reclaimed them; an active one
// stays.
func testPruneConsumers(t *testing.T, newBus newBusFunc) {
	const idle = 100 * time.Millisecond
	ctx := testContext(t)
	b := newBus(t, bus.Options{ClaimIdle: 400 * time.Millisecond})
	published := publish(ctx, t, b, "jobs", "a", "b")
	if got := consume(ctx, t, b, "jobs", "probers", "dead", 1); len(got) != 1 {
		t.Fatalf("dead: got %d entries, want 1", len(got))
	}
	quit := consume(ctx, t, b, "jobs", "probers", "quitter", 1)
	if len(quit) != 1 {
		t.Fatalf("quitter: got %d entries, want 1", len(quit))
	}
	if err := b.Ack(ctx, "jobs", "probers", ids(quit)...); err != nil {
		t.Fatal(err)
	}
	start := time.Now()

	time.Sleep(idle + 50*time.Millisecond)
	if got := consume(ctx, t, b, "jobs", "probers", "active", 10); len(got) != 0 {
		t.Fatalf("active before ClaimIdle: got %v, want nothing", ids(got))
	}
	if diff := cmp.Diff([]string{"quitter"}, prune(ctx, t, b, "jobs", "probers", idle)); diff != "" {
		t.Fatalf("first prune removed (-want +got):\n%s", diff)
	}
	// The dead consumer's entry is still pending, so still there; the
	// quitter's, acknowledged, may have left.
	if length, pending, err := b.Stats(ctx, "jobs", "probers"); err != nil || length < 1 || length > 2 || pending != 1 {
		t.Fatalf("stats after the first prune: got length %d pending %d (%v), want 1 or 2 and 1", length, pending, err)
	}

	time.Sleep(time.Until(start.Add(450 * time.Millisecond)))
	got := consume(ctx, t, b, "jobs", "probers", "active", 10)
	if len(got) != 1 || got[0].ID != published[0] {
		t.Fatalf("active after ClaimIdle: got %v, want %s reclaimed", ids(got), published[0])
	}
	if err := b.Ack(ctx, "jobs", "probers", got[0].ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"dead"}, prune(ctx, t, b, "jobs", "probers", idle)); diff != "" {
		t.Fatalf("prune after the reclaim removed (-want +got):\n%s", diff)
	}
	if removed := prune(ctx, t, b, "jobs", "probers", idle); len(removed) != 0 {
		t.Errorf("third prune removed %v, want nothing (active is fresh)", removed)
	}
	waitStats(ctx, t, b, "jobs", "probers", 0, 0)

	// A pruned consumer that comes back is an ordinary consumer again.
	publish(ctx, t, b, "jobs", "c")
	if got := consume(ctx, t, b, "jobs", "probers", "quitter", 10); len(got) != 1 || string(got[0].Payload) != "c" {
		t.Fatalf("returning consumer: got %+v, want the new entry", got)
	}
	time.Sleep(idle + 50*time.Millisecond)
	if diff := cmp.Diff([]string{"active"}, prune(ctx, t, b, "jobs", "probers", idle)); diff != "" {
		t.Errorf("prune with the returned consumer holding an entry removed (-want +got):\n%s", diff)
	}
}

func testPruneMissing(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	if removed := prune(ctx, t, b, "nowhere", "probers", 0); len(removed) != 0 {
		t.Errorf("missing stream: removed %v, want nothing", removed)
	}
	publish(ctx, t, b, "jobs", "a")
	if removed := prune(ctx, t, b, "jobs", "nobody", 0); len(removed) != 0 {
		t.Errorf("missing group: removed %v, want nothing", removed)
	}
	wantStats(ctx, t, b, "nowhere", "probers", 0, 0)
}
