package public_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// sseEvent is one dispatched event: its id and data.
type sseEvent struct {
	id   string
	data string
}

// sseStream reads a stream's events the way EventSource does; lastID is
// the id field seen so far, even from an event without data.
type sseStream struct {
	t      *testing.T
	events chan sseEvent
	ids    chan string
	res    *http.Response
}

func openStream(t *testing.T, url, lastEventID string) *sseStream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	s := &sseStream{t: t, events: make(chan sseEvent, 16), ids: make(chan string, 16), res: res}
	t.Cleanup(func() { res.Body.Close() })
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			l := sc.Text()
			switch {
			case l == "":
				if ev.id != "" {
					s.ids <- ev.id
				}
				if ev.data != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(l, "id: "):
				ev.id = strings.TrimPrefix(l, "id: ")
			case strings.HasPrefix(l, "data: "):
				ev.data += strings.TrimPrefix(l, "data: ")
			}
		}
	}()
	return s
}

func (s *sseStream) nextID() string {
	s.t.Helper()
	select {
	case id := <-s.ids:
		return id
	case <-time.After(2 * time.Second):
		s.t.Fatal("no id field within 2s")
	}
	return ""
}

func (s *sseStream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("stream ended")
		}
		return ev
	case <-time.After(2 * time.Second):
		s.t.Fatal("no event within 2s")
	}
	return sseEvent{}
}

func (s *sseStream) quiet(d time.Duration) {
	s.t.Helper()
	select {
	case ev := <-s.events:
		s.t.Fatalf("got event %+v, want none", ev)
	case <-time.After(d):
	}
}

// TestEventsResumeWithLastEventID: every event has an id; a client that
// reconnects with an older Last-Event-ID gets a snapshot of the page
// first, one that saw the newest id gets nothing extra, and a client of a
// restarted server (a new process knows none of the old ids) gets the
// snapshot too.
func TestEventsResumeWithLastEventID(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 1})
	serve := func() (string, *bus.MemoryBus) {
		b := bus.NewMemory(bus.Options{})
		t.Cleanup(func() { b.Close() })
		srv := webtest.NewServer(t, st, func(o *web.Options) { o.Bus, o.Listen = b, "127.0.0.1:0" })
		return runServer(t, srv) + "/p/acme/events", b
	}
	url, b := serve()

	s := openStream(t, url, "")
	hello := s.nextID()
	publish(t, b, "acme", f.components[0].ID, incident.MajorOutage)
	ev := s.next()
	if ev.id == "" || !greater(t, ev.id, hello) {
		t.Fatalf("event id %q, want one after the greeting's %q", ev.id, hello)
	}
	s.res.Body.Close()

	publish(t, b, "acme", f.components[1].ID, incident.DegradedPerformance) // missed
	again := openStream(t, url, ev.id)
	latest := again.nextID()
	snap := again.next()
	if !strings.Contains(snap.data, `"type":"snapshot"`) || snap.id != latest || !greater(t, latest, ev.id) {
		t.Fatalf("first event after reconnecting with an old id: %+v (latest %s), want the snapshot", snap, latest)
	}
	checkSnapshot(t, snap.data, f)

	current := openStream(t, url, latest)
	current.nextID()
	current.quiet(300 * time.Millisecond)
	publish(t, b, "acme", f.components[0].ID, incident.Operational)
	if ev := current.next(); !strings.Contains(ev.data, `"type":"status"`) {
		t.Errorf("up-to-date client: first event %+v, want the new status event", ev)
	}

	restarted, _ := serve() // a new process
	after := openStream(t, restarted, latest)
	after.nextID()
	if ev := after.next(); !strings.Contains(ev.data, `"type":"snapshot"`) {
		t.Errorf("after a restart: first event %+v, want the snapshot", ev)
	}
}

func checkSnapshot(t *testing.T, data string, f publicFixture) {
	t.Helper()
	var snap struct {
		Page   string `json:"page"`
		Status struct {
			Indicator string `json:"indicator"`
		} `json:"status"`
		Components []struct {
			ID     string `json:"id"` // a string, as in the JSON API
			Status string `json:"status"`
		} `json:"components"`
		Incidents []struct {
			ID string `json:"id"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(data), &snap); err != nil {
		t.Fatalf("snapshot %s: %v", data, err)
	}
	if snap.Page != "acme" || snap.Status.Indicator == "" || len(snap.Components) != len(f.components) {
		t.Errorf("snapshot %s: want page acme, an indicator and %d components", data, len(f.components))
	}
	if len(snap.Incidents) != 1 || snap.Incidents[0].ID != strconv.FormatInt(f.incidents[0], 10) {
		t.Errorf("snapshot incidents %+v, want the unresolved one", snap.Incidents)
	}
}

func greater(t *testing.T, a, b string) bool {
	t.Helper()
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("ids %q, %q are not numbers", a, b)
	}
	return x > y
}
