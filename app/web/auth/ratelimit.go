package auth

import (
	"sync"
	"time"
)

// limiter counts attempts per key in fixed windows: once a key has had max
// attempts in its current window, further attempts are refused until the
// window ends. Login uses it per account and per client address, so neither
// spraying one password over many accounts nor guessing many passwords for
// one account from many addresses gets far.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	windows map[string]*attemptWindow
	swept   time.Time
}

type attemptWindow struct {
	start time.Time
	n     int
}

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, windows: map[string]*attemptWindow{}}
}

// allow records one attempt under every key and reports whether it may go
// ahead. A refused attempt is not counted; retryAfter says how long until
// every refusing key's window has ended.
func (l *limiter) allow(keys ...string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.sweep(t)
	ok = true
	for _, k := range keys {
		w := l.windows[k]
		if w == nil || t.Sub(w.start) >= l.window {
			continue
		}
		if w.n >= l.max {
			ok = false
			retryAfter = max(retryAfter, w.start.Add(l.window).Sub(t))
		}
	}
	if !ok {
		return false, retryAfter
	}
	for _, k := range keys {
		w := l.windows[k]
		if w == nil || t.Sub(w.start) >= l.window {
			w = &attemptWindow{start: t}
			l.windows[k] = w
		}
		w.n++
	}
	return true, 0
}

// sweep drops ended windows once per window length, so memory stays bounded
// by the attempts of the last couple of minutes.
func (l *limiter) sweep(t time.Time) {
	if t.Sub(l.swept) < l.window {
		return
	}
	l.swept = t
	for k, w := range l.windows {
		if t.Sub(w.start) >= l.window {
			delete(l.windows, k)
		}
	}
}

// size is the number of live keys (tests check the sweep).
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.windows)
}

// Limiter is the fixed-window limiter for other forms anyone may post
// (the public subscribe form): max attempts per key per window.
type Limiter struct{ l *limiter }

// NewLimiter returns a Limiter allowing max attempts per key per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{l: newLimiter(max, window, time.Now)}
}

// Allow records one attempt under every key and reports whether it may go
// ahead; a refused attempt is not counted, and retryAfter says how long
// until every refusing key's window has ended.
func (l *Limiter) Allow(keys ...string) (ok bool, retryAfter time.Duration) {
	return l.l.allow(keys...)
}
