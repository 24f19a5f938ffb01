package public_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestSubscribePageOnCustomDomain serves the subscription form and its
// POST at the root of a page's own domain, uncached, with the webhook form
// working without SMTP.
func TestSubscribePageOnCustomDomain(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 2, domain: "status.acme.example"})
	br, _ := newPublicServer(t, st)
	do := func(method, path, cookie string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, br.URL()+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "status.acme.example"
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}
	res, page := do(http.MethodGet, "/subscribe", "", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /subscribe on the domain: got %d, Cache-Control %q; want 200, no-store", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	for _, want := range []string{`action="/subscribe"`, `data-testid="email-off"`, `name="endpoint"`, `name="component"`} {
		if !strings.Contains(page, want) {
			t.Errorf("subscribe page lacks %s", want)
		}
	}
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	ck := res.Header.Get("Set-Cookie")
	if csrf == nil || ck == "" {
		t.Fatalf("no CSRF token (%v) or cookie (%q)", csrf, ck)
	}
	cookie := strings.SplitN(ck, ";", 2)[0]
	res, body := do(http.MethodPost, "/subscribe", cookie, url.Values{"csrf_token": {csrf[1]}, "kind": {"webhook"}, "endpoint": {"http://169.254.169.254/"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "may not reach") {
		t.Errorf("POST /subscribe on the domain (metadata endpoint): got %d, want 422 naming the refusal\n%.300s", res.StatusCode, body)
	}
	// A webhook at a public address is stored pending: this server has no
	// webhook channel to send the signed test delivery.
	res, body = do(http.MethodPost, "/subscribe", cookie, url.Values{"csrf_token": {csrf[1]}, "kind": {"webhook"}, "endpoint": {"https://93.184.215.14/hook"}})
	if res.StatusCode != http.StatusAccepted || !strings.Contains(body, `data-testid="webhook-secret"`) || !strings.Contains(body, "whsec_") {
		t.Errorf("POST a public endpoint without a webhook channel: got %d, want 202 with the secret\n%.300s", res.StatusCode, body)
	}
	page1, err := st.PageBySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	subs, err := st.Subscribers(context.Background(), page1.OrgID, page1.ID)
	if err != nil || len(subs) != 1 || subs[0].Status() != store.SubscriberPending {
		t.Errorf("subscribers = %+v, %v; want one pending webhook", subs, err)
	}
	if r := br.Do(http.MethodPost, "/p/acme/unsubscribe?token=x", nil, nil); r.Code != http.StatusNotFound {
		t.Errorf("unsubscribe with a bad token: got %d, want 404", r.Code)
	}
}

// TestSubscribeWebhookForm subscribes an endpoint through the form: a
// signed test delivery (verified here with the Standard Webhooks library)
// activates it and the secret is shown once; subscribing the same endpoint
// again answers the same way, and a refused test leaves it as it was.
func TestSubscribeWebhookForm(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 2})
	var refuse atomic.Bool
	var mu sync.Mutex
	var bodies [][]byte
	var headers []http.Header
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if refuse.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		bodies, headers = append(bodies, b), append(headers, r.Header.Clone())
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true})
	t.Cleanup(hook.Close)
	srv := webtest.NewServer(t, st, func(o *web.Options) { o.Webhooks, o.AllowPrivate = hook, true })
	br := webtest.NewBrowser(t, srv.Handler())
	subscribe := func() webtest.Response {
		t.Helper()
		page := br.Get("/p/acme/subscribe")
		return br.Post("/p/acme/subscribe", url.Values{"csrf_token": {webtest.CSRFOf(t, page.Body)}, "kind": {"webhook"},
			"endpoint": {recv.URL + "/hook"}})
	}
	secretOf := regexp.MustCompile(`data-testid="webhook-secret">(whsec_[^<]+)<`)
	verify := func(res webtest.Response) string {
		t.Helper()
		m := secretOf.FindStringSubmatch(res.Body)
		if res.Code != http.StatusOK || m == nil || !strings.Contains(res.Body, "Endpoint subscribed") {
			t.Fatalf("subscribe: got %d, want 200 with the secret\n%s", res.Code, res.Body)
		}
		wh, err := standardwebhooks.NewWebhook(m[1])
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if err := wh.Verify(bodies[len(bodies)-1], headers[len(headers)-1]); err != nil {
			t.Errorf("the test delivery does not verify with the secret shown: %v", err)
		}
		return m[1]
	}
	first := verify(subscribe())
	second := verify(subscribe())
	if first == second {
		t.Error("subscribing again showed the same secret")
	}
	refuse.Store(true)
	res := subscribe()
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "test delivery") {
		t.Errorf("endpoint refusing the test: got %d, want 422\n%.300s", res.Code, res.Body)
	}
	page, err := st.PageBySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	subs, err := st.NotifiableSubscribers(context.Background(), page.OrgID, page.ID, store.SubscriberWebhook, nil)
	if err != nil || len(subs) != 1 || subs[0].Secret != second {
		t.Errorf("active webhooks %+v, %v; want one, with the secret of the last accepted test", subs, err)
	}
}
