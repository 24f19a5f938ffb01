package auth

import (
	"context"
	"errors"
	"runtime"
	"time"

	"pharos/app/store"
)

// ErrHashBusy is returned when no password-hashing slot came free within
// the Hasher's wait: the caller answers 503 with Retry-After.
var ErrHashBusy = errors.New("auth: too many password hashes in progress")

// HasherOptions configures a Hasher. Zero values select the defaults.
type HasherOptions struct {
	// Cost is the bcrypt cost of new hashes (0 means
	// store.DefaultPasswordCost).
	Cost int
	// Concurrency is how many hashes or verifications may run at once
	// (default GOMAXPROCS: one per core, since each is pure CPU).
	Concurrency int
	// Wait is how long a caller waits for a free slot before ErrHashBusy
	// (default 2s, several hashes' time at production cost).
	Wait time.Duration
	// Hash and Check replace store.HashPassword and store.CheckPassword
	// (tests count and hold calls through them).
	Hash  func(password string, cost int) (store.PasswordHash, error)
	Check func(hash store.PasswordHash, password string) error
}

// Hasher hashes and verifies passwords under one cap on how many run at
// once. bcrypt at production cost takes a core for a quarter of a second;
// without the cap a burst of sign-ins (or of setup, invitation and reset
// forms) would take every core from the rest of the service.
type Hasher struct {
	opts  HasherOptions
	slots chan struct{}
}

// NewHasher returns a Hasher configured by opts.
func NewHasher(opts HasherOptions) *Hasher {
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.Wait <= 0 {
		opts.Wait = 2 * time.Second
	}
	if opts.Hash == nil {
		opts.Hash = store.HashPassword
	}
	if opts.Check == nil {
		opts.Check = store.CheckPassword
	}
	return &Hasher{opts: opts, slots: make(chan struct{}, opts.Concurrency)}
}

// Wait is how long a caller waits for a slot: the Retry-After of a busy
// answer.
func (h *Hasher) Wait() time.Duration { return h.opts.Wait }

// acquire takes a slot, waiting at most the configured wait and never past
// ctx; release gives it back.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(h.opts.Wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, ErrHashBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Hash hashes a new password within the cap.
func (h *Hasher) Hash(ctx context.Context, password string) (store.PasswordHash, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return h.opts.Hash(password, h.opts.Cost)
}

// Matches reports whether password matches hash, verified within the cap.
// The error is only ErrHashBusy or ctx's: a hash that does not verify, for
// whatever reason, is a mismatch.
func (h *Hasher) Matches(ctx context.Context, hash store.PasswordHash, password string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return h.opts.Check(hash, password) == nil, nil
}
