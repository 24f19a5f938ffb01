package notify_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestWebhookFailingForDaysIsDisabled(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	ctx := context.Background()
	orgID, pageID, _ := seedPage(t, s)
	c := newClock()
	r := newReceiver(t, c.Now)
	r.answer = func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError }
	sub := r.subscribe(t, s, orgID, pageID, "/broken")
	n := webhookNotifier(t, s, c.Now, notify.Options{})
	start := c.Now()
	if _, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "x", Status: "investigating",
		Body: "one", DeliverNotifications: true}); err != nil {
		t.Fatal(err)
	}
	drive(t, n, c, 10*time.Minute, func() bool { return len(r.all()) == notify.MaxAttempts })
	if took := c.Now().Sub(start); took < 70*time.Hour || took > 80*time.Hour {
		t.Errorf("ten attempts took %v of test time, want about three days", took)
	}
	log, err := s.Deliveries(ctx, orgID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Status != store.DeliveryDead || log[0].Attempts != notify.MaxAttempts || log[0].ResponseCode != 500 {
		t.Fatalf("delivery %+v: want dead after %d attempts, last code 500", log, notify.MaxAttempts)
	}
	got, err := s.Subscriber(ctx, orgID, sub)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisabledAt == nil {
		t.Fatal("endpoint failing for three days is still enabled, want disabled")
	}
}

func TestShutdownMidSendLeavesTheDeliveryDue(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, _ := seedPage(t, s)
		r := newReceiver(t, time.Now)
		arrived := make(chan string, 1)
		// The first request hangs, any later one is answered. (Not by the
		// hit count: the hung request's hit is recorded only once its
		// handler sees the client gone, which under load can come after
		// the resend arrives.)
		var hung atomic.Bool
		r.answer = func(_ int, w http.ResponseWriter, req *http.Request) int {
			if hung.CompareAndSwap(false, true) {
				arrived <- req.Header.Get("webhook-id")
				<-req.Context().Done() // hang until the notifier gives up
				return -1
			}
			return http.StatusOK
		}
		r.subscribe(t, s, orgID, pageID, "/slow")
		if _, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "x",
			Status: "investigating", Body: "one", DeliverNotifications: true}); err != nil {
			t.Fatal(err)
		}
		n := webhookNotifier(t, s, time.Now, notify.Options{Poll: 10 * time.Millisecond})
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- n.Run(runCtx) }()
		var firstID string
		select {
		case firstID = <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the delivery never reached the receiver")
		}
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return within 10 s of cancellation while a send hung")
		}
		log, err := s.Deliveries(ctx, orgID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Status != store.DeliveryPending || log[0].Attempts != 0 {
			t.Fatalf("after shutdown mid-send: %+v; want pending, no attempt counted", log)
		}
		// The next process sends it at once.
		next := webhookNotifier(t, s, time.Now, notify.Options{})
		if claimed, err := next.DeliverOnce(ctx); err != nil || claimed != 1 {
			t.Fatalf("after restart DeliverOnce claimed %d (err %v), want 1", claimed, err)
		}
		if got := r.accepted(); len(got) != 1 || got[0].id != firstID {
			t.Fatalf("accepted %v, want one resend with the interrupted send's webhook-id %s", got, firstID)
		}
	})
}

func TestSlowSendsStopAtHalfTheLease(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	ctx := context.Background()
	orgID, pageID, _ := seedPage(t, s)
	r := newReceiver(t, time.Now)
	r.hold = 150 * time.Millisecond
	for _, p := range []string{"/a", "/b", "/c"} {
		r.subscribe(t, s, orgID, pageID, p)
	}
	if _, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "x", Status: "investigating",
		Body: "one", DeliverNotifications: true}); err != nil {
		t.Fatal(err)
	}
	n := webhookNotifier(t, s, time.Now, notify.Options{Lease: 200 * time.Millisecond, Concurrency: 1})
	if _, err := n.FanOutOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if claimed, err := n.DeliverOnce(ctx); err != nil || claimed != 3 {
		t.Fatalf("DeliverOnce claimed %d (err %v), want 3", claimed, err)
	}
	if got := len(r.all()); got != 1 {
		t.Fatalf("one batch sent %d, want 1: the first send used up half the 200 ms lease", got)
	}
	log, err := s.Deliveries(ctx, orgID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var pending int
	for _, d := range log {
		if d.Status == store.DeliveryPending && d.Attempts == 0 {
			pending++
		}
	}
	if pending != 2 {
		t.Fatalf("%d deliveries released unattempted, want 2: %+v", pending, log)
	}
	drive(t, n, newClock(), time.Second, func() bool { return len(r.accepted()) == 3 })
}
