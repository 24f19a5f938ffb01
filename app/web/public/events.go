package public

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"pharos/app/web/auth"

	"github.com/labstack/echo/v4"
)

const (
	sseHeartbeat    = 20 * time.Second
	sseWriteTimeout = 30 * time.Second
	sseClientBuffer = 8
)

// Events streams a page's events as server-sent events: a comment and the
// current event id at once, each event with its id and a data line, a
// heartbeat comment every 20 s. A client that reconnects with a
// Last-Event-ID other than the newest id (it missed events, or they were
// another process's) first gets a snapshot event with the page's whole
// state, so any EventSource client converges, not only public.js. The
// write deadline is extended before each write, since the server's
// WriteTimeout would otherwise end the stream; the stream ends when the
// client goes away or the server shuts down. Streams are capped in all and
// per client network (streams.go): beyond a cap the answer is 503 with
// Retry-After.
func (s *Site) Events(c echo.Context) error {
	// The client as the shell's IP extractor decided it (trusted proxies'
	// X-Forwarded-For, else the peer), counted by network as sign-ins are.
	release, full := s.streams.acquire(auth.ClientNetwork(c.RealIP()))
	if full != "" {
		return s.streams.refuse(c, full)
	}
	defer release()
	ctx := c.Request().Context()
	st, err := s.pageState(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	slug := st.snap.page.Slug
	hb, events, last := s.hubs.join(slug)
	defer s.hubs.leave(slug, hb, events)
	var resync []byte
	if seen, ok := lastEventID(c.Request()); ok && seen != last {
		// Read after joining: an event from now on reaches the stream,
		// and every earlier one is in this state.
		if st, err = s.pageState(ctx, slug); err != nil {
			return err
		}
		if resync, err = snapshotEvent(st.snap, last); err != nil {
			return err
		}
	}

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
	// An id field without data sets the client's last event id without
	// firing an event: a reconnect then says what it has seen.
	hello := append([]byte(": connected\nretry: 3000\nid: "+strconv.FormatInt(last, 10)+"\n\n"), resync...)
	if err := send(hello); err != nil {
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
			err = send(msg)
		}
		if err != nil {
			return nil
		}
	}
}

// lastEventID is the id a reconnecting client last saw: the
// Last-Event-ID header EventSource sends, or the lastEventId query
// parameter that polyfills use.
func lastEventID(r *http.Request) (int64, bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("lastEventId")
	}
	if v == "" {
		return 0, false
	}
	// An unreadable id reads as 0, which is never the newest: the client
	// gets the state.
	id, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return id, true
}

// snapshotEvent is the page's whole state as one event (type "snapshot"),
// shaped like the page events with ids as strings.
func snapshotEvent(sn *snapshot, id int64) ([]byte, error) {
	type component struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	type incident struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Impact string `json:"impact"`
	}
	ind := sn.overallStatus()
	ev := struct {
		Type       string      `json:"type"`
		Page       string      `json:"page"`
		Status     spStatus    `json:"status"`
		Components []component `json:"components"`
		Incidents  []incident  `json:"incidents"`
	}{Type: "snapshot", Page: sn.page.Slug, Status: spStatus{Indicator: ind.Indicator, Description: ind.Description},
		Components: []component{}, Incidents: []incident{}}
	for _, c := range sn.components {
		ev.Components = append(ev.Components, component{idString(c.ID), c.Status})
	}
	for _, in := range sn.unresolved() {
		ev.Incidents = append(ev.Incidents, incident{idString(in.ID), in.Status, in.Impact})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return sseMessage(id, b), nil
}

// sseMessage frames a payload as one event with its id, one data line per
// line.
func sseMessage(id int64, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("id: ")
	b.WriteString(strconv.FormatInt(id, 10))
	b.WriteByte('\n')
	for _, line := range bytes.Split(bytes.TrimRight(payload, "\n"), []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
