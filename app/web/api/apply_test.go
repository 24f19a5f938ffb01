package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

const applyYAML = `page:
  slug: acme
  title: ACME status
regions: [fra, iad]
components:
  - name: API
    checks:
      - name: api health
        url: https://api.acme.example/health
        interval: 60s
`

type applyResult struct {
	Created, Changed, Removed int
	DryRun                    bool `json:"dry_run"`
	Lines                     []string
	Summary                   string
}

func TestAPIApply(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		post := func(path, body, tok string) (webtest.Response, applyResult) {
			t.Helper()
			res := b.Do(http.MethodPost, path, body, webtest.Bearer(tok))
			var r applyResult
			if res.Code == http.StatusOK {
				if err := json.Unmarshal([]byte(res.Body), &r); err != nil {
					t.Fatalf("apply webtest.Response %q: %v", res.Body, err)
				}
			}
			return res, r
		}
		ctx := context.Background()

		res, r := post("/api/v1/apply?dry_run=1", applyYAML, a.EditTok)
		if res.Code != http.StatusOK || !r.DryRun || r.Created == 0 {
			t.Fatalf("dry run: got %d %s, want 200 with a plan", res.Code, res.Body)
		}
		if pages, _ := st.Pages(ctx, a.Org.ID); len(pages) != 1 {
			t.Errorf("a dry run wrote pages: %d, want the 1 seeded", len(pages))
		}

		res, r = post("/api/v1/apply", applyYAML, a.EditTok)
		if res.Code != http.StatusOK || r.Created == 0 || !strings.HasPrefix(r.Summary, "apply: ") || len(r.Lines) == 0 {
			t.Fatalf("apply: got %d %s, want 200 with created rows", res.Code, res.Body)
		}
		res, r = post("/api/v1/apply", applyYAML, a.EditTok)
		if res.Code != http.StatusOK || r.Summary != "apply: 0 created, 0 changed, 0 removed" {
			t.Errorf("second apply: got %d %q, want nothing to do", res.Code, r.Summary)
		}

		bad := strings.Replace(applyYAML, "https://api.acme.example/health", "ftp://nope", 1)
		res, _ = post("/api/v1/apply", bad, a.EditTok)
		var verr struct {
			Details []struct {
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"details"`
		}
		if err := json.Unmarshal([]byte(res.Body), &verr); err != nil {
			t.Fatal(err)
		}
		if res.Code != http.StatusUnprocessableEntity || len(verr.Details) == 0 || verr.Details[0].Line != 9 {
			t.Errorf("bad file: got %d %s, want 422 naming line 9", res.Code, res.Body)
		}

		if res, _ := post("/api/v1/apply", applyYAML, a.ViewTok); res.Code != http.StatusForbidden {
			t.Errorf("viewer token: got %d, want 403", res.Code)
		}

		log, err := st.AuditLog(ctx, a.Org.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		applies := 0
		for _, e := range log {
			if e.Action == "apply" {
				applies++
				if e.Actor != "token:editor-token" || e.TokenID == 0 {
					t.Errorf("apply audit row %+v, want the editor token as actor", e)
				}
			}
		}
		if applies != 2 {
			t.Errorf("apply audit rows = %d, want 2 (dry runs and refused files are not applied)", applies)
		}
	})
}
