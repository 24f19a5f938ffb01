package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestConsoleSubscribers: counts per page, the list with markup in an
// address shown as text, removal by editors only, other organisations'
// subscribers out of reach.
func TestConsoleSubscribers(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		h := webtest.NewServer(t, st, nil).Handler()

		evil := `https://hooks.example.org/x?a="><script>alert(1)</script><img/src=x/onerror=alert(2)>`
		hook, err := st.Subscribe(ctx, a.Org.ID, a.PageID, store.SubscriberWebhook, evil, []int64{a.CompID})
		if err != nil {
			t.Fatal(err)
		}
		mail, err := st.Subscribe(ctx, a.Org.ID, a.PageID, store.SubscriberEmail, "ann@example.org", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ConfirmSubscriber(ctx, a.PageID, mail.ConfirmToken); err != nil {
			t.Fatal(err)
		}
		foreign, err := st.Subscribe(ctx, b.Org.ID, b.PageID, store.SubscriberEmail, "bob@example.org", nil)
		if err != nil {
			t.Fatal(err)
		}

		viewer := webtest.NewBrowser(t, h)
		viewer.Login(a.Viewer, webtest.TestPassword)
		home := viewer.Get("/admin/")
		if !strings.Contains(home.Body, `href="/admin/subscribers"`) {
			t.Error("the console header does not link to the subscribers")
		}
		list := viewer.Get("/admin/subscribers?page=" + webtest.ID(a.PageID))
		if list.Code != http.StatusOK {
			t.Fatalf("subscribers page: got %d\n%s", list.Code, list.Body)
		}
		for _, want := range []string{`data-testid="count-email">1<`, `data-testid="count-pending">1<`, "ann@example.org",
			"&lt;script&gt;alert(1)&lt;/script&gt;", "a API"} {
			if !strings.Contains(list.Body, want) {
				t.Errorf("subscribers page lacks %q", want)
			}
		}
		for _, bad := range []string{"<script>alert(1)", "<img/src=x", "bob@example.org"} {
			if strings.Contains(list.Body, bad) {
				t.Errorf("subscribers page contains %q", bad)
			}
		}
		if !strings.Contains(list.Body, `data-testid="email-off"`) {
			t.Error("without SMTP the subscriber screen does not say email is off")
		}
		if strings.Contains(list.Body, "/delete") {
			t.Error("a viewer is offered the remove button")
		}
		res := viewer.Post("/admin/subscribers/"+webtest.ID(hook.Subscriber.ID)+"/delete", url.Values{"csrf_token": {webtest.CSRFOf(t, home.Body)}})
		if res.Code != http.StatusForbidden {
			t.Errorf("viewer removing: got %d, want 403", res.Code)
		}
		if r := viewer.Get("/admin/subscribers?page=" + webtest.ID(b.PageID)); r.Code != http.StatusNotFound {
			t.Errorf("another organisation's page: got %d, want 404", r.Code)
		}

		editor := webtest.NewBrowser(t, h)
		csrf := editor.Login(a.Editor, webtest.TestPassword)
		if r := editor.Post("/admin/subscribers/"+webtest.ID(foreign.Subscriber.ID)+"/delete", url.Values{"csrf_token": {csrf}}); r.Code != http.StatusNotFound {
			t.Errorf("removing another organisation's subscriber: got %d, want 404", r.Code)
		}
		if r := editor.Post("/admin/subscribers/"+webtest.ID(hook.Subscriber.ID)+"/delete", url.Values{}); r.Code != http.StatusForbidden {
			t.Errorf("removing without CSRF: got %d, want 403", r.Code)
		}
		r := editor.Post("/admin/subscribers/"+webtest.ID(hook.Subscriber.ID)+"/delete", url.Values{"csrf_token": {csrf}})
		if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/admin/subscribers?page="+webtest.ID(a.PageID) {
			t.Fatalf("removing: got %d %q, want 303 back to the list", r.Code, r.Header.Get("Location"))
		}
		if _, err := st.Subscriber(ctx, a.Org.ID, hook.Subscriber.ID); err == nil {
			t.Error("the subscriber is still there")
		}
		if _, err := st.Subscriber(ctx, b.Org.ID, foreign.Subscriber.ID); err != nil {
			t.Errorf("B's subscriber was touched: %v", err)
		}
		log, err := st.AuditLog(ctx, a.Org.ID, 0)
		if err != nil || len(log) == 0 || log[0].Action != "subscriber.delete" {
			t.Errorf("audit log %+v, %v; want subscriber.delete first", log, err)
		}
	})
}
