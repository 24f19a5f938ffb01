package bus

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryBus is the in-process Bus for the embedded, single-process run. It
// keeps Redis's semantics (consumer groups, pending entries with delivery
// counts, reclaim after ClaimIdle, dead-lettering, trimming of acknowledged
// entries, the MaxLen cap, ids "ms-seq") so that roles behave the same on
// either bus. Nothing survives the process.
type MemoryBus struct {
	opts   Options
	capped *capMeter
	closed atomic.Bool
	done   chan struct{} // closed by Close: wakes blocked calls

	mu      sync.Mutex
	streams map[string]*memStream

	evMu  sync.Mutex
	subs  map[string]map[*memSub]struct{}
	psubs map[*memPrefixSub]struct{}

	lockMu  sync.Mutex
	locks   map[string]memLock
	lockSeq uint64
}

var _ Bus = (*MemoryBus)(nil)

// NewMemory returns an empty in-process bus. Options.Prefix is unused.
//
// It panics, as prometheus.MustRegister does, when Options.Registerer
// refuses the bus's metrics for another reason than holding the same ones
// already (a conflicting collector of the same name: a programming error).
func NewMemory(opts Options) *MemoryBus {
	opts = opts.withDefaults()
	capped, err := newCapMeter(opts)
	if err != nil {
		panic(err)
	}
	return &MemoryBus{
		opts:    opts,
		capped:  capped,
		done:    make(chan struct{}),
		streams: make(map[string]*memStream),
		subs:    make(map[string]map[*memSub]struct{}),
		psubs:   make(map[*memPrefixSub]struct{}),
		locks:   make(map[string]memLock),
	}
}

type memStream struct {
	entries []memEntry // ascending ids
	last    streamID
	groups  map[string]*memGroup
	wake    chan struct{} // closed on the next append; nil when nobody waits
}

type memEntry struct {
	id         streamID
	payload    []byte
	originalID string // set on dead-letter entries
}

type memGroup struct {
	lastDelivered streamID
	pending       map[streamID]*memPending
	// seen is when each consumer last called Consume, as Redis 7.2 counts idle
	// time (PruneConsumers).
	seen map[string]time.Time
}

type memPending struct {
	consumer   string
	deliveries int64
	delivered  time.Time
}

// stream returns the named stream, creating it. Callers hold m.mu.
func (m *MemoryBus) stream(name string) *memStream {
	s, ok := m.streams[name]
	if !ok {
		s = &memStream{groups: make(map[string]*memGroup)}
		m.streams[name] = s
	}
	return s
}

func (s *memStream) group(name string) *memGroup {
	g, ok := s.groups[name]
	if !ok {
		// New groups start at 0: nothing published before the first
		// consumer arrived is lost.
		g = &memGroup{pending: make(map[streamID]*memPending), seen: make(map[string]time.Time)}
		s.groups[name] = g
	}
	return g
}

// append adds an entry with the next id, caps the stream at maxLen entries
// and wakes blocked consumers. It returns the new id and how many entries
// the cap dropped.
func (s *memStream) append(payload []byte, originalID string, now time.Time, maxLen int64) (streamID, int64) {
	id := streamID{ms: uint64(now.UnixMilli())}
	if !s.last.less(id) {
		id = streamID{ms: s.last.ms, seq: s.last.seq + 1}
	}
	s.last = id
	s.entries = append(s.entries, memEntry{id: id, payload: payload, originalID: originalID})
	var drop int64
	if n := int64(len(s.entries)); n > maxLen {
		drop = n - maxLen
		s.dropHead(int(drop))
	}
	if s.wake != nil {
		close(s.wake)
		s.wake = nil
	}
	return id, drop
}

func (s *memStream) find(id streamID) (memEntry, bool) {
	i := sort.Search(len(s.entries), func(i int) bool { return !s.entries[i].id.less(id) })
	if i < len(s.entries) && s.entries[i].id == id {
		return s.entries[i], true
	}
	return memEntry{}, false
}

func (s *memStream) waitCh() <-chan struct{} {
	if s.wake == nil {
		s.wake = make(chan struct{})
	}
	return s.wake
}

// Publish appends payload (copied) to stream.
func (m *MemoryBus) Publish(ctx context.Context, stream string, payload []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("bus: publish %s: %w", stream, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return "", ErrClosed
	}
	id, capped := m.stream(stream).append(bytes.Clone(payload), "", time.Now(), m.opts.MaxLen)
	m.capped.add(stream, capped)
	return id.String(), nil
}

// Consume implements Streams.Consume.
func (m *MemoryBus) Consume(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]Message, error) {
	if count <= 0 {
		count = defaultCount
	}
	var timeout <-chan time.Time
	if block > 0 {
		t := time.NewTimer(block)
		defer t.Stop()
		timeout = t.C
	}
	m.mu.Lock()
	for first := true; ; first = false {
		if m.closed.Load() {
			m.mu.Unlock()
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			m.mu.Unlock()
			return nil, fmt.Errorf("bus: consume %s/%s: %w", stream, group, err)
		}
		s := m.stream(stream)
		g := s.group(group)
		now := time.Now()
		g.seen[consumer] = now
		var msgs []Message
		if first {
			msgs = m.reclaim(stream, s, g, consumer, count, now)
		}
		msgs = append(msgs, readNew(stream, s, g, consumer, count-len(msgs), now)...)
		if len(msgs) > 0 || block <= 0 {
			m.mu.Unlock()
			return msgs, nil
		}
		wake := s.waitCh()
		m.mu.Unlock()
		select {
		case <-wake:
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("bus: consume %s/%s: %w", stream, group, ctx.Err())
		case <-m.done:
			return nil, ErrClosed
		}
		m.mu.Lock()
	}
}

// reclaim hands consumer up to count entries of g idle for ClaimIdle,
// oldest first, dead-lettering those delivered too often. Callers hold m.mu.
func (m *MemoryBus) reclaim(name string, s *memStream, g *memGroup, consumer string, count int, now time.Time) []Message {
	var idle []streamID
	for id, p := range g.pending {
		if now.Sub(p.delivered) >= m.opts.ClaimIdle {
			idle = append(idle, id)
		}
	}
	slices.SortFunc(idle, streamID.compare)
	var msgs []Message
	defer s.trimAcked() // dead letters count as acknowledged
	for _, id := range idle {
		if len(msgs) >= count {
			break
		}
		p := g.pending[id]
		e, ok := s.find(id)
		if !ok { // trimmed away while pending, as Redis 7's XAUTOCLAIM drops it
			delete(g.pending, id)
			continue
		}
		p.deliveries++
		if p.deliveries > m.opts.MaxDeliveries {
			delete(g.pending, id)
			dead := DeadLetterStream(name)
			_, capped := m.stream(dead).append(e.payload, id.String(), now, m.opts.MaxLen)
			m.capped.add(dead, capped)
			continue
		}
		p.consumer, p.delivered = consumer, now
		msgs = append(msgs, message(name, e, p.deliveries))
	}
	return msgs
}

// readNew delivers up to count entries never delivered to g. Callers hold
// m.mu.
func readNew(name string, s *memStream, g *memGroup, consumer string, count int, now time.Time) []Message {
	if count <= 0 {
		return nil
	}
	i := sort.Search(len(s.entries), func(i int) bool { return g.lastDelivered.less(s.entries[i].id) })
	var msgs []Message
	for ; i < len(s.entries) && len(msgs) < count; i++ {
		e := s.entries[i]
		g.pending[e.id] = &memPending{consumer: consumer, deliveries: 1, delivered: now}
		g.lastDelivered = e.id
		msgs = append(msgs, message(name, e, 1))
	}
	return msgs
}

// message delivers e. Its Payload is the stored entry's own bytes, which
// Publish copied: a consumer only reads it (Message.Payload), so every
// delivery of an entry can share them.
func message(stream string, e memEntry, deliveries int64) Message {
	return Message{
		ID:         e.id.String(),
		Stream:     stream,
		Payload:    e.payload,
		Deliveries: deliveries,
		OriginalID: e.originalID,
	}
}

// Ack implements Streams.Ack.
func (m *MemoryBus) Ack(ctx context.Context, stream, group string, ids ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bus: ack %s/%s: %w", stream, group, err)
	}
	parsed := make([]streamID, 0, len(ids))
	for _, s := range ids {
		id, err := parseID(s)
		if err != nil {
			return fmt.Errorf("bus: ack %s/%s: %w", stream, group, err)
		}
		parsed = append(parsed, id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return ErrClosed
	}
	s, ok := m.streams[stream]
	if !ok {
		return nil
	}
	g, ok := s.groups[group]
	if !ok {
		return nil
	}
	for _, id := range parsed {
		delete(g.pending, id)
	}
	s.trimAcked()
	return nil
}

// Stats implements Streams.Stats.
func (m *MemoryBus) Stats(ctx context.Context, stream, group string) (length, pending int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("bus: stats %s/%s: %w", stream, group, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return 0, 0, ErrClosed
	}
	s, ok := m.streams[stream]
	if !ok {
		return 0, 0, nil
	}
	if g, ok := s.groups[group]; ok {
		pending = int64(len(g.pending))
	}
	return int64(len(s.entries)), pending, nil
}

// Close ends subscriptions and wakes blocked consumers; later calls return
// ErrClosed.
func (m *MemoryBus) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	close(m.done)
	m.closeSubscriptions()
	return nil
}
