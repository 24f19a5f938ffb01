package bus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// memLock is a held in-process lock: who holds it and until when.
type memLock struct {
	token   uint64
	expires time.Time
}

// memLease is a MemoryBus lease. Leases are exclusive within the process,
// so the scheduler's leader logic runs unchanged on the embedded bus.
type memLease struct {
	m     *MemoryBus
	name  string
	token uint64
	ttl   time.Duration
}

// TryLock implements Locker.TryLock.
func (m *MemoryBus) TryLock(ctx context.Context, name string, ttl time.Duration) (Lease, bool, error) {
	if ttl <= 0 {
		return nil, false, errors.New("bus: lock " + name + ": ttl must be positive")
	}
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("bus: lock %s: %w", name, err)
	}
	if m.closed.Load() {
		return nil, false, ErrClosed
	}
	m.lockMu.Lock()
	defer m.lockMu.Unlock()
	now := time.Now()
	if l, ok := m.locks[name]; ok && now.Before(l.expires) {
		return nil, false, nil
	}
	m.lockSeq++
	m.locks[name] = memLock{token: m.lockSeq, expires: now.Add(ttl)}
	return &memLease{m: m, name: name, token: m.lockSeq, ttl: ttl}, true, nil
}

// Renew implements Lease.Renew.
func (l *memLease) Renew(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("bus: renew lock %s: %w", l.name, err)
	}
	if l.m.closed.Load() {
		return false, ErrClosed
	}
	l.m.lockMu.Lock()
	defer l.m.lockMu.Unlock()
	cur, ok := l.m.locks[l.name]
	if !ok || cur.token != l.token {
		return false, nil
	}
	now := time.Now()
	if !now.Before(cur.expires) {
		delete(l.m.locks, l.name) // expired, as the Redis key would be
		return false, nil
	}
	l.m.locks[l.name] = memLock{token: l.token, expires: now.Add(l.ttl)}
	return true, nil
}

// Release implements Lease.Release.
func (l *memLease) Release(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bus: release lock %s: %w", l.name, err)
	}
	if l.m.closed.Load() {
		return ErrClosed
	}
	l.m.lockMu.Lock()
	defer l.m.lockMu.Unlock()
	if cur, ok := l.m.locks[l.name]; ok && cur.token == l.token {
		delete(l.m.locks, l.name)
	}
	return nil
}
