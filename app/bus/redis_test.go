package bus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pharos/app/bus"
)

// Environment read by the Redis tests (DESIGN §9).
const (
	envRedisURL        = "PHAROS_TEST_REDIS_URL"
	envRequireServices = "PHAROS_TEST_REQUIRE_SERVICES"
)

// redisURL returns the test server's URL, or skips (fails in CI) when
// there is none.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envRedisURL)
	if u != "" {
		return u
	}
	msg := envRedisURL + " is not set: skipping the Redis bus (e.g. redis://127.0.0.1:6379/15)"
	if v := strings.ToLower(os.Getenv(envRequireServices)); v == "1" || v == "true" {
		t.Fatalf("%s (and %s=1)", msg, envRequireServices)
	}
	t.Skip(msg)
	return ""
}

// newRedisBus returns a RedisBus whose keys live under a random prefix,
// deleted when the test ends.
func newRedisBus(t testing.TB, opts bus.Options) bus.Bus {
	t.Helper()
	b, _ := newRedisBusPrefix(t, opts)
	return b
}

// newRedisBusPrefix is newRedisBus that also returns the key prefix.
func newRedisBusPrefix(t testing.TB, opts bus.Options) (*bus.RedisBus, string) {
	t.Helper()
	rawURL := redisURL(t)
	var raw [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		t.Fatal(err)
	}
	opts.Prefix = "pharos-test:" + hex.EncodeToString(raw[:]) + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.NewRedis(ctx, rawURL, opts)
	if err != nil {
		t.Fatalf("connect to %s: %v", envRedisURL, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		deleteKeys(t, rawURL, opts.Prefix)
	})
	return b, opts.Prefix
}

func deleteKeys(t testing.TB, rawURL, prefix string) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Errorf("parse %s: %v", envRedisURL, err)
		return
	}
	client := redis.NewClient(o)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan test keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	}
}

func TestRedisBus(t *testing.T) {
	redisURL(t) // skip once, not in every case
	runConformance(t, newRedisBus)
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
	b, prefix := newRedisBusPrefix(t, bus.Options{})
	publish(ctx, t, b, "jobs", "before")
	if got := consume(ctx, t, b, "jobs", "probers", "w", 10); len(got) != 1 {
		t.Fatalf("got %d entries, want 1", len(got))
	}
	o, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(o)
	defer client.Close()
	if err := client.Del(ctx, prefix+"jobs").Err(); err != nil {
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
