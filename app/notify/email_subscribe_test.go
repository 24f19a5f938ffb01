package notify_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// subscribeFixture is a web server whose subscribe page mails through a
// real SMTP server.
type subscribeFixture struct {
	st      *store.Store
	tn      webtest.Tenant
	sink    *sink
	b       *webtest.Browser
	handler http.Handler
	slug    string
}

func newSubscribeFixture(t *testing.T, st *store.Store, tweak func(*web.Options)) subscribeFixture {
	t.Helper()
	s, _ := newSink(t, false)
	email := newEmail(t, s, nil)
	tn := webtest.SeedTenant(t, st, "acme")
	srv := webtest.NewServer(t, st, func(o *web.Options) {
		o.SecretKey = testKey
		o.BaseURL = "https://status.example.org"
		o.Mailer = email
		if tweak != nil {
			tweak(o)
		}
	})
	return subscribeFixture{st: st, tn: tn, sink: s, b: webtest.NewBrowser(t, srv.Handler()), handler: srv.Handler(), slug: "acme-status"}
}

// subscribe posts the subscribe form as a browser would.
func (f subscribeFixture) subscribe(t *testing.T, b *webtest.Browser, kind, address string, comps ...int64) webtest.Response {
	t.Helper()
	page := b.Get("/p/" + f.slug + "/subscribe")
	if page.Code != http.StatusOK {
		t.Fatalf("subscribe page: got %d, want 200", page.Code)
	}
	field := "email"
	if kind == "webhook" {
		field = "endpoint"
	}
	form := url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "kind": {kind}, field: {address}}
	for _, c := range comps {
		form.Add("component", strconv.FormatInt(c, 10))
	}
	return b.Post("/p/"+f.slug+"/subscribe", form)
}

var linkPattern = regexp.MustCompile(`https://status\.example\.org(/p/[^\s]+)`)

// link finds the path of the mail's link that contains what.
func link(t *testing.T, text, what string) string {
	t.Helper()
	for _, m := range linkPattern.FindAllStringSubmatch(text, -1) {
		if strings.Contains(m[1], what) {
			return m[1]
		}
	}
	t.Fatalf("no %s link in mail:\n%s", what, text)
	return ""
}

// TestSubscribeDoubleOptIn walks the email subscription end to end: form,
// confirmation mail, link, manage page, one-click unsubscribe.
func TestSubscribeDoubleOptIn(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		f := newSubscribeFixture(t, st, nil)
		ctx := context.Background()

		res := f.subscribe(t, f.b, "email", "Ann@Example.org", f.tn.CompID)
		if res.Code != http.StatusOK || !strings.Contains(res.Body, "Check your inbox") {
			t.Fatalf("subscribe: got %d, want 200 Check your inbox\n%s", res.Code, res.Body)
		}
		mail := f.sink.next(t)
		if mail.to[0] != "ann@example.org" || !strings.Contains(mail.msg.Header.Get("Subject"), "Confirm your subscription") {
			t.Fatalf("confirmation mail to %v, subject %q", mail.to, mail.msg.Header.Get("Subject"))
		}
		text, _ := bodies(t, mail)
		confirm := link(t, text, "/subscribe/confirm?token=")
		subs, _ := st.Subscribers(ctx, f.tn.Org.ID, f.tn.PageID)
		if len(subs) != 1 || subs[0].Status() != store.SubscriberPending {
			t.Fatalf("before confirming: %+v, want one pending subscriber", subs)
		}

		// Following the link (as a mail scanner would) confirms nothing; the
		// button on its page does, without cookies.
		got := f.b.Get(confirm)
		if got.Code != http.StatusOK || !strings.Contains(got.Body, `data-testid="confirm"`) {
			t.Fatalf("confirm page: got %d\n%s", got.Code, got.Body)
		}
		if sub, _ := st.Subscriber(ctx, f.tn.Org.ID, subs[0].ID); sub.Active() {
			t.Fatal("following the link confirmed the subscription")
		}
		got = webtest.NewBrowser(t, f.handler).Do(http.MethodPost, confirm, nil, nil)
		if got.Code != http.StatusOK || !strings.Contains(got.Body, "Subscription confirmed") {
			t.Fatalf("confirm: got %d\n%s", got.Code, got.Body)
		}
		sub, _ := st.Subscriber(ctx, f.tn.Org.ID, subs[0].ID)
		if !sub.Active() || len(sub.ComponentIDs) != 1 || sub.ComponentIDs[0] != f.tn.CompID {
			t.Fatalf("after confirming: %+v, want active and scoped to the component", sub)
		}

		// Subscribing the address again answers exactly the same; the
		// mailbox gets its manage link instead of a confirmation.
		again := f.subscribe(t, f.b, "email", "ann@example.org")
		if again.Code != res.Code || again.Body != res.Body {
			t.Errorf("existing address answered differently:\n%d %s\nvs new:\n%d %s", again.Code, again.Body, res.Code, res.Body)
		}
		known := f.sink.next(t)
		ktext, _ := bodies(t, known)
		manage := link(t, ktext, "/subscribe/manage?token=")
		unsubHeader := known.msg.Header.Get("List-Unsubscribe")
		if !strings.HasPrefix(unsubHeader, "<https://status.example.org/p/"+f.slug+"/unsubscribe?token=") ||
			known.msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("already-subscribed mail: List-Unsubscribe %q", unsubHeader)
		}
		if sub, _ := st.Subscriber(ctx, f.tn.Org.ID, subs[0].ID); len(sub.ComponentIDs) != 1 {
			t.Errorf("subscribing again changed the scope to %v", sub.ComponentIDs)
		}

		// The manage page changes the scope (whole page: no components).
		mp := f.b.Get(manage)
		if mp.Code != http.StatusOK || !strings.Contains(mp.Body, "ann@example.org") {
			t.Fatalf("manage page: got %d\n%s", mp.Code, mp.Body)
		}
		saved := f.b.Post(manage, url.Values{"csrf_token": {webtest.CSRFOf(t, mp.Body)}})
		if saved.Code != http.StatusSeeOther {
			t.Fatalf("save components: got %d, want 303\n%s", saved.Code, saved.Body)
		}
		if sub, _ := st.Subscriber(ctx, f.tn.Org.ID, subs[0].ID); len(sub.ComponentIDs) != 0 {
			t.Errorf("scope after saving none: %v, want the whole page", sub.ComponentIDs)
		}

		// One-click unsubscribe (RFC 8058): a POST with no cookie, no
		// token field, no redirect.
		target, _ := url.Parse(strings.Trim(unsubHeader, "<>"))
		req, _ := http.NewRequest(http.MethodPost, f.b.URL()+target.RequestURI(), strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("one-click unsubscribe: got %d, want 200", resp.StatusCode)
		}
		if sub, _ := st.Subscriber(ctx, f.tn.Org.ID, subs[0].ID); sub.Status() != store.SubscriberUnsubscribed {
			t.Errorf("after one-click: %s, want unsubscribed", sub.Status())
		}
		if list, _ := st.NotifiableSubscribers(ctx, f.tn.Org.ID, f.tn.PageID, "", nil); len(list) != 0 {
			t.Errorf("still notified after unsubscribing: %+v", list)
		}
		// A forged token is a plain 404.
		if r := f.b.Do(http.MethodPost, "/p/"+f.slug+"/unsubscribe?token=1.AAAA", nil, nil); r.Code != http.StatusNotFound {
			t.Errorf("forged token: got %d, want 404", r.Code)
		}
	})
}

func TestSubscribeExpiredConfirmation(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := newSubscribeFixture(t, st, nil)
	if res := f.subscribe(t, f.b, "email", "late@example.org"); res.Code != http.StatusOK {
		t.Fatalf("subscribe: %d", res.Code)
	}
	text, _ := bodies(t, f.sink.next(t))
	confirm := link(t, text, "/subscribe/confirm?token=")
	if _, err := st.DB().Exec(`UPDATE subscribers SET confirm_expires_at = ?`, time.Now().UTC().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		got := f.b.Do(m, confirm, nil, nil)
		if got.Code != http.StatusGone || !strings.Contains(got.Body, "expired") {
			t.Errorf("%s expired link: got %d, want 410 saying it expired\n%s", m, got.Code, got.Body)
		}
	}
	if list, _ := st.NotifiableSubscribers(context.Background(), f.tn.Org.ID, f.tn.PageID, "", nil); len(list) != 0 {
		t.Errorf("expired link subscribed %+v", list)
	}
}

func TestSubscribeRateLimit(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := newSubscribeFixture(t, st, func(o *web.Options) { o.SubscribeAttempts = 2 })
	for i := range 2 {
		if res := f.subscribe(t, f.b, "email", "flood@example.org"); res.Code != http.StatusOK {
			t.Fatalf("attempt %d: got %d, want 200", i+1, res.Code)
		}
		f.sink.next(t)
	}
	res := f.subscribe(t, f.b, "email", "flood@example.org")
	if res.Code != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("third attempt for one address: got %d (Retry-After %q), want 429 with Retry-After", res.Code, res.Header.Get("Retry-After"))
	}
	// Per client: 10 × 2 attempts from one address in all.
	var last int
	for i := range 20 {
		last = f.subscribe(t, f.b, "email", "other"+strconv.Itoa(i)+"@example.org").Code
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("many addresses from one client: last got %d, want 429", last)
	}
}

// TestSubscribeWebhookGuard refuses endpoints the SSRF guard refuses, at
// subscribe time, and stores nothing for them.
func TestSubscribeWebhookGuard(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := newSubscribeFixture(t, st, nil)
	for _, endpoint := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://127.0.0.1:8080/hook",
		"http://10.1.2.3/hook",
		"http://localhost/hook",
		"http://[::1]/hook",
		"https://user:pass@example.org/hook",
	} {
		res := f.subscribe(t, f.b, "webhook", endpoint)
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="subscribe-error"`) {
			t.Errorf("%s: got %d, want 422 with the reason\n%s", endpoint, res.Code, res.Body)
		}
	}
	if subs, _ := st.Subscribers(context.Background(), f.tn.Org.ID, f.tn.PageID); len(subs) != 0 {
		t.Errorf("refused endpoints were stored: %+v", subs)
	}
}

func TestSubscribeEmailOffWithoutSMTP(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := newSubscribeFixture(t, st, func(o *web.Options) { o.Mailer = nil })
	page := f.b.Get("/p/" + f.slug + "/subscribe")
	if !strings.Contains(page.Body, `data-testid="email-off"`) || strings.Contains(page.Body, `name="email"`) {
		t.Errorf("subscribe page without SMTP does not say email is off:\n%s", page.Body)
	}
	if res := f.subscribe(t, f.b, "email", "ann@example.org"); res.Code != http.StatusUnprocessableEntity {
		t.Errorf("email subscription without SMTP: got %d, want 422", res.Code)
	}
	if !strings.Contains(page.Body, `name="endpoint"`) {
		t.Error("the webhook form is missing without SMTP")
	}
}

func TestSubscribeNeedsCSRF(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := newSubscribeFixture(t, st, nil)
	res := f.b.Post("/p/"+f.slug+"/subscribe", url.Values{"kind": {"email"}, "email": {"ann@example.org"}})
	if res.Code != http.StatusForbidden {
		t.Errorf("subscribe without a CSRF token: got %d, want 403", res.Code)
	}
}
