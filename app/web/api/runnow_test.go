package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// runNowRecorder stands in for the scheduler's RunNow, which has its own
// tests against real buses; here we check what the web role asks of it.
type runNowRecorder struct {
	mu    sync.Mutex
	calls [][2]int64
}

func (r *runNowRecorder) RunNow(_ context.Context, orgID, checkID int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, [2]int64{orgID, checkID})
	return nil
}

func TestRunNow(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		rec := &runNowRecorder{}
		h := webtest.NewServer(t, st, func(o *web.Options) { o.RunNow = rec.RunNow }).Handler()
		br := webtest.NewBrowser(t, h)

		res := br.Do(http.MethodPost, "/api/v1/checks/"+webtest.ID(a.CheckID)+"/run", nil, webtest.Bearer(a.EditTok))
		if res.Code != http.StatusAccepted {
			t.Fatalf("API run now: got %d %s, want 202", res.Code, res.Body)
		}
		if res := br.Do(http.MethodPost, "/api/v1/checks/"+webtest.ID(a.CheckID)+"/run", nil, webtest.Bearer(b.EditTok)); res.Code != http.StatusNotFound {
			t.Errorf("B running A's check: got %d, want 404", res.Code)
		}
		csrf := br.Login(a.Editor, webtest.TestPassword)
		if res := br.Post("/admin/checks/"+webtest.ID(a.CheckID)+"/run", url.Values{}); res.Code != http.StatusForbidden {
			t.Errorf("console run now without CSRF token: got %d, want 403", res.Code)
		}
		res = br.Post("/admin/checks/"+webtest.ID(a.CheckID)+"/run", url.Values{"csrf_token": {csrf}})
		if res.Code != http.StatusSeeOther {
			t.Fatalf("console run now: got %d, want 303", res.Code)
		}
		if page := br.Get(res.Header.Get("Location")); !strings.Contains(page.Body, `data-testid="run-queued"`) {
			t.Error("the check page does not say the run was queued")
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		want := [2]int64{a.Org.ID, a.CheckID}
		if len(rec.calls) != 2 || rec.calls[0] != want || rec.calls[1] != want {
			t.Errorf("RunNow calls = %v, want twice %v", rec.calls, want)
		}
		log, err := st.AuditLog(context.Background(), a.Org.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range log {
			if e.Action == "check.run_now" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("audit rows for run now = %d, want 2", n)
		}
	})
}
