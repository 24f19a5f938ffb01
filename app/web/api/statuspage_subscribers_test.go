package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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

type spSubscriber struct {
	ID         string   `json:"id"`
	Mode       string   `json:"mode"`
	Email      *string  `json:"email"`
	Endpoint   *string  `json:"endpoint"`
	Components []string `json:"components"`
	State      string   `json:"state"`
	Secret     string   `json:"secret"`
	CreatedAt  string   `json:"created_at"`
}

// confirmedEmail subscribes and confirms an address through the store.
func confirmedEmail(t *testing.T, st *store.Store, tn webtest.Tenant, addr string) store.Subscriber {
	t.Helper()
	ctx := context.Background()
	got, err := st.Subscribe(ctx, tn.Org.ID, tn.PageID, store.SubscriberEmail, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.ConfirmSubscriber(ctx, tn.PageID, got.ConfirmToken)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestStatuspageSubscribers: list, create and delete in Statuspage's shape;
// viewers only read; another organisation's subscribers are 404.
func TestStatuspageSubscribers(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		// A receiver on loopback that checks the test delivery's signature
		// with the Standard Webhooks library.
		var tested atomic.Int32
		var refuse atomic.Bool
		var mu sync.Mutex
		var lastBody []byte
		var lastHeader http.Header
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if refuse.Load() {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			var p struct {
				Meta struct{ Unsubscribe string } `json:"meta"`
				Page struct{ ID string }          `json:"page"`
			}
			if json.Unmarshal(body, &p) != nil || p.Page.ID != webtest.ID(a.PageID) || !strings.Contains(p.Meta.Unsubscribe, "/unsubscribe?token=") {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			mu.Lock()
			lastBody, lastHeader = body, r.Header.Clone()
			mu.Unlock()
			tested.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(recv.Close)
		hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true})
		t.Cleanup(hook.Close)
		srv := webtest.NewServer(t, st, func(o *web.Options) {
			o.Webhooks = hook
			o.AllowPrivate = true
			o.BaseURL = "https://status.example.org"
		})
		br := webtest.NewBrowser(t, srv.Handler())
		editor := spClient{t: t, b: br, page: "a-status", header: oauth(a.EditTok)}
		viewer := spClient{t: t, b: br, page: "a-status", header: webtest.Bearer(a.ViewTok)}

		ann := confirmedEmail(t, st, a, "ann@example.org")
		var list []spSubscriber
		viewer.call(http.MethodGet, "/subscribers", nil, http.StatusOK, &list)
		if len(list) != 1 || list[0].ID != webtest.ID(ann.ID) || list[0].Mode != "email" || list[0].Email == nil ||
			*list[0].Email != "ann@example.org" || list[0].State != "active" || list[0].Endpoint != nil {
			t.Fatalf("GET subscribers = %+v, want ann, email, active", list)
		}

		// Email is off on this server (no SMTP): refused, saying so.
		res := editor.do(http.MethodPost, "/subscribers", map[string]any{"subscriber": map[string]any{"email": "bob@example.org"}})
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "PHAROS_SMTP_URL") {
			t.Errorf("POST email without SMTP: got %d %s, want 422 naming PHAROS_SMTP_URL", res.Code, res.Body)
		}
		// A metadata endpoint is refused at subscribe time.
		res = editor.do(http.MethodPost, "/subscribers", map[string]any{"subscriber": map[string]any{"endpoint": "http://169.254.169.254/x"}})
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"field":"endpoint"`) {
			t.Errorf("POST metadata endpoint: got %d %s, want 422 on endpoint", res.Code, res.Body)
		}
		// A receiver that refuses the test delivery leaves nothing active.
		refuse.Store(true)
		res = editor.do(http.MethodPost, "/subscribers", map[string]any{"subscriber": map[string]any{"endpoint": recv.URL + "/hook"}})
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "test delivery") {
			t.Errorf("POST endpoint refusing the test: got %d %s, want 422", res.Code, res.Body)
		}
		// A receiver that verifies and accepts: active, secret shown once.
		refuse.Store(false)
		var created spSubscriber
		editor.call(http.MethodPost, "/subscribers", map[string]any{"subscriber": map[string]any{
			"endpoint": recv.URL + "/hook", "component_ids": []string{webtest.ID(a.CompID)}}}, http.StatusCreated, &created)
		if created.Mode != "webhook" || created.State != "active" || !strings.HasPrefix(created.Secret, "whsec_") ||
			len(created.Components) != 1 || created.Components[0] != webtest.ID(a.CompID) || tested.Load() == 0 {
			t.Fatalf("POST endpoint = %+v (tests %d), want an active webhook with its secret and scope", created, tested.Load())
		}
		wh, err := standardwebhooks.NewWebhook(created.Secret)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		err = wh.Verify(lastBody, lastHeader)
		mu.Unlock()
		if err != nil {
			t.Errorf("the test delivery does not verify with the secret shown: %v", err)
		}
		var one spSubscriber
		viewer.call(http.MethodGet, "/subscribers/"+created.ID, nil, http.StatusOK, &one)
		if one.Secret != "" {
			t.Error("GET shows the webhook secret again")
		}

		// Viewers cannot write.
		if r := viewer.do(http.MethodPost, "/subscribers", map[string]any{"subscriber": map[string]any{"endpoint": recv.URL}}); r.Code != http.StatusForbidden {
			t.Errorf("viewer POST: got %d, want 403", r.Code)
		}
		if r := viewer.do(http.MethodDelete, "/subscribers/"+created.ID, nil); r.Code != http.StatusForbidden {
			t.Errorf("viewer DELETE: got %d, want 403", r.Code)
		}
		// Another organisation: A's subscribers are 404 on A's page and
		// under B's own page.
		for _, c := range []spClient{
			{t: t, b: br, page: "a-status", header: webtest.Bearer(b.OwnerTok)},
			{t: t, b: br, page: "b-status", header: webtest.Bearer(b.OwnerTok)},
		} {
			for _, m := range []string{http.MethodGet, http.MethodDelete} {
				if r := c.do(m, "/subscribers/"+webtest.ID(ann.ID), nil); r.Code != http.StatusNotFound {
					t.Errorf("B %s %s subscriber of A: got %d, want 404", m, c.page, r.Code)
				}
			}
		}
		var bList []spSubscriber
		(spClient{t: t, b: br, page: "b-status", header: webtest.Bearer(b.ViewTok)}).call(http.MethodGet, "/subscribers?state=all", nil, http.StatusOK, &bList)
		if len(bList) != 0 {
			t.Errorf("B lists %+v, want none", bList)
		}

		var gone spSubscriber
		editor.call(http.MethodDelete, "/subscribers/"+webtest.ID(ann.ID), nil, http.StatusOK, &gone)
		if gone.ID != webtest.ID(ann.ID) {
			t.Errorf("DELETE answered %+v, want ann", gone)
		}
		if r := editor.do(http.MethodDelete, "/subscribers/"+webtest.ID(ann.ID), nil); r.Code != http.StatusNotFound {
			t.Errorf("DELETE twice: got %d, want 404", r.Code)
		}
		viewer.call(http.MethodGet, "/subscribers?type=email", nil, http.StatusOK, &list)
		if len(list) != 0 {
			t.Errorf("after DELETE: %+v, want no email subscribers", list)
		}
		for _, bad := range []string{`{"email": "x@example.org"}`, `{"subscriber": {}}`, `{"subscriber": {"email": "a@example.org", "endpoint": "https://x.example/"}}`} {
			r := br.Do(http.MethodPost, "/api/v1/pages/a-status/subscribers", bad, oauth(a.EditTok))
			if r.Code != http.StatusBadRequest && r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"error"`) {
				t.Errorf("POST %s: got %d %s, want 400/422 with an error", bad, r.Code, r.Body)
			}
		}
	})
}
