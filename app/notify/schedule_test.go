package notify

import (
	"testing"
	"time"
)

func TestNextAttemptFollowsTheSchedule(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		attempts   int
		retryAfter time.Duration
		jitter, u  float64
		want       time.Duration // from at; -1 for dead
	}{
		{"first failure waits 5 s", 1, 0, 0, 0, 5 * time.Second},
		{"second 5 min", 2, 0, 0, 0, 5 * time.Minute},
		{"third 30 min", 3, 0, 0, 0, 30 * time.Minute},
		{"fourth 2 h", 4, 0, 0, 0, 2 * time.Hour},
		{"fifth 5 h", 5, 0, 0, 0, 5 * time.Hour},
		{"sixth 10 h", 6, 0, 0, 0, 10 * time.Hour},
		{"seventh 14 h", 7, 0, 0, 0, 14 * time.Hour},
		{"eighth 20 h", 8, 0, 0, 0, 20 * time.Hour},
		{"ninth 24 h", 9, 0, 0, 0, 24 * time.Hour},
		{"the tenth failure is the last", 10, 0, 0, 0, -1},
		{"no attempt made is no schedule", 0, 0, 0, 0, -1},
		{"jitter adds up to its share", 2, 0, 0.1, 0.5, 5*time.Minute + 15*time.Second},
		{"jitter at its top", 1, 0, 0.1, 0.999999, 5*time.Second + 499999500*time.Nanosecond},
		{"negative jitter is none", 1, 0, -1, 0.5, 5 * time.Second},
		{"Retry-After beyond the step wins", 1, 2 * time.Minute, 0, 0, 2 * time.Minute},
		{"Retry-After within the step changes nothing", 3, time.Minute, 0, 0, 30 * time.Minute},
		{"Retry-After is capped at a day", 1, 30 * 24 * time.Hour, 0, 0, 24 * time.Hour},
		{"Retry-After does not revive a dead delivery", 10, time.Minute, 0, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, ok := NextAttempt(at, tt.attempts, tt.retryAfter, tt.jitter, tt.u)
			if tt.want < 0 {
				if ok {
					t.Fatalf("got a next attempt at %v, want none (dead)", next)
				}
				return
			}
			if !ok || next.Sub(at) != tt.want {
				t.Fatalf("got %v after (ok %v), want %v", next.Sub(at), ok, tt.want)
			}
		})
	}
}

func TestScheduleSpansAboutThreeDays(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for _, d := range retryDelays {
		total += d
	}
	if total < 70*time.Hour || total > 80*time.Hour || MaxAttempts != 10 {
		t.Fatalf("schedule spans %v over %d attempts, want about three days over 10", total, MaxAttempts)
	}
}
