package public

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// Live updates: one bus subscription per page (made when the page is first
// served) marks the page's cache dirty and fans the event out to the page's
// server-sent-event streams.

const (
	sseHeartbeat    = 20 * time.Second
	sseWriteTimeout = 30 * time.Second
	sseClientBuffer = 8
)

// hubs holds one hub per page that has been served.
type hubs struct {
	mu sync.Mutex
	m  map[string]*hub
}

// hub fans one page's events out to its streams.
type hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
}

func newHubs() *hubs { return &hubs{m: map[string]*hub{}} }

// ensure returns the page's hub, subscribing to its events first if this
// is the first time. The first subscription is made before returning, so a
// snapshot read afterwards cannot miss an event. Without a bus it returns a
// hub that never fires.
func (h *hubs) ensure(s *Site, slug string) *hub {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hb, ok := h.m[slug]; ok {
		return hb
	}
	hb := &hub{clients: map[chan []byte]struct{}{}}
	h.m[slug] = hb
	if s.bus == nil {
		return hb
	}
	ch, err := s.bus.Subscribe(s.live, pipeline.EventsChannel(slug))
	if err != nil {
		s.log.Warn("subscribe to page events", slog.String("page", slug), slog.Any("error", err))
	}
	go s.followPage(slug, hb, ch)
	return hb
}

// followPage delivers a page's events until the server shuts down,
// resubscribing (and invalidating the page, since events may have been
// missed) whenever the subscription ends.
func (s *Site) followPage(slug string, hb *hub, ch <-chan []byte) {
	backoff := 100 * time.Millisecond
	for {
		if ch != nil {
			for msg := range ch {
				s.cache.invalidate(slug)
				hb.broadcast(msg)
			}
		}
		select {
		case <-s.live.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
		var err error
		ch, err = s.bus.Subscribe(s.live, pipeline.EventsChannel(slug))
		if errors.Is(err, bus.ErrClosed) {
			return // the process is shutting down; the TTL keeps pages fresh meanwhile
		}
		if err != nil {
			s.log.Warn("resubscribe to page events", slog.String("page", slug), slog.Any("error", err))
			ch = nil
			continue
		}
		backoff = 100 * time.Millisecond
		s.cache.invalidate(slug)
		hb.broadcast([]byte(`{"type":"resync"}`))
	}
}

// join registers a stream; leave must be called when it ends.
func (hb *hub) join() chan []byte {
	ch := make(chan []byte, sseClientBuffer)
	hb.mu.Lock()
	hb.clients[ch] = struct{}{}
	hb.mu.Unlock()
	return ch
}

func (hb *hub) leave(ch chan []byte) {
	hb.mu.Lock()
	delete(hb.clients, ch)
	hb.mu.Unlock()
}

// broadcast offers msg to every stream without waiting: a stream that is
// behind loses events, which costs it nothing, since every event means
// "fetch the page again".
func (hb *hub) broadcast(msg []byte) {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	for ch := range hb.clients {
		select {
		case ch <- msg:
		default:
		}
	}
}

// Events streams a page's events as server-sent events: a comment at
// once, each event as a data line, a heartbeat comment every 20 s. The write
// deadline is extended before each write, since the server's WriteTimeout
// would otherwise end the stream; the stream ends when the client goes away
// or the server shuts down.
func (s *Site) Events(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.pageState(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	hb := s.hubs.ensure(s, st.snap.page.Slug)
	events := hb.join()
	defer hb.leave(events)

	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(b []byte) error {
		if err := rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send([]byte(": connected\nretry: 3000\n\n")); err != nil {
		return nil // the client is gone; nothing to answer
	}
	tick := time.NewTicker(sseHeartbeat)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-s.live.Done():
			return nil
		case <-tick.C:
			err = send([]byte(": ping\n\n"))
		case msg := <-events:
			err = send(sseMessage(msg))
		}
		if err != nil {
			return nil
		}
	}
}

// sseMessage frames a payload as one event, one data line per line.
func sseMessage(payload []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimRight(payload, "\n"), []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
