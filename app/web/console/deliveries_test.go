package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestDeliveryLog: an editor sees the organisation's deliveries with the
// recipient, status, attempts and last answer — and none of another
// organisation's; a viewer may not read it (addresses are personal data).
func TestDeliveryLog(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		ctx := context.Background()
		q := func(query string, args ...any) {
			t.Helper()
			if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, query), args...); err != nil {
				t.Fatal(err)
			}
		}
		for i, tn := range []webtest.Tenant{a, b} {
			name := []string{"a", "b"}[i]
			q(`INSERT INTO subscribers (org_id, page_id, kind, address) VALUES (?, ?, 'webhook', ?)`,
				tn.Org.ID, tn.PageID, "https://hooks."+name+".example/<b>x</b>")
			q(`INSERT INTO outbox (org_id, kind, idempotency_key) VALUES (?, 'incident.created', ?)`, tn.Org.ID, "k-"+name)
			q(`INSERT INTO deliveries (org_id, outbox_id, subscriber_id, idempotency_key, status, attempts, last_error, response_code)
				SELECT o.org_id, o.id, s.id, ?, 'pending', 2, 'answered 503', 503 FROM outbox o JOIN subscribers s ON s.org_id = o.org_id
				WHERE o.org_id = ?`, "d-"+name, tn.Org.ID)
		}
		h := composerServer(t, st)
		ed := webtest.NewBrowser(t, h)
		ed.Login(a.Editor, webtest.TestPassword)
		res := ed.Get("/admin/deliveries")
		if res.Code != http.StatusOK || strings.Count(res.Body, `data-testid="delivery"`) != 1 {
			t.Fatalf("delivery log: got %d with %d rows, want 200 with A's one", res.Code, strings.Count(res.Body, `data-testid="delivery"`))
		}
		for _, want := range []string{"incident.created", "https://hooks.a.example/&lt;b&gt;x&lt;/b&gt;", "pending", "503", "answered 503"} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("delivery log lacks %q", want)
			}
		}
		if strings.Contains(res.Body, "hooks.b.example") {
			t.Error("A's delivery log shows B's subscriber")
		}
		viewer := webtest.NewBrowser(t, h)
		viewer.Login(a.Viewer, webtest.TestPassword)
		if res := viewer.Get("/admin/deliveries"); res.Code != http.StatusForbidden {
			t.Errorf("viewer reading the delivery log: got %d, want 403", res.Code)
		}
	})
}
