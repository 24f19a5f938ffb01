package bus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
)

// newBusFunc returns a fresh, empty bus with opts, closed when the test
// ends.
type newBusFunc func(t testing.TB, opts bus.Options) bus.Bus

// runConformance is the one suite both implementations must pass: the
// semantics roles rely on, whichever bus they run on. With bubble, each
// case runs in a testing/synctest bubble, whose clock moves only when every
// goroutine in it waits: for the in-process bus, whose timers and
// goroutines are all the test's, the lock TTLs, claim idles and blocking
// reads then take no wall time and measure exactly.
func runConformance(t *testing.T, newBus newBusFunc, bubble bool) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newBus newBusFunc)
	}{
		{"PublishConsumeAck", testPublishConsumeAck},
		{"GroupsSeeEverything", testGroupsSeeEverything},
		{"ConsumersSplit", testConsumersSplit},
		{"ReclaimFromDeadConsumer", testReclaim},
		{"HoldKeepsEntries", testHold},
		{"NoLossUnderConcurrency", testNoLossUnderConcurrency},
		{"DeadLetter", testDeadLetter},
		{"MaxLenTrims", testMaxLen},
		{"TrimAfterBurst", testTrimAfterBurst},
		{"TrimKeepsUnacknowledged", testTrimKeepsUnacknowledged},
		{"TrimWaitsForEveryGroup", testTrimWaitsForEveryGroup},
		{"CapOnlyForGoneGroup", testCapOnlyForGoneGroup},
		{"BlockingConsume", testBlockingConsume},
		{"PruneConsumers", testPruneConsumers},
		{"PruneMissing", testPruneMissing},
		{"EventsFanOut", testEventsFanOut},
		{"EventsByPrefix", testEventsByPrefix},
		{"SlowSubscriberDropsOldest", testSlowSubscriber},
		{"LockExclusive", testLockExclusive},
		{"LockExpiryHandover", testLockExpiry},
		{"Close", testClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if !bubble || c.name == "BlockingConsume" { // it has subtests, which a bubble cannot hold
				c.fn(t, newBus)
				return
			}
			synctest.Test(t, func(t *testing.T) { c.fn(t, newBus) })
		})
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func publish(ctx context.Context, t testing.TB, b bus.Bus, stream string, payloads ...string) []string {
	t.Helper()
	ids := make([]string, 0, len(payloads))
	for _, p := range payloads {
		id, err := b.Publish(ctx, stream, []byte(p))
		if err != nil {
			t.Fatalf("publish %q: %v", p, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func consume(ctx context.Context, t testing.TB, b bus.Bus, stream, group, consumer string, count int) []bus.Message {
	t.Helper()
	msgs, err := b.Consume(ctx, stream, group, consumer, count, 0)
	if err != nil {
		t.Fatalf("consume %s/%s as %s: %v", stream, group, consumer, err)
	}
	return msgs
}

func ids(msgs []bus.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func payloads(msgs []bus.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Payload)
	}
	return out
}

// waitStats waits up to 5s for the stream's length and group's pending
// count to reach the wanted figures: trimming may lag the Ack.
func waitStats(ctx context.Context, t testing.TB, b bus.Bus, stream, group string, wantLen, wantPending int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		length, pending, err := b.Stats(ctx, stream, group)
		if err != nil {
			t.Fatalf("stats: %v", err)
		}
		if length == wantLen && pending == wantPending {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats %s/%s after 5s: got length %d pending %d, want %d and %d", stream, group, length, pending, wantLen, wantPending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantStats(ctx context.Context, t testing.TB, b bus.Bus, stream, group string, wantLen, wantPending int64) {
	t.Helper()
	length, pending, err := b.Stats(ctx, stream, group)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if length != wantLen || pending != wantPending {
		t.Errorf("stats %s/%s: got length %d pending %d, want %d and %d", stream, group, length, pending, wantLen, wantPending)
	}
}

func testPublishConsumeAck(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	wantStats(ctx, t, b, "jobs", "probers", 0, 0)
	// Published before any consumer: a new group must still see them.
	published := publish(ctx, t, b, "jobs", "a", "b", "c")
	for i := 1; i < len(published); i++ {
		if bus.CompareIDs(published[i-1], published[i]) >= 0 {
			t.Fatalf("ids not increasing: %v", published)
		}
	}
	msgs := consume(ctx, t, b, "jobs", "probers", "w1", 10)
	if diff := cmp.Diff(published, ids(msgs)); diff != "" {
		t.Fatalf("consumed ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, payloads(msgs)); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
	for _, m := range msgs {
		if m.Stream != "jobs" || m.Deliveries != 1 || m.OriginalID != "" {
			t.Errorf("message %s: got stream %q deliveries %d original %q, want jobs, 1, empty", m.ID, m.Stream, m.Deliveries, m.OriginalID)
		}
	}
	wantStats(ctx, t, b, "jobs", "probers", 3, 3)
	if err := b.Ack(ctx, "jobs", "probers", ids(msgs)...); err != nil {
		t.Fatalf("ack: %v", err)
	}
	waitStats(ctx, t, b, "jobs", "probers", 0, 0) // acknowledged entries leave
	if again := consume(ctx, t, b, "jobs", "probers", "w1", 10); len(again) != 0 {
		t.Errorf("after ack: got %v, want nothing", ids(again))
	}
}

func testGroupsSeeEverything(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	published := publish(ctx, t, b, "results:0", "1", "2", "3", "4", "5")
	for _, group := range []string{"aggregators", "archivers"} {
		msgs := consume(ctx, t, b, "results:0", group, "c", 100)
		if diff := cmp.Diff(published, ids(msgs)); diff != "" {
			t.Errorf("group %s (-want +got):\n%s", group, diff)
		}
	}
}

func testConsumersSplit(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	published := publish(ctx, t, b, "jobs", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
	first := consume(ctx, t, b, "jobs", "probers", "w1", 4)
	second := consume(ctx, t, b, "jobs", "probers", "w2", 100)
	if len(first) != 4 || len(second) != 6 {
		t.Fatalf("got %d and %d entries, want 4 and 6", len(first), len(second))
	}
	if diff := cmp.Diff(published, append(ids(first), ids(second)...)); diff != "" {
		t.Errorf("split (-want +got):\n%s", diff)
	}
}

func testReclaim(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{ClaimIdle: 200 * time.Millisecond})
	published := publish(ctx, t, b, "jobs", "job")
	if got := consume(ctx, t, b, "jobs", "probers", "dying", 10); len(got) != 1 {
		t.Fatalf("first delivery: got %d entries, want 1", len(got))
	}
	// The dying consumer never acks. Before ClaimIdle nobody else gets it.
	if got := consume(ctx, t, b, "jobs", "probers", "w2", 10); len(got) != 0 {
		t.Fatalf("before ClaimIdle: got %v, want nothing", ids(got))
	}
	time.Sleep(300 * time.Millisecond)
	got := consume(ctx, t, b, "jobs", "probers", "w2", 10)
	if len(got) != 1 || got[0].ID != published[0] || string(got[0].Payload) != "job" || got[0].Deliveries != 2 {
		t.Fatalf("after ClaimIdle: got %+v, want %s with payload job and 2 deliveries", got, published[0])
	}
	if err := b.Ack(ctx, "jobs", "probers", got[0].ID); err != nil {
		t.Fatal(err)
	}
	waitStats(ctx, t, b, "jobs", "probers", 0, 0)
	time.Sleep(300 * time.Millisecond)
	if again := consume(ctx, t, b, "jobs", "probers", "w3", 10); len(again) != 0 {
		t.Errorf("acked entry delivered again: %v", ids(again))
	}
}

func testNoLossUnderConcurrency(t *testing.T, newBus newBusFunc) {
	const producers, perProducer, consumers = 4, 500, 3
	const total = producers * perProducer
	ctx := testContext(t)
	b := newBus(t, bus.Options{ClaimIdle: time.Minute})

	var mu sync.Mutex
	seen := make(map[string]string) // id → payload
	var dups []string
	var wg sync.WaitGroup
	for c := range consumers {
		wg.Go(func() {
			consumer := fmt.Sprintf("c%d", c)
			for {
				mu.Lock()
				done := len(seen) >= total
				mu.Unlock()
				if done || ctx.Err() != nil {
					return
				}
				msgs, err := b.Consume(ctx, "results:1", "aggregators", consumer, 50, 200*time.Millisecond)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("consume: %v", err)
					}
					return
				}
				mu.Lock()
				for _, m := range msgs {
					if _, ok := seen[m.ID]; ok {
						dups = append(dups, m.ID)
					}
					seen[m.ID] = string(m.Payload)
				}
				mu.Unlock()
				if err := b.Ack(ctx, "results:1", "aggregators", ids(msgs)...); err != nil {
					t.Errorf("ack: %v", err)
					return
				}
			}
		})
	}
	for p := range producers {
		wg.Go(func() {
			for i := range perProducer {
				if _, err := b.Publish(ctx, "results:1", fmt.Appendf(nil, "%d-%d", p, i)); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	if len(dups) > 0 {
		t.Errorf("delivered twice to the group: %v", dups)
	}
	var got []string
	for _, p := range seen {
		got = append(got, p)
	}
	var want []string
	for p := range producers {
		for i := range perProducer {
			want = append(want, fmt.Sprintf("%d-%d", p, i))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payloads received (-want +got):\n%s", diff)
	}
	waitStats(ctx, t, b, "results:1", "aggregators", 0, 0)
}

func testDeadLetter(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{ClaimIdle: 100 * time.Millisecond, MaxDeliveries: 2})
	published := publish(ctx, t, b, "jobs", "poison")
	for i, consumer := range []string{"w1", "w2"} {
		if i > 0 {
			time.Sleep(150 * time.Millisecond)
		}
		got := consume(ctx, t, b, "jobs", "probers", consumer, 10)
		if len(got) != 1 || got[0].Deliveries != int64(i+1) {
			t.Fatalf("delivery %d: got %+v, want the entry with %d deliveries", i+1, got, i+1)
		}
	}
	time.Sleep(150 * time.Millisecond)
	if got := consume(ctx, t, b, "jobs", "probers", "w3", 10); len(got) != 0 {
		t.Fatalf("third delivery: got %+v, want nothing (dead-lettered)", got)
	}
	// Dead-lettering acknowledges the entry: it leaves the stream, and its
	// copy waits in the dead-letter stream, which has no group yet.
	waitStats(ctx, t, b, "jobs", "probers", 0, 0)

	dead := consume(ctx, t, b, bus.DeadLetterStream("jobs"), "operators", "op", 10)
	if len(dead) != 1 {
		t.Fatalf("dead letters: got %d, want 1", len(dead))
	}
	if string(dead[0].Payload) != "poison" || dead[0].OriginalID != published[0] || dead[0].Stream != "jobs:dead" {
		t.Errorf("dead letter: got payload %q original %q stream %q, want poison, %s, jobs:dead",
			dead[0].Payload, dead[0].OriginalID, dead[0].Stream, published[0])
	}
}

func testMaxLen(t *testing.T, newBus newBusFunc) {
	const maxLen, n = 100, 1000
	ctx := testContext(t)
	reg := prometheus.NewRegistry()
	b := newBus(t, bus.Options{MaxLen: maxLen, Registerer: reg})
	var published []string
	for i := range n {
		published = append(published, publish(ctx, t, b, "jobs", fmt.Sprint(i))...)
	}
	length, _, err := b.Stats(ctx, "jobs", "probers")
	if err != nil {
		t.Fatal(err)
	}
	// Trimming is approximate (Redis drops whole nodes of 100 entries) but
	// never below MaxLen.
	if length < maxLen || length > 2*maxLen {
		t.Fatalf("length after %d publishes: got %d, want between %d and %d", n, length, maxLen, 2*maxLen)
	}
	// Nobody read them: every entry dropped is counted.
	wantCapped(t, reg, "jobs", n-length)
	msgs := consume(ctx, t, b, "jobs", "probers", "w", 1000)
	if int64(len(msgs)) != length {
		t.Fatalf("new group read %d entries, want all %d left", len(msgs), length)
	}
	if diff := cmp.Diff(published[n-int(length):], ids(msgs)); diff != "" {
		t.Errorf("entries kept should be the newest (-want +got):\n%s", diff)
	}
}

func testBlockingConsume(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})

	t.Run("WakesOnPublish", func(t *testing.T) {
		type result struct {
			msgs []bus.Message
			err  error
		}
		done := make(chan result, 1)
		start := time.Now()
		go func() {
			msgs, err := b.Consume(ctx, "wake", "g", "c", 10, 5*time.Second)
			done <- result{msgs, err}
		}()
		time.Sleep(100 * time.Millisecond)
		publish(ctx, t, b, "wake", "hello")
		r := <-done
		if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0].Payload) != "hello" {
			t.Fatalf("got %+v, %v, want the published entry", r.msgs, r.err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("woke after %v, want soon after the publish", elapsed)
		}
	})
	t.Run("TimesOut", func(t *testing.T) {
		start := time.Now()
		msgs, err := b.Consume(ctx, "quiet", "g", "c", 10, 300*time.Millisecond)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("got %+v, %v, want nothing and no error", msgs, err)
		}
		if elapsed := time.Since(start); elapsed < 250*time.Millisecond || elapsed > 2*time.Second {
			t.Errorf("returned after %v, want about 300ms", elapsed)
		}
	})
	t.Run("HonoursCancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := b.Consume(cctx, "quiet", "g", "c", 10, 10*time.Second)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got error %v, want context.Canceled", err)
		}
		if elapsed := time.Since(start); elapsed > 1500*time.Millisecond {
			t.Errorf("returned %v after the start, want promptly after the cancel at 100ms", elapsed)
		}
	})
}
