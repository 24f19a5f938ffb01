package bus_test

import (
	"context"
	"testing"
	"time"

	"pharos/app/bus"
)

func receiveEvent(t *testing.T, ch <-chan bus.Event) bus.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed, want an event")
		}
		return ev
	case <-time.After(3 * time.Second):
		t.Fatal("no event within 3s")
	}
	return bus.Event{}
}

// testEventsByPrefix: one subscription receives every channel under its
// prefix with the channel's name, nothing else (glob characters in the
// prefix are literal), and closes when its context ends.
func testEventsByPrefix(t *testing.T, newBus newBusFunc) {
	ctx := testContext(t)
	b := newBus(t, bus.Options{})
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	all, err := b.SubscribePrefix(subCtx, "events:")
	if err != nil {
		t.Fatal(err)
	}
	glob, err := b.SubscribePrefix(ctx, "a*[b]?:")
	if err != nil {
		t.Fatal(err)
	}
	exact := subscribe(ctx, t, b, "events:acme")

	publishEvent(ctx, t, b, "jobs:fra", "not an event")
	publishEvent(ctx, t, b, "eventsX", "not under the prefix")
	publishEvent(ctx, t, b, "events:acme", "a1")
	publishEvent(ctx, t, b, "events:other", "o1")
	for _, want := range []bus.Event{{Channel: "events:acme", Payload: []byte("a1")}, {Channel: "events:other", Payload: []byte("o1")}} {
		if got := receiveEvent(t, all); got.Channel != want.Channel || string(got.Payload) != string(want.Payload) {
			t.Errorf("got %s %q, want %s %q", got.Channel, got.Payload, want.Channel, want.Payload)
		}
	}
	if got := receive(t, exact); got != "a1" {
		t.Errorf("channel subscriber beside the prefix one: got %q, want a1", got)
	}

	publishEvent(ctx, t, b, "aXYZ[b]?:x", "a glob would match this")
	publishEvent(ctx, t, b, "a*[b]?:x", "literal")
	if got := receiveEvent(t, glob); got.Channel != "a*[b]?:x" || string(got.Payload) != "literal" {
		t.Errorf("prefix with glob characters: got %s %q, want only the literal match", got.Channel, got.Payload)
	}

	cancel()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case _, ok := <-all:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("prefix subscription still open 3s after its context ended")
		}
	}
}
