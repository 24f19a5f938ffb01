// Package bustest gives tests a real Redis: the server named by
// PHAROS_TEST_REDIS_URL (skipping without one, failing instead when
// PHAROS_TEST_REQUIRE_SERVICES=1), a fresh key prefix per test, and every
// key under that prefix deleted when the test ends.
package bustest

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

// EnvRedisURL names the Redis server tests use, e.g.
// redis://127.0.0.1:6379/15.
const EnvRedisURL = "PHAROS_TEST_REDIS_URL"

// EnvRequireServices makes a missing service a failure rather than a skip.
const EnvRequireServices = "PHAROS_TEST_REQUIRE_SERVICES"

// RedisURL returns the test server's URL. Without one it skips the test,
// or fails it when EnvRequireServices is set (as in CI).
func RedisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvRedisURL); u != "" {
		return u
	}
	msg := EnvRedisURL + " is not set: skipping Redis (e.g. redis://127.0.0.1:6379/15)"
	if v := strings.ToLower(os.Getenv(EnvRequireServices)); v == "1" || v == "true" {
		t.Fatalf("%s (and %s=1)", msg, EnvRequireServices)
	}
	t.Skip(msg)
	return ""
}

// Prefix returns a fresh key prefix on the test server. Every key under it
// is deleted when the test ends, after the cleanups registered later (such
// as closing the buses that use it) have run.
func Prefix(t testing.TB) string {
	t.Helper()
	rawURL := RedisURL(t)
	var raw [6]byte
	rand.Read(raw[:]) // never fails (crypto/rand, Go 1.24+)
	prefix := "pharos-test:" + hex.EncodeToString(raw[:]) + ":"
	t.Cleanup(func() { deleteKeys(t, rawURL, prefix) })
	return prefix
}

// Redis returns a RedisBus on the test server, closed when the test ends.
// Its keys live under opts.Prefix, or under a fresh Prefix when that is
// empty.
func Redis(t testing.TB, opts bus.Options) *bus.RedisBus {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = Prefix(t)
	}
	return Connect(t, RedisURL(t), opts)
}

// Connect returns a RedisBus on rawURL (the test server, or a proxy in
// front of it) with opts, closed when the test ends. opts.Prefix should
// come from Prefix, which deletes the keys.
func Connect(t testing.TB, rawURL string, opts bus.Options) *bus.RedisBus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.NewRedis(ctx, rawURL, opts)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvRedisURL, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bus: %v", err)
		}
	})
	return b
}

// Client returns a plain Redis client on the test server, closed when the
// test ends, for tests that change keys under a bus.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(RedisURL(t))
	if err != nil {
		t.Fatalf("parse %s: %v", EnvRedisURL, err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// deleteKeys removes every key under prefix, and nothing else.
func deleteKeys(t testing.TB, rawURL, prefix string) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Errorf("parse %s: %v", EnvRedisURL, err)
		return
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan test keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	}
}
