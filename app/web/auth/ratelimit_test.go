package auth

import (
	"testing"
	"time"
)

func TestLimiterWindows(t *testing.T) {
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	l := newLimiter(time.Minute, func() time.Time { return clock })
	allow := func(keys ...string) (bool, time.Duration) {
		var ls []limit
		for _, k := range keys {
			ls = append(ls, limit{k, 3})
		}
		return l.allow(ls...)
	}
	for i := range 3 {
		if ok, _ := allow("ip:a", "email:x"); !ok {
			t.Fatalf("attempt %d refused, want allowed", i+1)
		}
	}
	ok, wait := allow("ip:a", "email:y")
	if ok || wait != time.Minute {
		t.Errorf("4th attempt from ip:a = %v, retry after %v; want refused, 1m", ok, wait)
	}
	if ok, _ := allow("ip:b", "email:y"); !ok {
		t.Error("another address and account refused")
	}
	clock = clock.Add(45 * time.Second)
	if ok, wait := allow("ip:c", "email:x"); ok || wait != 15*time.Second {
		t.Errorf("email:x after 45s = %v, %v; want refused, 15s", ok, wait)
	}
	clock = clock.Add(15 * time.Second)
	if ok, _ := allow("ip:a", "email:x"); !ok {
		t.Error("refused after the window ended")
	}
	// Ended windows are swept: only the keys just used remain.
	clock = clock.Add(2 * time.Minute)
	allow("ip:z")
	if n := l.size(); n != 1 {
		t.Errorf("live keys after the sweep = %d, want 1", n)
	}
}

func TestClientNetwork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		if got := ClientNetwork(tc.ip); got != tc.want {
			t.Errorf("ClientNetwork(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

// TestLimiterPerKeyMaximum: one attempt counts against keys with
// different maximums, and the tightest one that is full refuses it.
func TestLimiterPerKeyMaximum(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	l := newLimiter(time.Minute, func() time.Time { return clock })
	attempt := func(network string) bool {
		ok, _ := l.allow(limit{"pair:" + network, 2}, limit{"account", 5})
		return ok
	}
	for i, network := range []string{"a", "a", "b", "b", "c"} {
		if !attempt(network) {
			t.Fatalf("attempt %d from %s refused, want allowed", i+1, network)
		}
	}
	if attempt("a") {
		t.Error("3rd attempt from a allowed; its pair limit is 2")
	}
	if attempt("d") {
		t.Error("6th attempt on the account allowed; its ceiling is 5")
	}
}
