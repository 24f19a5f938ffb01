package auth

import (
	"testing"
	"time"
)

func TestLimiterWindows(t *testing.T) {
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	l := newLimiter(3, time.Minute, func() time.Time { return clock })
	for i := range 3 {
		if ok, _ := l.allow("ip:a", "email:x"); !ok {
			t.Fatalf("attempt %d refused, want allowed", i+1)
		}
	}
	ok, wait := l.allow("ip:a", "email:y")
	if ok || wait != time.Minute {
		t.Errorf("4th attempt from ip:a = %v, retry after %v; want refused, 1m", ok, wait)
	}
	if ok, _ := l.allow("ip:b", "email:y"); !ok {
		t.Error("another address and account refused")
	}
	clock = clock.Add(45 * time.Second)
	if ok, wait := l.allow("ip:c", "email:x"); ok || wait != 15*time.Second {
		t.Errorf("email:x after 45s = %v, %v; want refused, 15s", ok, wait)
	}
	clock = clock.Add(15 * time.Second)
	if ok, _ := l.allow("ip:a", "email:x"); !ok {
		t.Error("refused after the window ended")
	}
	// Ended windows are swept: only the keys just used remain.
	clock = clock.Add(2 * time.Minute)
	l.allow("ip:z")
	if n := l.size(); n != 1 {
		t.Errorf("live keys after the sweep = %d, want 1", n)
	}
}
