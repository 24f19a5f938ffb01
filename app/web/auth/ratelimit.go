package auth

import (
	"net/netip"
	"sync"
	"time"
)

// limiter counts attempts per key in fixed windows: once a key has had its
// maximum of attempts in its current window, further attempts are refused
// until the window ends. Each key carries its own maximum, so one attempt
// can be counted against a tight limit (an account from one network) and a
// loose one (the account from anywhere) at once.
type limiter struct {
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

// limit is one key an attempt counts against and how many attempts that
// key gets per window.
type limit struct {
	key string
	max int
}

func newLimiter(window time.Duration, now func() time.Time) *limiter {
	return &limiter{window: window, now: now, windows: map[string]*attemptWindow{}}
}

// allow records one attempt under every limit's key and reports whether it
// may go ahead. A refused attempt is counted under no key; retryAfter says
// how long until every refusing key's window has ended.
func (l *limiter) allow(limits ...limit) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.sweep(t)
	ok = true
	for _, lim := range limits {
		w := l.windows[lim.key]
		if w == nil || t.Sub(w.start) >= l.window {
			continue
		}
		if w.n >= lim.max {
			ok = false
			retryAfter = max(retryAfter, w.start.Add(l.window).Sub(t))
		}
	}
	if !ok {
		return false, retryAfter
	}
	for _, lim := range limits {
		w := l.windows[lim.key]
		if w == nil || t.Sub(w.start) >= l.window {
			w = &attemptWindow{start: t}
			l.windows[lim.key] = w
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
type Limiter struct {
	l   *limiter
	max int
}

// NewLimiter returns a Limiter allowing max attempts per key per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{l: newLimiter(window, time.Now), max: max}
}

// Allow records one attempt under every key and reports whether it may go
// ahead; a refused attempt is not counted, and retryAfter says how long
// until every refusing key's window has ended. A key made from a client
// address should come from ClientNetwork, so one IPv6 client cannot
// spread its attempts over the 2^64 addresses of its own network.
func (l *Limiter) Allow(keys ...string) (ok bool, retryAfter time.Duration) {
	limits := make([]limit, len(keys))
	for i, k := range keys {
		limits[i] = limit{k, l.max}
	}
	return l.l.allow(limits...)
}

// ClientNetwork is the network a client address is limited as: an IPv4
// address stands for itself, an IPv6 address for its /64 — the smallest
// block a provider hands out, which one client can rotate through at will.
// IPv4-mapped IPv6 addresses count as the IPv4 address; zones are dropped.
// Anything that is not an IP address is returned unchanged.
func ClientNetwork(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.WithZone("").Unmap()
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}
