package public

import (
	"testing"
	"time"
)

func TestStreamLimitDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      StreamLimits
		max     int
		per     int
		waitFor time.Duration
	}{
		{"file limit unknown", StreamLimits{}, 10000, 100, 30 * time.Second},
		{"half the file limit", StreamLimits{FileLimit: 1024}, 512, 51, 30 * time.Second},
		{"at most 10,000", StreamLimits{FileLimit: 1 << 20}, 10000, 100, 30 * time.Second},
		{"tiny file limit", StreamLimits{FileLimit: 3}, 1, 1, 30 * time.Second},
		{"set by the operator", StreamLimits{Max: 50, PerClient: 7, FileLimit: 1 << 20, RetryAfter: time.Second}, 50, 7, time.Second},
		{"per client never above the total", StreamLimits{Max: 5, PerClient: 9}, 5, 5, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.withDefaults()
			if got.Max != tt.max || got.PerClient != tt.per || got.RetryAfter != tt.waitFor {
				t.Errorf("got max %d, per client %d, retry after %s; want %d, %d, %s",
					got.Max, got.PerClient, got.RetryAfter, tt.max, tt.per, tt.waitFor)
			}
		})
	}
}

// TestStreamGate: slots are counted per client network and in all, and
// given back once each.
func TestStreamGate(t *testing.T) {
	t.Parallel()
	g := newStreamGate(StreamLimits{Max: 3, PerClient: 2})
	a1, full := g.acquire("a")
	if full != "" {
		t.Fatalf("first stream refused: %s", full)
	}
	if _, full := g.acquire("a"); full != "" {
		t.Fatalf("second stream of a refused: %s", full)
	}
	if _, full := g.acquire("a"); full != "client" {
		t.Errorf("third stream of a: got %q, want the client cap", full)
	}
	if _, full := g.acquire("b"); full != "" {
		t.Errorf("b while a is at its cap: refused (%s)", full)
	}
	if _, full := g.acquire("c"); full != "all" {
		t.Errorf("c at the total cap: got %q, want the total cap", full)
	}
	a1()
	a1() // a second call gives nothing back
	if _, full := g.acquire("c"); full != "" {
		t.Errorf("c after a stream ended: refused (%s)", full)
	}
	if _, full := g.acquire("d"); full != "all" {
		t.Errorf("d: got %q, want the total cap (a release counted twice?)", full)
	}
}
