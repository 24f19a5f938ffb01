package notify_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestEmailThroughTheNotifier: an incident and its updates reach, by real
// SMTP, exactly the subscribers whose scope they touch, as one thread; a
// one-click unsubscribe through the web role stops the next mail. (The
// updates name the component: an update that changes no component status
// is page-wide in the outbox payload today, so it reaches every scope.)
func TestEmailThroughTheNotifier(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, comps := seedPage(t, s)
		api, media := comps[0], comps[1]
		sk, _ := newSink(t, false)
		email := newEmail(t, sk, nil)
		n, err := notify.New(notify.Options{Store: s, Senders: map[string]notify.Sender{notify.KindEmail: email},
			BaseURL: "https://status.example.org", SecretKey: []byte(testKey), Jitter: -1})
		if err != nil {
			t.Fatal(err)
		}
		confirm := func(addr string, scope ...int64) {
			got, err := s.Subscribe(ctx, orgID, pageID, store.SubscriberEmail, addr, scope)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ConfirmSubscriber(ctx, pageID, got.ConfirmToken); err != nil {
				t.Fatal(err)
			}
		}
		confirm("all@example.org")
		confirm("api@example.org", api)
		confirm("media@example.org", media)
		if _, err := s.Subscribe(ctx, orgID, pageID, store.SubscriberEmail, "pending@example.org", nil); err != nil {
			t.Fatal(err)
		}

		// deliver runs the notifier until nothing is due and returns the
		// mails by recipient.
		deliver := func() map[string]received {
			t.Helper()
			out := map[string]received{}
			deadline := time.Now().Add(10 * time.Second)
			for {
				if _, err := n.FanOutOnce(ctx); err != nil {
					t.Fatal(err)
				}
				claimed, err := n.DeliverOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if claimed == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("deliveries still due after 10s")
				}
			}
			for {
				select {
				case m := <-sk.mails:
					out[m.to[0]] = m
				default:
					return out
				}
			}
		}

		w, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "API down",
			Status: "investigating", Body: "We are looking into it.", DeliverNotifications: true,
			Components: []store.ComponentStatusChange{{ComponentID: api, Status: "major_outage"}}})
		if err != nil {
			t.Fatal(err)
		}
		first := deliver()
		if len(first) != 2 || first["all@example.org"].msg == nil || first["api@example.org"].msg == nil {
			t.Fatalf("incident mails went to %v, want all@ and api@ only", keys(first))
		}
		root := first["api@example.org"].msg.Header.Get("Message-Id")
		if root == "" || first["all@example.org"].msg.Header.Get("Message-Id") != root {
			t.Errorf("the incident's first mail ids differ: %q vs %q", root, first["all@example.org"].msg.Header.Get("Message-Id"))
		}

		// An update that changes no status still reaches those scoped to
		// the incident's components, and only them.
		if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{Status: "identified",
			Body: "A bad deploy; rolling back.", DeliverNotifications: true}); err != nil {
			t.Fatal(err)
		}
		second := deliver()
		if len(second) != 2 {
			t.Fatalf("update mails went to %v, want all@ and api@", keys(second))
		}
		upd := second["all@example.org"]
		if upd.msg.Header.Get("In-Reply-To") != root || upd.msg.Header.Get("References") != root || upd.msg.Header.Get("Message-Id") == root {
			t.Errorf("update: Message-ID %q In-Reply-To %q References %q; want a new id answering %q",
				upd.msg.Header.Get("Message-Id"), upd.msg.Header.Get("In-Reply-To"), upd.msg.Header.Get("References"), root)
		}
		text, _ := bodies(t, upd)
		if !strings.Contains(text, "A bad deploy; rolling back.") || !strings.Contains(text, "Unsubscribe: https://status.example.org/p/status/unsubscribe?token=") {
			t.Errorf("update text lacks its body or the unsubscribe link:\n%s", text)
		}

		// One-click unsubscribe of all@ through the web role, no cookies.
		srv := webtest.NewServer(t, s, func(o *web.Options) { o.SecretKey = testKey; o.BaseURL = "https://status.example.org" })
		b := webtest.NewBrowser(t, srv.Handler())
		target, err := url.Parse(strings.Trim(upd.msg.Header.Get("List-Unsubscribe"), "<>"))
		if err != nil {
			t.Fatal(err)
		}
		if r := b.Do(http.MethodPost, target.RequestURI(), "List-Unsubscribe=One-Click",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.Code != http.StatusOK {
			t.Fatalf("one-click unsubscribe: got %d\n%s", r.Code, r.Body)
		}
		if _, err := s.AddIncidentUpdate(ctx, orgID, editor, w.IncidentID, store.IncidentChangeInput{Status: "resolved",
			Body: "Fixed.", DeliverNotifications: true,
			Components: []store.ComponentStatusChange{{ComponentID: api, Status: "operational"}}}); err != nil {
			t.Fatal(err)
		}
		third := deliver()
		if len(third) != 1 || third["api@example.org"].msg == nil {
			t.Errorf("after all@ unsubscribed, mails went to %v, want api@ only", keys(third))
		}
	})
}

func keys(m map[string]received) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
