package store_test

import (
	"context"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// notifyPage makes an organisation with one page of two components.
func notifyPage(t *testing.T, s *store.Store) (orgID, pageID int64, comps []int64) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.CreateOrg(ctx, "Notify", "notify")
		if err != nil {
			return err
		}
		p, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "notify", Title: "Notify", TimeZone: "UTC"})
		if err != nil {
			return err
		}
		orgID, pageID = org.ID, p.ID
		for _, name := range []string{"API", "Media"} {
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: p.ID, Name: name})
			if err != nil {
				return err
			}
			comps = append(comps, c.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return orgID, pageID, comps
}

// activeWebhook subscribes url to the page and activates it.
func activeWebhook(t *testing.T, s *store.Store, orgID, pageID int64, url string, scope []int64) int64 {
	t.Helper()
	ctx := context.Background()
	sub, err := s.Subscribe(ctx, orgID, pageID, store.SubscriberWebhook, url, scope)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActivateWebhook(ctx, orgID, sub.Subscriber.ID, sub.Secret, nil); err != nil {
		t.Fatal(err)
	}
	return sub.Subscriber.ID
}

// queueEvent writes one incident event to the outbox and returns it.
func queueEvent(t *testing.T, s *store.Store, orgID int64, key string) store.OutboxRow {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.AddOutbox(ctx, []store.OutboxEvent{{OrgID: orgID, Kind: "incident.updated", IdempotencyKey: key,
			Payload: map[string]any{"incident_id": 1}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.UnprocessedOutbox(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.IdempotencyKey == key {
			return r
		}
	}
	t.Fatalf("outbox event %s not listed as unprocessed", key)
	return store.OutboxRow{}
}

func TestFanOutReachesActiveSubscribersInScope(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, comps := notifyPage(t, s)
		all := activeWebhook(t, s, orgID, pageID, "https://all.example/hook", nil)
		inScope := activeWebhook(t, s, orgID, pageID, "https://api.example/hook", []int64{comps[0]})
		activeWebhook(t, s, orgID, pageID, "https://media.example/hook", []int64{comps[1]})
		gone := activeWebhook(t, s, orgID, pageID, "https://gone.example/hook", nil)
		if err := s.Unsubscribe(ctx, orgID, gone); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Subscribe(ctx, orgID, pageID, store.SubscriberWebhook, "https://pending.example/hook", nil); err != nil {
			t.Fatal(err)
		}
		mail, err := s.Subscribe(ctx, orgID, pageID, store.SubscriberEmail, "ada@example.org", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmSubscriber(ctx, pageID, mail.ConfirmToken); err != nil {
			t.Fatal(err)
		}

		row := queueEvent(t, s, orgID, "incident.updated:1")
		now := time.Now().UTC()
		f := store.FanOut{OutboxID: row.ID, OrgID: orgID, PageID: pageID, Kinds: []string{"webhook"},
			ComponentIDs: []int64{comps[0]}, Rendered: []byte(`{"page":{"id":"1"}}`), At: now}
		created, done, err := s.FanOutEvent(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if created != 2 || !done {
			t.Fatalf("fan-out created %d deliveries (done %v), want 2 (done true): the unscoped and the API-scoped endpoints", created, done)
		}
		created, done, err = s.FanOutEvent(ctx, f)
		if err != nil || created != 0 || done {
			t.Fatalf("second fan-out: created %d, done %v, err %v; want 0, false, nil", created, done, err)
		}
		left, err := s.UnprocessedOutbox(ctx, 10)
		if err != nil || len(left) != 0 {
			t.Fatalf("unprocessed after fan-out: %v (err %v), want none", left, err)
		}

		claimed, err := s.ClaimDeliveries(ctx, now, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]bool{}
		for _, c := range claimed {
			got[c.SubscriberID] = true
			if string(c.Rendered) != `{"page":{"id":"1"}}` || c.EventKind != "incident.updated" || c.Kind != "webhook" || !c.Active {
				t.Errorf("claimed %+v: want the rendered incident.updated event for an active webhook", c)
			}
		}
		if len(claimed) != 2 || !got[all] || !got[inScope] {
			t.Fatalf("claimed subscribers %v, want %d and %d", got, all, inScope)
		}
	})
}

func TestClaimLeasesOneDeliveryPerSubscriberInOrder(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, _ := notifyPage(t, s)
		sub := activeWebhook(t, s, orgID, pageID, "https://hook.example/", nil)
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, key := range []string{"e1", "e2"} {
			row := queueEvent(t, s, orgID, key)
			if _, _, err := s.FanOutEvent(ctx, store.FanOut{OutboxID: row.ID, OrgID: orgID, PageID: pageID,
				Kinds: []string{"webhook"}, Rendered: []byte(`{}`), At: now}); err != nil {
				t.Fatal(err)
			}
		}
		first := claimOne(t, s, now, "e1")
		if more, err := s.ClaimDeliveries(ctx, now, time.Minute, 10); err != nil || len(more) != 0 {
			t.Fatalf("claim while the first is leased: %d (err %v), want 0: one delivery per subscriber at a time", len(more), err)
		}
		// The lease ends: the same delivery is claimed again, under a new
		// token; the first claim's late record is ignored.
		again := claimOne(t, s, now.Add(2*time.Minute), "e1")
		stale := store.DeliveryAttempt{ID: first.ID, Token: first.Token, SubscriberID: sub, Status: store.DeliverySent,
			Attempts: 1, At: now}
		if n, err := s.RecordAttempts(ctx, []store.DeliveryAttempt{stale}); err != nil || n != 0 {
			t.Fatalf("record under a lost lease: recorded %d (err %v), want 0", n, err)
		}
		// A failure keeps it first in line until its next attempt is due.
		retry := store.DeliveryAttempt{ID: again.ID, Token: again.Token, SubscriberID: sub, Status: store.DeliveryPending,
			Attempts: 1, NextAttempt: now.Add(time.Hour), LastError: "HTTP 503", ResponseCode: 503, At: now.Add(2 * time.Minute)}
		if n, err := s.RecordAttempts(ctx, []store.DeliveryAttempt{retry}); err != nil || n != 1 {
			t.Fatalf("record retry: recorded %d (err %v), want 1", n, err)
		}
		if more, err := s.ClaimDeliveries(ctx, now.Add(30*time.Minute), time.Minute, 10); err != nil || len(more) != 0 {
			t.Fatalf("claim before the retry is due: %d (err %v), want 0 (e2 waits behind e1)", len(more), err)
		}
		third := claimOne(t, s, now.Add(61*time.Minute), "e1")
		if third.Attempts != 1 {
			t.Errorf("attempts so far %d, want 1", third.Attempts)
		}
		sent := store.DeliveryAttempt{ID: third.ID, Token: third.Token, SubscriberID: sub, Status: store.DeliverySent,
			Attempts: 2, ResponseCode: 200, At: now.Add(61 * time.Minute)}
		if _, err := s.RecordAttempts(ctx, []store.DeliveryAttempt{sent}); err != nil {
			t.Fatal(err)
		}
		claimOne(t, s, now.Add(61*time.Minute), "e2")

		log, err := s.Deliveries(ctx, orgID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[1].Status != store.DeliverySent || log[1].Attempts != 2 || log[1].ResponseCode != 200 {
			t.Fatalf("delivery log %+v: want e1 sent after 2 attempts with 200", log)
		}
	})
}

func claimOne(t *testing.T, s *store.Store, now time.Time, eventKey string) store.ClaimedDelivery {
	t.Helper()
	got, err := s.ClaimDeliveries(context.Background(), now, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].EventKey != eventKey {
		t.Fatalf("claimed %+v, want exactly the delivery of %s", got, eventKey)
	}
	return got[0]
}

func TestGoneDisablesSubscriberAndDropsItsQueue(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, _ := notifyPage(t, s)
		sub := activeWebhook(t, s, orgID, pageID, "https://hook.example/", nil)
		now := time.Now().UTC()
		for _, key := range []string{"e1", "e2"} {
			row := queueEvent(t, s, orgID, key)
			if _, _, err := s.FanOutEvent(ctx, store.FanOut{OutboxID: row.ID, OrgID: orgID, PageID: pageID,
				Kinds: []string{"webhook"}, Rendered: []byte(`{}`), At: now}); err != nil {
				t.Fatal(err)
			}
		}
		c := claimOne(t, s, now, "e1")
		if _, err := s.RecordAttempts(ctx, []store.DeliveryAttempt{{ID: c.ID, Token: c.Token, SubscriberID: sub,
			Status: store.DeliveryDead, Attempts: 1, ResponseCode: 410, LastError: "HTTP 410", DisableSubscriber: true, At: now}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Subscriber(ctx, orgID, sub)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisabledAt == nil {
			t.Fatalf("subscriber after 410: disabled_at nil, want set")
		}
		log, err := s.Deliveries(ctx, orgID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range log {
			if d.Status != store.DeliveryDead {
				t.Errorf("delivery %d status %s, want dead", d.ID, d.Status)
			}
		}
		// A new event no longer reaches it.
		row := queueEvent(t, s, orgID, "e3")
		if n, _, err := s.FanOutEvent(ctx, store.FanOut{OutboxID: row.ID, OrgID: orgID, PageID: pageID,
			Kinds: []string{"webhook"}, Rendered: []byte(`{}`), At: now}); err != nil || n != 0 {
			t.Fatalf("fan-out to a disabled subscriber created %d (err %v), want 0", n, err)
		}
	})
}

func TestPruneNotificationsKeepsWhatIsPending(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, _ := notifyPage(t, s)
		a := activeWebhook(t, s, orgID, pageID, "https://a.example/", nil)
		activeWebhook(t, s, orgID, pageID, "https://b.example/", nil)
		old := time.Now().UTC().Add(-30 * 24 * time.Hour)
		row := queueEvent(t, s, orgID, "old")
		if _, _, err := s.FanOutEvent(ctx, store.FanOut{OutboxID: row.ID, OrgID: orgID, PageID: pageID,
			Kinds: []string{"webhook"}, Rendered: []byte(`{}`), At: old}); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimDeliveries(ctx, old, time.Minute, 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claimed %d (err %v), want 2", len(claimed), err)
		}
		for _, c := range claimed {
			if c.SubscriberID == a {
				if _, err := s.RecordAttempts(ctx, []store.DeliveryAttempt{{ID: c.ID, Token: c.Token, SubscriberID: a,
					Status: store.DeliverySent, Attempts: 1, At: old}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		cutoff := time.Now().UTC().Add(-14 * 24 * time.Hour)
		n, err := s.PruneNotifications(ctx, cutoff, 1)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("pruned %d rows, want 1 (the sent delivery; the event still has a pending one)", n)
		}
		log, err := s.Deliveries(ctx, orgID, 10)
		if err != nil || len(log) != 1 || log[0].Status != store.DeliveryPending {
			t.Fatalf("left %+v (err %v), want the pending delivery", log, err)
		}
	})
}
