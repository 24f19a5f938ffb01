package bus

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// PruneConsumers implements Streams.PruneConsumers. The check and the
// deletion happen under one lock, so a consumer cannot take entries in
// between.
func (m *MemoryBus) PruneConsumers(ctx context.Context, stream, group string, idle time.Duration) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: prune consumers %s/%s: %w", stream, group, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return nil, ErrClosed
	}
	s, ok := m.streams[stream]
	if !ok {
		return nil, nil
	}
	g, ok := s.groups[group]
	if !ok {
		return nil, nil
	}
	busy := make(map[string]bool)
	for _, p := range g.pending {
		busy[p.consumer] = true
	}
	now := time.Now()
	var removed []string
	for name, seen := range g.seen {
		if busy[name] || now.Sub(seen) <= idle {
			continue
		}
		delete(g.seen, name)
		removed = append(removed, name)
	}
	slices.Sort(removed) // Redis lists consumers by name
	return removed, nil
}
