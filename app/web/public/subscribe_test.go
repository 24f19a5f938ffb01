package public_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestSubscribePageOnCustomDomain serves the subscription form and its
// POST at the root of a page's own domain, uncached, with the webhook form
// working without SMTP.
func TestSubscribePageOnCustomDomain(t *testing.T) {
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
