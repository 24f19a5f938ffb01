package bus_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
)

// newRedisBus returns a RedisBus whose keys live under a random prefix,
// deleted when the test ends.
func newRedisBus(t testing.TB, opts bus.Options) bus.Bus {
	t.Helper()
	return bustest.Redis(t, opts)
}

func TestRedisBus(t *testing.T) {
	bustest.RedisURL(t) // skip once, not in every case
	runConformance(t, newRedisBus, false)
}

func TestNewRedisRefusesBadURL(t *testing.T) {
	ctx := t.Context()
	for _, u := range []string{"http://127.0.0.1:6379", "redis://user:s3cret@127.0.0.1:6379/0?bogus=1"} {
		_, err := bus.NewRedis(ctx, u, bus.Options{})
		if err == nil {
			t.Errorf("NewRedis(%q): got no error", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewRedis(%q): error %q shows the password", u, err)
		}
	}
}

// A stream deleted under the bus (FLUSHDB, or a restart without
// persistence) takes its groups along: Consume must create them again
// instead of failing with NOGROUP forever.
func TestRedisBusRecreatesLostGroup(t *testing.T) {
	ctx := testContext(t)
	prefix := bustest.Prefix(t)
	b := bustest.Redis(t, bus.Options{Prefix: prefix})
	publish(ctx, t, b, "jobs", "before")
	if got := consume(ctx, t, b, "jobs", "probers", "w", 10); len(got) != 1 {
		t.Fatalf("got %d entries, want 1", len(got))
	}
	if err := bustest.Client(t).Del(ctx, prefix+"jobs").Err(); err != nil {
		t.Fatal(err)
	}
	if got := consume(ctx, t, b, "jobs", "probers", "w", 10); len(got) != 0 {
		t.Fatalf("after loss: got %d entries, want none", len(got))
	}
	publish(ctx, t, b, "jobs", "after")
	got := consume(ctx, t, b, "jobs", "probers", "w", 10)
	if len(got) != 1 || string(got[0].Payload) != "after" {
		t.Fatalf("after loss and publish: got %+v, want the new entry", got)
	}
}

// A look for entries to reclaim that found none is not repeated within
// ClaimIdle/8: at a trickle, when every read finds an entry, each Consume
// sent an XAUTOCLAIM before its XREADGROUP. Counted on the bus's own
// client, against the real server.
func TestRedisReclaimLooksOncePerQuiet(t *testing.T) {
	ctx := testContext(t)
	client := bustest.Client(t)
	var claims atomic.Int64
	client.AddHook(commandCounter{name: "xautoclaim", n: &claims})
	b, err := bus.NewRedisClient(ctx, client, bus.Options{Prefix: bustest.Prefix(t), ClaimIdle: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	publish(ctx, t, b, "jobs", "a", "b", "c")
	for range 3 {
		if got := consume(ctx, t, b, "jobs", "probers", "w", 1); len(got) != 1 {
			t.Fatalf("got %d entries, want 1", len(got))
		}
	}
	if n := claims.Load(); n != 1 {
		t.Errorf("XAUTOCLAIM sent %d times for 3 reads within ClaimIdle/8, want 1", n)
	}
}

// commandCounter counts the commands called name a client sends, alone
// or pipelined.
type commandCounter struct {
	name string
	n    *atomic.Int64
}

func (c commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == c.name {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() == c.name {
				c.n.Add(1)
			}
		}
		return next(ctx, cmds)
	}
}
