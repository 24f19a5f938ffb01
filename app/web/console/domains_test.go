package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/public"
	"pharos/app/web/webtest"
)

var tokenRE = regexp.MustCompile(`data-testid="domain-token">([^<]+)<`)

// TestConsoleDomainVerify: the page edit screen shows a pending domain's
// TXT record and "Verify now"; verifying posts with CSRF as an editor
// (viewers may not), is audited, says what DNS held while it stays
// pending, and marks the domain verified once the record holds the token.
// Another organisation cannot take the domain, nor anyone the service's
// own host name.
func TestConsoleDomainVerify(t *testing.T) {
	t.Setenv("PHAROS_BASE_URL", "https://status.service.example")
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		d := webtest.NewDNS(t)
		ev := bus.NewMemory(bus.Options{})
		t.Cleanup(func() { ev.Close() })
		h := webtest.NewServer(t, st, func(o *web.Options) {
			o.Bus, o.BaseURL = ev, "https://status.service.example"
			o.DomainVerify = public.DomainVerifierOptions{Resolver: d.Resolver, Timeout: 2 * time.Second}
		}).Handler()
		ed := webtest.NewBrowser(t, h)
		csrf := ed.Login(a.Editor, webtest.TestPassword)
		edit := fmt.Sprintf("/admin/pages/%d/edit", a.PageID)
		verify := fmt.Sprintf("/admin/pages/%d/domain/verify", a.PageID)
		pageForm := func(domain string) []string {
			return []string{"title", "A status", "slug", "a-status", "domain", domain, "timezone", "UTC",
				"auto_incidents", "publish", "public_detail", "plain"}
		}

		if res := ed.Post(fmt.Sprintf("/admin/pages/%d", a.PageID), form(csrf, pageForm("Status.A.example.")...)); res.Code != http.StatusSeeOther {
			t.Fatalf("save the domain: got %d\n%s", res.Code, res.Body)
		}
		page := ed.Get(edit)
		m := tokenRE.FindStringSubmatch(page.Body)
		if page.Code != http.StatusOK || m == nil || !strings.Contains(page.Body, `data-testid="domain-record">_pharos-challenge.status.a.example<`) ||
			!strings.Contains(page.Body, "pending") || !strings.Contains(page.Body, `data-testid="verify-domain"`) {
			t.Fatalf("edit screen: got %d, want the pending domain's TXT record and Verify now\n%s", page.Code, page.Body)
		}
		token := html.UnescapeString(m[1])

		// Only editors, only with the form's CSRF token.
		viewer := webtest.NewBrowser(t, h)
		vcsrf := viewer.Login(a.Viewer, webtest.TestPassword)
		if res := viewer.Post(verify, form(vcsrf)); res.Code != http.StatusForbidden {
			t.Errorf("viewer verifying: got %d, want 403", res.Code)
		}
		if res := ed.Post(verify, form("wrong")); res.Code != http.StatusForbidden {
			t.Errorf("verifying without the CSRF token: got %d, want 403", res.Code)
		}

		d.SetTXT("_pharos-challenge.status.a.example", "pharos-not-mine")
		res := ed.Post(verify, form(csrf))
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="domain-problem"`) ||
			!strings.Contains(html.UnescapeString(res.Body), `holds "pharos-not-mine", not this page's token`) {
			t.Fatalf("TXT mismatch: got %d, want 422 saying what the record holds\n%s", res.Code, res.Body)
		}

		d.SetTXT("_pharos-challenge.status.a.example", token)
		if res := ed.Post(verify, form(csrf)); res.Code != http.StatusSeeOther || res.Header.Get("Location") != edit {
			t.Fatalf("matching TXT: got %d to %q, want 303 to the edit screen\n%s", res.Code, res.Header.Get("Location"), res.Body)
		}
		if page := ed.Get(edit); !strings.Contains(page.Body, "verified") || strings.Contains(page.Body, `data-testid="verify-domain"`) {
			t.Errorf("edit screen after verifying: want it verified, without Verify now")
		}
		pg, err := st.Page(ctx, a.Org.ID, a.PageID)
		if err != nil || pg.DomainVerifiedAt == nil {
			t.Errorf("page: verified at %v (%v), want set", pg.DomainVerifiedAt, err)
		}
		log, err := st.AuditLog(ctx, a.Org.ID, 20)
		if err != nil {
			t.Fatal(err)
		}
		var rows int
		for _, e := range log {
			if e.Action == "page.domain_verify" && strings.HasPrefix(e.Actor, "user:") {
				rows++
			}
		}
		if rows != 2 {
			t.Errorf("audit: got %d page.domain_verify rows by the user, want 2 (pending, verified)", rows)
		}

		// Another organisation cannot take the domain; nobody the
		// service's own host.
		edB := webtest.NewBrowser(t, h)
		csrfB := edB.Login(b.Editor, webtest.TestPassword)
		saveB := fmt.Sprintf("/admin/pages/%d", b.PageID)
		bForm := func(domain string) []string {
			f := pageForm(domain)
			f[3] = "b-status"
			return f
		}
		if res := edB.Post(saveB, form(csrfB, bForm("STATUS.a.example")...)); res.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(html.UnescapeString(res.Body), "already used by another page") {
			t.Errorf("org B taking A's domain: got %d, want 422 saying it is used", res.Code)
		}
		if res := edB.Post(saveB, form(csrfB, bForm("status.service.example")...)); res.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(html.UnescapeString(res.Body), "this service's own host name") {
			t.Errorf("org B taking the service's host: got %d, want 422 saying it is the service's own", res.Code)
		}
	})
}
