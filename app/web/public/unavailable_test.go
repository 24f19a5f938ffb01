package public_test

import (
	"net/http"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestPageNeverRenderedWhileDatabaseIsGone: a page nobody viewed before
// the database went away answers 503 with Retry-After — a friendly page
// for a browser, JSON for the API — never 500.
func TestPageNeverRenderedWhileDatabaseIsGone(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		webtest.SeedTenant(t, st, "a")
		b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		if err := st.DB().Close(); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ path, want string }{
			{"/p/a/", "cannot be shown right now"},
			{"/p/a/api/v2/summary.json", `"error":"This page cannot be shown right now`},
		} {
			res := b.Get(tt.path)
			if res.Code != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(res.Body, tt.want) {
				t.Errorf("%s: got %d (Retry-After %q)\n%s\nwant 503 with Retry-After and %q", tt.path, res.Code,
					res.Header.Get("Retry-After"), res.Body, tt.want)
			}
		}
	})
}
