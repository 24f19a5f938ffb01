package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestRunNowIsLimited: a check's run-now is refused with 429 and
// Retry-After once its per-minute budget is spent, by the API and the
// console alike (one budget), without reaching the scheduler; another
// check still runs.
func TestRunNowIsLimited(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	var queued atomic.Int64
	srv := webtest.NewServer(t, st, func(o *web.Options) {
		o.RunNow = func(context.Context, int64, int64) error { queued.Add(1); return nil }
	})
	b := webtest.NewBrowser(t, srv.Handler())
	path := "/api/v1/checks/" + webtest.ID(a.CheckID) + "/run"
	accepted := 0
	var last webtest.Response
	for range 10 {
		last = b.Do(http.MethodPost, path, nil, webtest.Bearer(a.EditTok))
		if last.Code == http.StatusAccepted {
			accepted++
		}
	}
	if accepted != 6 || last.Code != http.StatusTooManyRequests {
		t.Fatalf("10 run-now requests: %d accepted, last %d; want 6 accepted, then 429", accepted, last.Code)
	}
	if s, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want 1–60 seconds", last.Header.Get("Retry-After"))
	}
	if got := queued.Load(); got != 6 {
		t.Errorf("probes queued: %d, want 6 (refused requests never reach the scheduler)", got)
	}
	csrf := b.Login(a.Editor, webtest.TestPassword)
	if res := b.Post("/admin/checks/"+webtest.ID(a.CheckID)+"/run", url.Values{"csrf_token": {csrf}}); res.Code != http.StatusTooManyRequests {
		t.Errorf("console run-now after the API spent the budget: got %d, want 429", res.Code)
	}
}
