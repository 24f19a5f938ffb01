package web_test

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
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := seedTenant(t, st, "a")
		b := seedTenant(t, st, "b")
		rec := &runNowRecorder{}
		h := newServer(t, st, func(o *web.Options) { o.RunNow = rec.RunNow }).Handler()
		br := newBrowser(t, h)

		res := br.do(http.MethodPost, "/api/v1/checks/"+id(a.checkID)+"/run", nil, bearer(a.editTok))
		if res.Code != http.StatusAccepted {
			t.Fatalf("API run now: got %d %s, want 202", res.Code, res.Body)
		}
		if res := br.do(http.MethodPost, "/api/v1/checks/"+id(a.checkID)+"/run", nil, bearer(b.editTok)); res.Code != http.StatusNotFound {
			t.Errorf("B running A's check: got %d, want 404", res.Code)
		}
		csrf := br.login(a.editor, testPassword)
		if res := br.post("/admin/checks/"+id(a.checkID)+"/run", url.Values{}); res.Code != http.StatusForbidden {
			t.Errorf("console run now without CSRF token: got %d, want 403", res.Code)
		}
		res = br.post("/admin/checks/"+id(a.checkID)+"/run", url.Values{"csrf_token": {csrf}})
		if res.Code != http.StatusSeeOther {
			t.Fatalf("console run now: got %d, want 303", res.Code)
		}
		if page := br.get(res.Header.Get("Location")); !strings.Contains(page.Body, `data-testid="run-queued"`) {
			t.Error("the check page does not say the run was queued")
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		want := [2]int64{a.org.ID, a.checkID}
		if len(rec.calls) != 2 || rec.calls[0] != want || rec.calls[1] != want {
			t.Errorf("RunNow calls = %v, want twice %v", rec.calls, want)
		}
		log, err := st.AuditLog(context.Background(), a.org.ID, 50)
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
