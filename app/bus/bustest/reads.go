package bustest

import (
	"context"
	"maps"
	"sync"
	"time"

	"pharos/app/bus"
)

// Reads is a real bus that counts the reads (Consume calls) made through
// it: in all, those that wait for entries, and per stream. On Redis each
// is a round trip, so tests of what a role costs at a trickle count them.
type Reads struct {
	bus.Bus
	mu       sync.Mutex
	waits    int
	byStream map[string]int
}

// CountReads wraps b.
func CountReads(b bus.Bus) *Reads { return &Reads{Bus: b, byStream: map[string]int{}} }

// Consume counts the read and passes it on.
func (r *Reads) Consume(ctx context.Context, stream, group, consumer string, count int,
	block time.Duration) ([]bus.Message, error) {
	r.mu.Lock()
	r.byStream[stream]++
	if block > 0 {
		r.waits++
	}
	r.mu.Unlock()
	return r.Bus.Consume(ctx, stream, group, consumer, count, block)
}

// Counts returns the reads so far: in all, those that waited, and per
// stream.
func (r *Reads) Counts() (total, waits int, byStream map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.byStream {
		total += n
	}
	return total, r.waits, maps.Clone(r.byStream)
}
