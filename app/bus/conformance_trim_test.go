package bus_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
)

// cappedTotal reads pharos_bus_entries_capped_total{stream} from reg (0
// when the series does not exist).
func cappedTotal(t testing.TB, reg *prometheus.Registry, stream string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != "pharos_bus_entries_capped_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && l.GetValue() == stream {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// capSlack is how far the count of capped entries may run ahead of the
// entries really dropped: Redis drops whole nodes of up to 100 entries, and
// the bus counts about one entry per Publish once the stream is at the cap.
const capSlack = 101

// wantCapped checks pharos_bus_entries_capped_total{stream} against the
// entries that really left the stream unread.
func wantCapped(t testing.TB, reg *prometheus.Registry, stream string, dropped int64) {
	t.Helper()
	got := cappedTotal(t, reg, stream)
	if got < float64(dropped) || got > float64(dropped+capSlack) {
		t.Errorf("pharos_bus_entries_capped_total{stream=%s}: got %v, want %d (up to %d more)", stream, got, dropped, capSlack)
	}
}

// consumeAck reads everything new for consumer and acknowledges it.
func consumeAck(ctx context.Context, t testing.TB, b bus.Bus, stream, group, consumer string) []bus.Message {
	t.Helper()
	msgs := consume(ctx, t, b, stream, group, consumer, 1000)
	if err := b.Ack(ctx, stream, group, ids(msgs)...); err != nil {
		t.Fatalf("ack %s/%s: %v", stream, group, err)
	}
	return msgs
}

// After a burst published, consumed and acknowledged by several consumers
// at once, the stream holds nothing: its length is the work in flight.
func testTrimAfterBurst(t *testing.T, newBus newBusFunc) {
	const n, consumers = 2000, 3
	ctx := testContext(t)
	reg := prometheus.NewRegistry()
	b := newBus(t, bus.Options{Registerer: reg})
	var acked atomic.Int64
	var wg sync.WaitGroup
	for c := range consumers {
		wg.Go(func() {
			for acked.Load() < n && ctx.Err() == nil {
				msgs, err := b.Consume(ctx, "results:0", "aggregators", fmt.Sprint("c", c), 50, 100*time.Millisecond)
				if err != nil {
					t.Errorf("consume: %v", err)
					return
				}
				if err := b.Ack(ctx, "results:0", "aggregators", ids(msgs)...); err != nil {
					t.Errorf("ack: %v", err)
					return
				}
				acked.Add(int64(len(msgs)))
			}
		})
	}
	for i := range n {
		if _, err := b.Publish(ctx, "results:0", fmt.Appendf(nil, "r%d", i)); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	wg.Wait()
	if got := acked.Load(); got != n {
		t.Fatalf("acknowledged %d entries, want %d", got, n)
	}
	waitStats(ctx, t, b, "results:0", "aggregators", 0, 0)
	if got := cappedTotal(t, reg, "results:0"); got != 0 {
		t.Errorf("pharos_bus_entries_capped_total: got %v, want 0 (nothing reached the cap)", got)
	}
}

// Trimming never takes an entry that is pending (delivered, not
// acknowledged) or not delivered yet, even when entries after it are
// acknowledged; a pending entry reclaimed after ClaimIdle is still there,
// whole, for its new consumer.
func testTrimKeepsUnacknowledged(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{ClaimIdle: 300 * time.Millisecond})
	published := publish(ctx, t, b, "jobs", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j")

	first := consume(ctx, t, b, "jobs", "probers", "dying", 3) // a, b, c: b is never acknowledged
	if err := b.Ack(ctx, "jobs", "probers", first[0].ID, first[2].ID); err != nil {
		t.Fatal(err)
	}
	consumeN := func(consumer string, n int) []bus.Message {
		t.Helper()
		msgs := consume(ctx, t, b, "jobs", "probers", consumer, n)
		if err := b.Ack(ctx, "jobs", "probers", ids(msgs)...); err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	if got := payloads(consumeN("w2", 2)); !cmp.Equal(got, []string{"d", "e"}) {
		t.Fatalf("w2 got %v, want d and e", got)
	}
	// b pending and f…j undelivered are all still there (a, c, d and e may
	// have gone).
	length, pending, err := b.Stats(ctx, "jobs", "probers")
	if err != nil || length < 6 || pending != 1 {
		t.Fatalf("with b pending and f…j undelivered: got length %d pending %d (%v), want at least 6 and 1", length, pending, err)
	}
	if got := payloads(consumeN("w3", 10)); !cmp.Equal(got, []string{"f", "g", "h", "i", "j"}) {
		t.Fatalf("undelivered entries: got %v, want f…j", got)
	}
	// Everything after b is acknowledged now; b itself stays.
	length, pending, err = b.Stats(ctx, "jobs", "probers")
	if err != nil || length < 1 || pending != 1 {
		t.Fatalf("with b pending: got length %d pending %d (%v), want at least 1 and 1", length, pending, err)
	}

	// Once ClaimIdle has passed, b is handed to a live consumer, whole.
	deadline := time.Now().Add(5 * time.Second)
	var got []bus.Message
	for len(got) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("b not reclaimed within 5s")
		}
		time.Sleep(50 * time.Millisecond)
		got = consume(ctx, t, b, "jobs", "probers", "w3", 10)
	}
	if len(got) != 1 || got[0].ID != published[1] || string(got[0].Payload) != "b" || got[0].Deliveries != 2 {
		t.Fatalf("reclaimed: got %+v, want %s with payload b and 2 deliveries", got, published[1])
	}
	if err := b.Ack(ctx, "jobs", "probers", got[0].ID); err != nil {
		t.Fatal(err)
	}
	waitStats(ctx, t, b, "jobs", "probers", 0, 0)
}

// With two groups on one stream, an entry stays until both have it
// delivered and acknowledged.
func testTrimWaitsForEveryGroup(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	publish(ctx, t, b, "results:2", "x", "y", "z")
	x := consume(ctx, t, b, "results:2", "archivers", "a1", 1)
	if got := payloads(x); !cmp.Equal(got, []string{"x"}) {
		t.Fatalf("archivers: got %v, want x", got)
	}
	if got := payloads(consumeAck(ctx, t, b, "results:2", "aggregators", "g1")); !cmp.Equal(got, []string{"x", "y", "z"}) {
		t.Fatalf("aggregators: got %v, want x, y, z", got)
	}
	// x is pending with the archivers, y and z not delivered to them.
	wantStats(ctx, t, b, "results:2", "archivers", 3, 1)

	archived := consume(ctx, t, b, "results:2", "archivers", "a1", 10)
	if got := payloads(archived); !cmp.Equal(got, []string{"y", "z"}) {
		t.Fatalf("archivers, second read: got %v, want y and z", got)
	}
	if err := b.Ack(ctx, "results:2", "archivers", archived[1].ID); err != nil { // z
		t.Fatal(err)
	}
	// x and y are pending with the archivers: they stay.
	length, pending, err := b.Stats(ctx, "results:2", "archivers")
	if err != nil || length < 2 || pending != 2 {
		t.Fatalf("with x and y pending: got length %d pending %d (%v), want at least 2 and 2", length, pending, err)
	}
	if err := b.Ack(ctx, "results:2", "archivers", archived[0].ID); err != nil { // y
		t.Fatal(err)
	}
	length, pending, err = b.Stats(ctx, "results:2", "archivers")
	if err != nil || length < 1 || pending != 1 {
		t.Fatalf("with x pending: got length %d pending %d (%v), want at least 1 and 1", length, pending, err)
	}
	if err := b.Ack(ctx, "results:2", "archivers", x[0].ID); err != nil {
		t.Fatal(err)
	}
	waitStats(ctx, t, b, "results:2", "archivers", 0, 0)
	wantStats(ctx, t, b, "results:2", "aggregators", 0, 0)
}

// MaxLen only bites when a group stops reading: entries every group
// acknowledges leave long before the cap, and once a group is gone the cap
// drops the oldest entries, counted and logged once a minute.
func testCapOnlyForGoneGroup(t *testing.T, newBus newBusFunc) {
	const maxLen, rounds, perRound = 100, 30, 10
	ctx := testContext(t)
	reg := prometheus.NewRegistry()
	var logs syncBuffer
	b := newBus(t, bus.Options{MaxLen: maxLen, Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	payload := func(r, i int) string { return fmt.Sprintf("%d-%d", r, i) }

	// More than MaxLen entries in all, each round acknowledged (and
	// trimmed) before the next.
	for r := range maxLen/perRound + 2 {
		for i := range perRound {
			publish(ctx, t, b, "jobs", payload(r, i))
		}
		if got := consumeAck(ctx, t, b, "jobs", "probers", "live"); len(got) != perRound {
			t.Fatalf("round %d: got %d entries, want %d", r, len(got), perRound)
		}
		waitStats(ctx, t, b, "jobs", "probers", 0, 0)
	}
	if got := cappedTotal(t, reg, "jobs"); got != 0 {
		t.Fatalf("with every entry acknowledged: pharos_bus_entries_capped_total %v, want 0", got)
	}

	// A second group reads once, then its consumer is gone for good.
	if got := consume(ctx, t, b, "jobs", "auditors", "gone", 10); len(got) != 0 {
		t.Fatalf("auditors on an empty stream: got %v", payloads(got))
	}
	for r := range rounds {
		for i := range perRound {
			publish(ctx, t, b, "jobs", payload(r, i))
		}
		consumeAck(ctx, t, b, "jobs", "probers", "live")
	}
	length, _, err := b.Stats(ctx, "jobs", "auditors")
	if err != nil {
		t.Fatal(err)
	}
	if length < maxLen || length > 2*maxLen {
		t.Fatalf("with the auditors gone: length %d, want between %d and %d", length, maxLen, 2*maxLen)
	}
	wantCapped(t, reg, "jobs", rounds*perRound-length)
	if n := strings.Count(logs.String(), "stream capped"); n != 1 {
		t.Errorf("got %d log lines about the cap, want 1 (at most one a minute):\n%s", n, logs.String())
	}
	// The auditors still get what the cap left, newest last.
	got := consume(ctx, t, b, "jobs", "auditors", "back", 1000)
	if int64(len(got)) != length || string(got[len(got)-1].Payload) != payload(rounds-1, perRound-1) {
		t.Errorf("auditors back: got %d entries ending %q, want %d ending %q", len(got), got[len(got)-1].Payload, length, payload(rounds-1, perRound-1))
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
