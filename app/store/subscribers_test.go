package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// seedSubscriberPage makes an organisation with one page of two components.
func seedSubscriberPage(t *testing.T, s *store.Store, slug string) (org store.Org, page store.Page, comps []store.Component) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if org, err = tx.CreateOrg(ctx, slug, slug); err != nil {
			return err
		}
		if page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: slug, Title: slug, TimeZone: "UTC"}); err != nil {
			return err
		}
		for _, name := range []string{"API", "Media"} {
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: page.ID, Name: name})
			if err != nil {
				return err
			}
			comps = append(comps, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return org, page, comps
}

func TestSubscribeEmailDoubleOptIn(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, page, comps := seedSubscriberPage(t, s, "acme")

		got, err := s.Subscribe(ctx, org.ID, page.ID, store.SubscriberEmail, "  Ann@Example.ORG ", []int64{comps[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		sub := got.Subscriber
		if got.Existing || got.ConfirmToken == "" || sub.Address != "ann@example.org" || sub.Status() != store.SubscriberPending {
			t.Fatalf("Subscribe = %+v, want a new pending ann@example.org with a token", got)
		}
		if rawRowsContain(t, s, "subscribers", got.ConfirmToken) {
			t.Error("the raw confirmation token is stored")
		}
		if list, _ := s.NotifiableSubscribers(ctx, org.ID, page.ID, "", nil); len(list) != 0 {
			t.Errorf("pending subscriber is notifiable: %+v", list)
		}
		if chk, err := s.CheckConfirmation(ctx, page.ID, got.ConfirmToken); err != nil || chk.ID != sub.ID || chk.Active() {
			t.Errorf("CheckConfirmation = %+v, %v; want the pending subscriber, unchanged", chk, err)
		}
		if _, err := s.ConfirmSubscriber(ctx, page.ID, got.ConfirmToken+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong token: got %v, want ErrNotFound", err)
		}
		conf, err := s.ConfirmSubscriber(ctx, page.ID, got.ConfirmToken)
		if err != nil || !conf.Active() || len(conf.ComponentIDs) != 1 || conf.ComponentIDs[0] != comps[1].ID {
			t.Fatalf("ConfirmSubscriber = %+v, %v; want active, scoped to Media", conf, err)
		}
		if again, err := s.ConfirmSubscriber(ctx, page.ID, got.ConfirmToken); err != nil || !again.Active() {
			t.Errorf("following the link twice: %+v, %v; want still active", again, err)
		}

		// Subscribing an active address again changes nothing and says so
		// only to the caller (which must not tell the visitor).
		again, err := s.Subscribe(ctx, org.ID, page.ID, store.SubscriberEmail, "ann@EXAMPLE.org", nil)
		if err != nil || !again.Existing || again.ConfirmToken != "" || again.Subscriber.ID != sub.ID {
			t.Errorf("resubscribe = %+v, %v; want Existing, no token", again, err)
		}
		if cur, _ := s.Subscriber(ctx, org.ID, sub.ID); len(cur.ComponentIDs) != 1 {
			t.Errorf("resubscribing changed the scope to %v", cur.ComponentIDs)
		}

		// Unsubscribe, then subscribe again: a new opt-in is needed.
		if err := s.Unsubscribe(ctx, org.ID, sub.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Unsubscribe(ctx, org.ID, sub.ID); err != nil {
			t.Errorf("second unsubscribe: %v", err)
		}
		if _, err := s.ConfirmSubscriber(ctx, page.ID, got.ConfirmToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old link after unsubscribe: got %v, want ErrNotFound", err)
		}
		re, err := s.Subscribe(ctx, org.ID, page.ID, store.SubscriberEmail, "ann@example.org", nil)
		if err != nil || re.Existing || re.ConfirmToken == "" || re.Subscriber.Status() != store.SubscriberPending {
			t.Errorf("subscribe after unsubscribe = %+v, %v; want pending with a new token", re, err)
		}
	})
}

func TestSubscribeExpiredLink(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, page, _ := seedSubscriberPage(t, s, "acme")
		got, err := s.Subscribe(ctx, org.ID, page.ID, store.SubscriberEmail, "bob@example.org", nil)
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().UTC().Add(-time.Minute)
		if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE subscribers SET confirm_expires_at = ? WHERE id = ?`), past, got.Subscriber.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmSubscriber(ctx, page.ID, got.ConfirmToken); !errors.Is(err, store.ErrTokenExpired) {
			t.Errorf("expired link: got %v, want ErrTokenExpired", err)
		}
		if _, err := s.CheckConfirmation(ctx, page.ID, got.ConfirmToken); !errors.Is(err, store.ErrTokenExpired) {
			t.Errorf("checking an expired link: got %v, want ErrTokenExpired", err)
		}
		if cur, _ := s.Subscriber(ctx, org.ID, got.Subscriber.ID); cur.Active() {
			t.Error("expired link activated the subscriber")
		}
	})
}

func TestSubscribeRefusesBadInput(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, page, _ := seedSubscriberPage(t, s, "acme")
		_, other, otherComps := seedSubscriberPage(t, s, "other")
		cases := []struct {
			name  string
			kind  store.SubscriberKind
			addr  string
			comps []int64
		}{
			{"header injection", store.SubscriberEmail, "a@example.org\r\nBcc: victim@example.org", nil},
			{"two addresses", store.SubscriberEmail, "a@example.org,b@example.org", nil},
			{"no domain", store.SubscriberEmail, "a@", nil},
			{"display name", store.SubscriberEmail, "Ann <a@example.org>", nil},
			{"webhook not http", store.SubscriberWebhook, "ftp://example.org/hook", nil},
			{"another page's component", store.SubscriberEmail, "a@example.org", []int64{otherComps[0].ID}},
		}
		for _, tc := range cases {
			_, err := s.Subscribe(ctx, org.ID, page.ID, tc.kind, tc.addr, tc.comps)
			var ie *store.InvalidError
			if !errors.As(err, &ie) {
				t.Errorf("%s: got %v, want an InvalidError", tc.name, err)
			}
		}
		_ = other
	})
}

func TestSubscriberScopeAndTenancy(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, page, comps := seedSubscriberPage(t, s, "acme")
		orgB, pageB, _ := seedSubscriberPage(t, s, "bravo")
		api, media := comps[0].ID, comps[1].ID

		confirm := func(addr string, scope ...int64) store.Subscriber {
			got, err := s.Subscribe(ctx, org.ID, page.ID, store.SubscriberEmail, addr, scope)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := s.ConfirmSubscriber(ctx, page.ID, got.ConfirmToken)
			if err != nil {
				t.Fatal(err)
			}
			return sub
		}
		all := confirm("all@example.org")
		apiOnly := confirm("api@example.org", api)
		mediaOnly := confirm("media@example.org", media)
		hook, err := s.Subscribe(ctx, org.ID, page.ID, store.SubscriberWebhook, "https://hooks.example.org/x", []int64{api})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hook.Secret, store.WebhookSecretPrefix) || hook.Subscriber.Status() != store.SubscriberPending {
			t.Fatalf("webhook subscription = %+v, want pending with a whsec_ secret", hook)
		}
		if _, err := s.ActivateWebhook(ctx, org.ID, hook.Subscriber.ID, hook.Secret, nil); err != nil {
			t.Fatal(err)
		}

		ids := func(subs []store.Subscriber) (out []int64) {
			for _, s := range subs {
				out = append(out, s.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name  string
			kind  store.SubscriberKind
			comps []int64
			want  []int64
		}{
			{"page-wide email", store.SubscriberEmail, nil, []int64{all.ID, apiOnly.ID, mediaOnly.ID}},
			{"API email", store.SubscriberEmail, []int64{api}, []int64{all.ID, apiOnly.ID}},
			{"Media email", store.SubscriberEmail, []int64{media}, []int64{all.ID, mediaOnly.ID}},
			{"API any kind", "", []int64{api}, []int64{all.ID, apiOnly.ID, hook.Subscriber.ID}},
			{"Media webhook", store.SubscriberWebhook, []int64{media}, nil},
		} {
			got, err := s.NotifiableSubscribers(ctx, org.ID, page.ID, tc.kind, tc.comps)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); !equalIDs(g, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, g, tc.want)
			}
		}
		hooks, _ := s.NotifiableSubscribers(ctx, org.ID, page.ID, store.SubscriberWebhook, nil)
		if len(hooks) != 1 || hooks[0].Secret != hook.Secret {
			t.Errorf("webhook subscriber %+v, want it with its secret", hooks)
		}

		// Another organisation sees, counts and removes none of them.
		if list, err := s.Subscribers(ctx, orgB.ID, page.ID); err != nil || len(list) != 0 {
			t.Errorf("B lists A's page: %+v, %v", list, err)
		}
		if _, err := s.Subscriber(ctx, orgB.ID, all.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reads A's subscriber: %v, want ErrNotFound", err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.DeleteSubscriber(ctx, orgB.ID, pageB.ID, all.ID); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B deletes A's subscriber: %v, want ErrNotFound", err)
		}
		if n, _ := s.SubscriberCounts(ctx, orgB.ID); len(n) != 0 {
			t.Errorf("B's counts = %+v, want none", n)
		}
		counts, err := s.SubscriberCounts(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c := counts[page.ID]; c.Email != 3 || c.Webhook != 1 || c.Pending != 0 {
			t.Errorf("counts = %+v, want 3 email, 1 webhook", c)
		}

		// Manage tokens: right key and page only.
		key := []byte("0123456789abcdef0123456789abcdef")
		tok := store.ManageToken(key, apiOnly)
		if got, err := s.SubscriberByManageToken(ctx, key, page.ID, tok); err != nil || got.ID != apiOnly.ID {
			t.Errorf("SubscriberByManageToken = %+v, %v", got, err)
		}
		for name, bad := range map[string]struct {
			key  []byte
			page int64
			tok  string
		}{
			"other key":  {[]byte("another key of thirty-two bytes!"), page.ID, tok},
			"other page": {key, pageB.ID, tok},
			"forged id":  {key, page.ID, "1" + tok},
			"garbage":    {key, page.ID, "x.y"},
		} {
			if _, err := s.SubscriberByManageToken(ctx, bad.key, bad.page, bad.tok); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
		if err := s.SetSubscriberComponents(ctx, org.ID, apiOnly.ID, []int64{media}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Subscriber(ctx, org.ID, apiOnly.ID); !equalIDs(got.ComponentIDs, []int64{media}) {
			t.Errorf("scope after SetSubscriberComponents = %v, want [%d]", got.ComponentIDs, media)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.DeleteSubscriber(ctx, org.ID, page.ID, apiOnly.ID); return err })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubscriberByManageToken(ctx, key, page.ID, tok); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("manage token of a removed subscriber: %v, want ErrNotFound", err)
		}
	})
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPruneUnconfirmedSubscribers(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, page, _ := seedSubscriberPage(t, s, "acme")
		sub := func(kind store.SubscriberKind, addr string) store.Subscription {
			got, err := s.Subscribe(ctx, org.ID, page.ID, kind, addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		confirmed := sub(store.SubscriberEmail, "kept@example.org")
		if _, err := s.ConfirmSubscriber(ctx, page.ID, confirmed.ConfirmToken); err != nil {
			t.Fatal(err)
		}
		pending := sub(store.SubscriberEmail, "pending@example.org")
		hook := sub(store.SubscriberWebhook, "https://hooks.example.org/never-tested")
		if n, err := s.PruneUnconfirmedSubscribers(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("prune before anything expired: %d, %v; want 0", n, err)
		}
		if n, err := s.PruneUnconfirmedSubscribers(ctx, time.Now().Add(store.ConfirmTTL+time.Hour)); err != nil || n != 2 {
			t.Errorf("prune after the links expired: %d, %v; want 2 (the pending email and the untested webhook)", n, err)
		}
		for _, id := range []int64{pending.Subscriber.ID, hook.Subscriber.ID} {
			if _, err := s.Subscriber(ctx, org.ID, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("subscriber %d after pruning: %v, want ErrNotFound", id, err)
			}
		}
		if _, err := s.Subscriber(ctx, org.ID, confirmed.Subscriber.ID); err != nil {
			t.Errorf("the confirmed subscriber was pruned: %v", err)
		}
	})
}
