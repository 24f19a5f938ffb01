package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// renewLua extends the lock only while it still holds our token.
const renewLua = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`

// releaseLua deletes the lock only while it still holds our token.
const releaseLua = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`

// redisLease is a lock key holding a random token.
type redisLease struct {
	b     *RedisBus
	name  string
	key   string
	token string
	ttl   time.Duration
}

// TryLock implements Locker.TryLock with SET key token NX PX ttl on key
// {prefix}lock:{name}.
func (b *RedisBus) TryLock(ctx context.Context, name string, ttl time.Duration) (Lease, bool, error) {
	if ttl < time.Millisecond {
		return nil, false, errors.New("bus: lock " + name + ": ttl must be at least 1ms")
	}
	if b.closed.Load() {
		return nil, false, ErrClosed
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, false, fmt.Errorf("bus: lock %s: token: %w", name, err)
	}
	l := &redisLease{b: b, name: name, key: b.key("lock:" + name), token: hex.EncodeToString(raw[:]), ttl: ttl}
	ok, err := b.client.SetNX(ctx, l.key, l.token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("bus: lock %s: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	return l, true, nil
}

// Renew implements Lease.Renew by compare-and-set on the token.
func (l *redisLease) Renew(ctx context.Context) (bool, error) {
	if l.b.closed.Load() {
		return false, ErrClosed
	}
	n, err := l.b.renewScript.Run(ctx, l.b.client, []string{l.key}, l.token, l.ttl.Milliseconds()).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("bus: renew lock %s: %w", l.name, err)
	}
	return n == 1, nil
}

// Release implements Lease.Release by compare-and-delete on the token.
func (l *redisLease) Release(ctx context.Context) error {
	if l.b.closed.Load() {
		return ErrClosed
	}
	err := l.b.releaseScript.Run(ctx, l.b.client, []string{l.key}, l.token).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("bus: release lock %s: %w", l.name, err)
	}
	return nil
}
