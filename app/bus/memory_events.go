package bus

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

type memSub struct {
	ch     chan []byte
	closed bool // guarded by MemoryBus.evMu
}

type memPrefixSub struct {
	prefix string
	ch     chan Event
	closed bool // guarded by MemoryBus.evMu
}

// PublishEvent implements Events.PublishEvent. Subscribers receive a shared
// copy of payload and must not modify it.
func (m *MemoryBus) PublishEvent(ctx context.Context, channel string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bus: publish event %s: %w", channel, err)
	}
	if m.closed.Load() {
		return ErrClosed
	}
	p := bytes.Clone(payload)
	m.evMu.Lock()
	defer m.evMu.Unlock()
	for sub := range m.subs[channel] {
		offer(sub.ch, p)
	}
	for sub := range m.psubs {
		if strings.HasPrefix(channel, sub.prefix) {
			offer(sub.ch, Event{Channel: channel, Payload: p})
		}
	}
	return nil
}

// offer puts p in ch without waiting, dropping the oldest buffered event
// when ch is full. Only publishers holding evMu send, so after one receive
// there is room.
func offer[T any](ch chan T, p T) {
	select {
	case ch <- p:
		return
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- p:
	default:
	}
}

// Subscribe implements Events.Subscribe.
func (m *MemoryBus) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", channel, err)
	}
	sub := &memSub{ch: make(chan []byte, m.opts.EventBuffer)}
	m.evMu.Lock()
	if m.closed.Load() {
		m.evMu.Unlock()
		return nil, ErrClosed
	}
	if m.subs[channel] == nil {
		m.subs[channel] = make(map[*memSub]struct{})
	}
	m.subs[channel][sub] = struct{}{}
	m.evMu.Unlock()

	go func() {
		select {
		case <-ctx.Done():
		case <-m.done:
		}
		m.evMu.Lock()
		defer m.evMu.Unlock()
		delete(m.subs[channel], sub)
		if len(m.subs[channel]) == 0 {
			delete(m.subs, channel)
		}
		if !sub.closed {
			sub.closed = true
			close(sub.ch)
		}
	}()
	return sub.ch, nil
}

// SubscribePrefix implements Events.SubscribePrefix.
func (m *MemoryBus) SubscribePrefix(ctx context.Context, prefix string) (<-chan Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: subscribe %s*: %w", prefix, err)
	}
	sub := &memPrefixSub{prefix: prefix, ch: make(chan Event, m.opts.EventBuffer)}
	m.evMu.Lock()
	if m.closed.Load() {
		m.evMu.Unlock()
		return nil, ErrClosed
	}
	m.psubs[sub] = struct{}{}
	m.evMu.Unlock()

	go func() {
		select {
		case <-ctx.Done():
		case <-m.done:
		}
		m.evMu.Lock()
		defer m.evMu.Unlock()
		delete(m.psubs, sub)
		if !sub.closed {
			sub.closed = true
			close(sub.ch)
		}
	}()
	return sub.ch, nil
}

// closeSubscriptions ends every subscription (on Close).
func (m *MemoryBus) closeSubscriptions() {
	m.evMu.Lock()
	defer m.evMu.Unlock()
	for channel, subs := range m.subs {
		for sub := range subs {
			if !sub.closed {
				sub.closed = true
				close(sub.ch)
			}
		}
		delete(m.subs, channel)
	}
	for sub := range m.psubs {
		if !sub.closed {
			sub.closed = true
			close(sub.ch)
		}
		delete(m.psubs, sub)
	}
}
