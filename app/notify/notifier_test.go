package notify_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestWebhookDeliversStatuspagePayloadSigned(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, comps := seedPage(t, s)
		r := newReceiver(t, time.Now)
		r.subscribe(t, s, orgID, pageID, "/hook")
		runNotifier(t, webhookNotifier(t, s, time.Now, notify.Options{Poll: 20 * time.Millisecond}))

		w, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "API down",
			Status: "investigating", Body: "We are looking into it.", DeliverNotifications: true,
			Components: []store.ComponentStatusChange{{ComponentID: comps[0], Status: "major_outage"}}})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "two deliveries", func() bool { return len(r.accepted()) == 2 })

		var incident, component *spPayload
		for _, h := range r.accepted() {
			h := h
			if h.body.Incident != nil {
				incident = &h.body
			} else {
				component = &h.body
			}
		}
		if incident == nil || component == nil {
			t.Fatalf("got %v, want one incident and one component_update payload", r.accepted())
		}
		in := incident.Incident
		if in.ID != strconv.FormatInt(w.IncidentID, 10) || in.Name != "API down" || in.Status != "investigating" ||
			in.Impact != "critical" || len(in.IncidentUpdates) != 1 || in.IncidentUpdates[0].Body != "We are looking into it." ||
			in.Shortlink != "https://status.example/p/status/incidents/"+in.ID {
			t.Errorf("incident payload %+v: want the new incident with its one update", in)
		}
		for _, p := range []*spPayload{incident, component} {
			if p.Page.ID != strconv.FormatInt(pageID, 10) || p.Page.StatusIndicator != "critical" ||
				p.Page.StatusDescription != "Major System Outage" || p.Meta.Unsubscribe == "" || p.Meta.Documentation == "" {
				t.Errorf("meta/page %+v %+v: want the page, its status and links", p.Meta, p.Page)
			}
		}
		cu := component.ComponentUpdate
		if cu.OldStatus != "operational" || cu.NewStatus != "major_outage" || cu.ComponentID != strconv.FormatInt(comps[0], 10) ||
			component.Component.Name != "API" || component.Component.Status != "major_outage" {
			t.Errorf("component payload %+v %+v: want API operational → major_outage", cu, component.Component)
		}

		// An update without notifications reaches nobody.
		if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{
			Status: "identified", Body: "quiet", DeliverNotifications: false}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{
			Status: "monitoring", Body: "A fix is out.", DeliverNotifications: true}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the monitoring update", func() bool { return len(r.accepted()) == 3 })
		last := r.accepted()[2].body
		if last.Incident == nil || last.Incident.Status != "monitoring" || len(last.Incident.IncidentUpdates) != 3 ||
			last.Incident.IncidentUpdates[0].Body != "A fix is out." {
			t.Errorf("third delivery %s: want the monitoring update, newest first, with all three updates", kindOf(last))
		}
	})
}

// drive runs fan-out and delivery until until holds, stepping the clock
// whenever nothing is due, as a notifier left running for days would.
func drive(t *testing.T, n *notify.Notifier, c *clock, step time.Duration, until func() bool) {
	t.Helper()
	ctx := context.Background()
	for i := 0; !until(); i++ {
		if i > 10000 {
			t.Fatalf("not done after 10,000 steps (%v of test time)", time.Duration(i)*step)
		}
		if _, err := n.FanOutOnce(ctx); err != nil {
			t.Fatal(err)
		}
		claimed, err := n.DeliverOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if claimed == 0 {
			c.Advance(step)
		}
	}
}

func TestWebhookRetriesUntilReceiverRecovers(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, _ := seedPage(t, s)
		c := newClock()
		r := newReceiver(t, c.Now)
		// Down for two requests, then busy for an hour, then fine.
		r.answer = func(n int, w http.ResponseWriter, _ *http.Request) int {
			switch {
			case n < 2:
				return -1
			case n == 2:
				w.Header().Set("Retry-After", "3600")
				return http.StatusTooManyRequests
			}
			return http.StatusOK
		}
		sub := r.subscribe(t, s, orgID, pageID, "/hook")
		n := webhookNotifier(t, s, c.Now, notify.Options{})

		w, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "Slow images",
			Status: "investigating", Body: "one", DeliverNotifications: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"two", "three"} {
			if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{
				Status: "identified", Body: body, DeliverNotifications: true}); err != nil {
				t.Fatal(err)
			}
		}
		drive(t, n, c, time.Second, func() bool { return len(r.accepted()) == 3 })

		hits := r.all()
		if len(hits) != 6 {
			t.Fatalf("receiver got %d requests, want 6 (2 dropped, one 429, three 200)", len(hits))
		}
		if gap := hits[1].at.Sub(hits[0].at); gap < 5*time.Second || gap > 10*time.Second {
			t.Errorf("second attempt %v after the first, want the schedule's 5 s", gap)
		}
		if gap := hits[3].at.Sub(hits[2].at); gap < time.Hour {
			t.Errorf("attempt after 429 Retry-After: 3600 came %v later, want at least 1 h", gap)
		}
		seen := map[string]bool{}
		for i, h := range r.accepted() {
			if seen[h.id] {
				t.Errorf("webhook-id %s accepted twice", h.id)
			}
			seen[h.id] = true
			want := []string{"one", "two", "three"}[i]
			if got := h.body.Incident.IncidentUpdates[0].Body; got != want {
				t.Errorf("accepted #%d carries %q as its newest update, want %q (in order)", i, got, want)
			}
		}
		for _, h := range hits[:4] {
			if h.id != hits[0].id {
				t.Errorf("retry carried webhook-id %s, want the first attempt's %s", h.id, hits[0].id)
			}
		}
		log, err := s.Deliveries(ctx, orgID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range log {
			if d.Status != store.DeliverySent || d.SubscriberID != sub {
				t.Errorf("delivery %d: %s, want sent", d.ID, d.Status)
			}
		}
		if first := log[len(log)-1]; first.Attempts != 4 || first.ResponseCode != 200 {
			t.Errorf("first event's delivery: %d attempts, last code %d; want 4 and 200", first.Attempts, first.ResponseCode)
		}
	})
}

func TestWebhookGoneDisablesSubscriber(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, _ := seedPage(t, s)
		c := newClock()
		r := newReceiver(t, c.Now)
		r.answer = func(int, http.ResponseWriter, *http.Request) int { return http.StatusGone }
		sub := r.subscribe(t, s, orgID, pageID, "/gone")
		n := webhookNotifier(t, s, c.Now, notify.Options{})
		w, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "x", Status: "investigating",
			Body: "one", DeliverNotifications: true})
		if err != nil {
			t.Fatal(err)
		}
		drive(t, n, c, time.Second, func() bool { return len(r.all()) == 1 })
		got, err := s.Subscriber(ctx, orgID, sub)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisabledAt == nil {
			t.Fatal("subscriber still enabled after 410, want disabled")
		}
		if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{
			Status: "resolved", Body: "two", DeliverNotifications: true}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := n.FanOutOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := n.DeliverOnce(ctx); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Hour)
		}
		if hits := r.all(); len(hits) != 1 {
			t.Fatalf("disabled endpoint got %d requests, want 1 (the 410)", len(hits))
		}
	})
}

// crashingStore is the real store, except that recording fails once: the
// process died after the send and before the record.
type crashingStore struct {
	*store.Store
	crashed bool
}

func (c *crashingStore) RecordAttempts(ctx context.Context, a []store.DeliveryAttempt) (int, error) {
	if !c.crashed {
		c.crashed = true
		return 0, errors.New("killed before the record")
	}
	return c.Store.RecordAttempts(ctx, a)
}

func TestRestartAfterSendBeforeRecordLosesNothing(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, _ := seedPage(t, s)
		c := newClock()
		r := newReceiver(t, c.Now)
		r.subscribe(t, s, orgID, pageID, "/a")
		r.subscribe(t, s, orgID, pageID, "/b")
		if _, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "x",
			Status: "investigating", Body: "one", DeliverNotifications: true}); err != nil {
			t.Fatal(err)
		}
		first := webhookNotifier(t, &crashingStore{Store: s}, c.Now, notify.Options{Lease: time.Minute})
		if _, err := first.FanOutOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := first.DeliverOnce(ctx); err == nil {
			t.Fatal("DeliverOnce after a failed record returned nil, want the error")
		}
		if got := len(r.accepted()); got != 2 {
			t.Fatalf("receiver accepted %d before the crash, want 2", got)
		}

		// A new process: the lease runs out and both are sent again, with
		// the same ids.
		second := webhookNotifier(t, s, c.Now, notify.Options{Lease: time.Minute})
		drive(t, second, c, 10*time.Second, func() bool { return len(r.accepted()) == 4 })
		ids := map[string]int{}
		for _, h := range r.accepted() {
			ids[h.id]++
		}
		if len(ids) != 2 {
			t.Fatalf("webhook-ids %v: want the 2 deliveries' ids, each twice", ids)
		}
		log, err := s.Deliveries(ctx, orgID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range log {
			if d.Status != store.DeliverySent {
				t.Errorf("delivery %d is %s after the restart, want sent", d.ID, d.Status)
			}
		}
	})
}

func TestTwoNotifiersOnOnePostgresNeverSendTheSameAtOnce(t *testing.T) {
	t.Parallel()
	dbURL := storetest.PostgresURL(t)
	ctx := context.Background()
	open := func() *store.Store {
		s, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	orgID, pageID, _ := seedPage(t, a)
	r := newReceiver(t, time.Now)
	r.hold = 2 * time.Millisecond
	const subscribers = 200
	for i := range subscribers {
		r.subscribe(t, a, orgID, pageID, "/s"+strconv.Itoa(i))
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	for _, s := range []*store.Store{a, b} {
		n := webhookNotifier(t, s, time.Now, notify.Options{Batch: 25, Concurrency: 8, Poll: 10 * time.Millisecond})
		go func() { done <- n.Run(runCtx) }()
	}
	if _, err := a.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "x",
		Status: "investigating", Body: "one", DeliverNotifications: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "every subscriber served", func() bool { return len(r.all()) >= subscribers })
	stop()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	r.mu.Lock()
	overlap := r.overlap
	r.mu.Unlock()
	if len(overlap) > 0 {
		t.Errorf("webhook-ids in flight twice at once: %v", overlap)
	}
	ids := map[string]int{}
	for _, h := range r.all() {
		ids[h.id]++
	}
	if len(ids) != subscribers || len(r.all()) != subscribers {
		t.Errorf("%d requests for %d ids, want %d each sent once", len(r.all()), len(ids), subscribers)
	}
}
