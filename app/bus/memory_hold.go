package bus

import (
	"context"
	"fmt"
	"time"
)

// Hold implements Streams.Hold.
func (m *MemoryBus) Hold(ctx context.Context, stream, group, consumer string, ids ...string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: hold %s/%s: %w", stream, group, err)
	}
	parsed := make([]streamID, 0, len(ids))
	for _, s := range ids {
		id, err := parseID(s)
		if err != nil {
			return nil, fmt.Errorf("bus: hold %s/%s: %w", stream, group, err)
		}
		parsed = append(parsed, id)
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
	now := time.Now()
	var held []string
	for i, id := range parsed {
		if p := g.pending[id]; p != nil && p.consumer == consumer {
			p.delivered = now
			held = append(held, ids[i])
		}
	}
	return held, nil
}
