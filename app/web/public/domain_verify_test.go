package public_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/public"
	"pharos/app/web/webtest"
)

const token = "pharos-testtoken"

// challengeServer serves the HTTP fallback's file on loopback: body for
// the token's path, 404 for any other (and for every path when body is
// ""). It returns the port.
func challengeServer(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body == "" || r.URL.Path != store.DomainChallengePath(token) {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// TestDomainVerifier: the TXT record proves a domain, else the HTTP file
// does (fetched through the SSRF guard); anything else leaves it pending
// with what each method found.
func TestDomainVerifier(t *testing.T) {
	t.Parallel()
	const domain = "status.acme.example"
	loop := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		name         string
		txt          []string
		file         string // "" serves no file
		allowPrivate bool
		want         string // the method, or "" for pending
		problem      []string
	}{
		{name: "txt", txt: []string{"v=spf1 -all", token}, want: public.VerifiedByDNS},
		{name: "txt mismatch", txt: []string{"pharos-someoneelse"}, allowPrivate: true,
			problem: []string{`TXT record _pharos-challenge.status.acme.example holds "pharos-someoneelse", not this page's token`, "answered 404"}},
		{name: "no record, no file", allowPrivate: true,
			problem: []string{"no TXT record _pharos-challenge.status.acme.example", "answered 404"}},
		{name: "file", file: token + "\n", allowPrivate: true, want: public.VerifiedByHTTP},
		{name: "file with another token", file: "pharos-other", allowPrivate: true, problem: []string{"does not hold this page's token"}},
		{name: "file too large", file: token + strings.Repeat(" ", 4096), allowPrivate: true, problem: []string{"larger than 1024 bytes"}},
		{name: "file on a private address", file: token, problem: []string{"resolves to an address Pharos may not fetch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := webtest.NewDNS(t)
			d.SetA(domain, loop)
			if tc.txt != nil {
				d.SetTXT(store.DomainChallengeName(domain), tc.txt...)
			}
			port := challengeServer(t, tc.file)
			v := public.NewDomainVerifier(public.DomainVerifierOptions{Resolver: d.Resolver, AllowPrivate: tc.allowPrivate,
				HTTPPort: port, Timeout: 5 * time.Second})
			got, err := v.Verify(context.Background(), domain, token)
			var verr *public.VerifyError
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want verified by %s", got, err, tc.want)
				}
				return
			}
			if !errors.As(err, &verr) {
				t.Fatalf("got %q, %v; want a *VerifyError", got, err)
			}
			for _, p := range tc.problem {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("got %q, want it to say %q", err, p)
				}
			}
		})
	}
}

// TestDomainServedOnlyOnceVerified: a page's domain answers 404 (saying
// verification is pending) until its owner's TXT record is verified
// through the API, then serves the page at once; with PHAROS_BASE_URL set
// an unknown host gets 404, not the default page.
func TestDomainServedOnlyOnceVerified(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		tn := webtest.SeedTenant(t, st, "acme")
		if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, `UPDATE pages SET domain = ? WHERE id = ?`), "status.acme.example", tn.PageID); err != nil {
			t.Fatal(err)
		}
		seedPublicPage(t, st, fixtureOptions{slug: "home", title: "Home status", components: 1, days: 1})
		d := webtest.NewDNS(t)
		h := webtest.NewServer(t, st, func(o *web.Options) {
			o.BaseURL, o.DefaultPage = "https://status.example", "home"
			o.DomainVerify = public.DomainVerifierOptions{Resolver: d.Resolver, Timeout: 2 * time.Second, HTTPPort: challengeServer(t, "")}
		}).Handler()
		verify := func() (int, map[string]any) {
			t.Helper()
			req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/domain/verify", tn.PageID), nil)
			req.Host = "status.example"
			req.Header.Set("Authorization", "Bearer "+tn.EditTok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("verify: %d %q: %v", rec.Code, rec.Body, err)
			}
			return rec.Code, out
		}

		pending := hostGet(t, h, "status.acme.example", "/")
		if pending.Code != http.StatusNotFound || !strings.Contains(pending.Body.String(), "has not verified it") ||
			strings.Contains(pending.Body.String(), "ACME status") {
			t.Fatalf("pending domain: got %d %.300s, want 404 saying verification is pending", pending.Code, pending.Body.String())
		}
		if res := hostGet(t, h, "status.acme.example", "/api/v2/summary.json"); res.Code != http.StatusNotFound {
			t.Errorf("pending domain's summary: got %d, want 404", res.Code)
		}

		d.SetTXT(store.DomainChallengeName("status.acme.example"), "pharos-not-this-one")
		code, out := verify()
		if code != http.StatusUnprocessableEntity || out["domain_verified"] != false ||
			!strings.Contains(fmt.Sprint(out["problem"]), "not this page's token") {
			t.Fatalf("TXT mismatch: got %d %v; want 422, pending, saying the record holds another token", code, out)
		}
		if res := hostGet(t, h, "status.acme.example", "/"); res.Code != http.StatusNotFound {
			t.Fatalf("after a failed verification: got %d, want 404", res.Code)
		}

		record := out["record"].(map[string]any)
		if record["name"] != "_pharos-challenge.status.acme.example" || record["type"] != "TXT" {
			t.Fatalf("record: got %v, want TXT _pharos-challenge.status.acme.example", record)
		}
		d.SetTXT(record["name"].(string), record["value"].(string))
		code, out = verify()
		if code != http.StatusOK || out["domain_verified"] != true || out["method"] != public.VerifiedByDNS {
			t.Fatalf("matching TXT: got %d %v; want verified by dns", code, out)
		}
		if res := hostGet(t, h, "Status.ACME.example.:443", "/"); res.Code != http.StatusOK || !strings.Contains(res.Body.String(), "ACME status") {
			t.Fatalf("verified domain: got %d, want the page at once", res.Code)
		}
		log, err := st.AuditLog(ctx, tn.Org.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var results []string
		for _, e := range log {
			if e.Action == "page.domain_verify" {
				results = append(results, string(e.Detail))
			}
		}
		if joined := strings.Join(results, " "); len(results) != 2 || !strings.Contains(joined, `"result":"verified"`) || !strings.Contains(joined, `"result":"pending"`) {
			t.Errorf("audit: got %q, want a pending and a verified row", results)
		}

		// A page holding the service's own host (written past apply's
		// refusal) can neither verify it nor be served there.
		other := webtest.SeedTenant(t, st, "other")
		if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, `UPDATE pages SET domain = ? WHERE id = ?`), "status.example", other.PageID); err != nil {
			t.Fatal(err)
		}
		d.SetTXT(store.DomainChallengeName("status.example"), "anything")
		req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/domain/verify", other.PageID), nil)
		req.Host = "status.example"
		req.Header.Set("Authorization", "Bearer "+other.EditTok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "own host name") {
			t.Errorf("verifying the service's host: got %d %s, want 422 naming it the service's own", rec.Code, rec.Body)
		}

		// Unknown hosts: 404 where the default page would be; the
		// service's own host keeps it.
		if res := hostGet(t, h, "nobody.example", "/"); res.Code != http.StatusNotFound || strings.Contains(res.Body.String(), "Home status") {
			t.Errorf("unknown host: got %d, want 404 without the default page", res.Code)
		}
		if res := hostGet(t, h, "status.example", "/"); res.Code != http.StatusOK || !strings.Contains(res.Body.String(), "Home status") {
			t.Errorf("own host: got %d, want the default page", res.Code)
		}
	})
}
