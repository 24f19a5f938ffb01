package public

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// Live updates: Run holds one bus subscription for every page's events and
// is the one dispatcher: each event marks its page's cache dirty and goes
// to the streams open on that page. Requests never subscribe and start
// nothing; a page's hub exists while the page has streams.

const (
	// resubscribeMin and resubscribeMax bound the pause before following
	// the events again after the subscription failed or ended.
	resubscribeMin = 100 * time.Millisecond
	resubscribeMax = 10 * time.Second
)

// resyncEvent tells a stream that events may have been missed: the client
// fetches the page again.
var resyncEvent = []byte(`{"type":"resync"}`)

// Run follows every page's events until ctx ends. When the subscription
// fails or ends (Redis restarted), it subscribes again with backoff; every
// (re)subscription marks every cached page dirty and sends open streams a
// resync event, since events may have been missed meanwhile. Without a bus
// it returns at once: pages then refresh on their TTL. The web server runs
// it beside the listener and waits for it.
func (s *Site) Run(ctx context.Context) error {
	defer s.markFollowing()
	if s.bus == nil {
		return nil
	}
	prefix := pipeline.EventsChannel("")
	backoff := resubscribeMin
	for {
		events, err := s.bus.SubscribePrefix(ctx, prefix)
		switch {
		case ctx.Err() != nil, errors.Is(err, bus.ErrClosed):
			return nil // shutting down
		case err != nil:
			s.markFollowing()
			s.log.Warn("subscribe to page events", slog.Any("error", err))
		default:
			backoff = resubscribeMin
			// Resync first: the server answers once Run follows, and a
			// stream opened after the subscription missed nothing.
			s.resyncAll()
			s.markFollowing()
			for ev := range events {
				slug := strings.TrimPrefix(ev.Channel, prefix)
				s.cache.invalidate(slug)
				if hb := s.hubs.get(slug); hb != nil {
					hb.broadcast(s.hubs, ev.Payload)
				}
			}
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("page events subscription ended; subscribing again")
		}
		if !pipeline.Sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, resubscribeMax)
	}
}

// markFollowing records that Run made its first attempt to subscribe (or
// returned).
func (s *Site) markFollowing() { s.followOnce.Do(func() { close(s.following) }) }

// resyncAll marks every page dirty and tells every open stream to fetch
// its page again.
func (s *Site) resyncAll() {
	s.cache.invalidateAll()
	for _, hb := range s.hubs.all() {
		hb.broadcast(s.hubs, resyncEvent)
	}
}

// hubs holds the hub of each page with open streams, and hands out event
// ids. Its lock guards the map only: nothing waits on I/O under it.
type hubs struct {
	mu sync.Mutex
	m  map[string]*hub
	// lastID is the newest event id handed out: Unix milliseconds, or one
	// more than the previous id, so ids grow across restarts of the
	// process and a stream can tell from Last-Event-ID whether it missed
	// one.
	lastID atomic.Int64
}

func newHubs() *hubs { return &hubs{m: map[string]*hub{}} }

// nextID returns an id greater than every id handed out before.
func (h *hubs) nextID() int64 {
	for {
		prev := h.lastID.Load()
		id := max(prev+1, time.Now().UnixMilli())
		if h.lastID.CompareAndSwap(prev, id) {
			return id
		}
	}
}

// hub fans one page's events out to its streams, each framed once with
// its id.
type hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	// last is the id of the page's newest event, or a fresh id when the
	// hub was made: a client that saw an id from before then may have
	// missed events and gets a snapshot.
	last int64
}

// join registers a stream on a page and returns its channel and the id of
// the newest event it will not receive; leave must be called when it ends.
func (h *hubs) join(slug string) (*hub, chan []byte, int64) {
	ch := make(chan []byte, sseClientBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	hb := h.m[slug]
	if hb == nil {
		hb = &hub{clients: map[chan []byte]struct{}{}, last: h.nextID()}
		h.m[slug] = hb
	}
	hb.mu.Lock()
	defer hb.mu.Unlock()
	hb.clients[ch] = struct{}{}
	return hb, ch, hb.last
}

// leave unregisters a stream, dropping the page's hub with its last one.
func (h *hubs) leave(slug string, hb *hub, ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hb.mu.Lock()
	defer hb.mu.Unlock()
	delete(hb.clients, ch)
	if len(hb.clients) == 0 && h.m[slug] == hb {
		delete(h.m, slug)
	}
}

func (h *hubs) get(slug string) *hub {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[slug]
}

func (h *hubs) all() []*hub {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*hub, 0, len(h.m))
	for _, hb := range h.m {
		out = append(out, hb)
	}
	return out
}

// broadcast offers payload to every stream without waiting: a stream that
// is behind loses events, which costs it nothing, since every event means
// "fetch the page again".
func (hb *hub) broadcast(ids *hubs, payload []byte) {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	hb.last = ids.nextID()
	msg := sseMessage(hb.last, payload)
	for ch := range hb.clients {
		select {
		case ch <- msg:
		default:
		}
	}
}

// waitFollowing is how long the server waits for Run's first subscription
// before answering anyway (a bus that hangs must not keep the pages down).
const waitFollowing = time.Second

// WaitFollowing returns once Run made its first attempt to subscribe, ctx
// ended, or a second passed. The server starts answering after it, so
// that a stream opened then does not miss an event published after it.
func (s *Site) WaitFollowing(ctx context.Context) {
	t := time.NewTimer(waitFollowing)
	defer t.Stop()
	select {
	case <-s.following:
	case <-ctx.Done():
	case <-t.C:
	}
}
