package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// seedLoneCert adds a certificate served by a single node from syd: one
// that no filter but "expiring" within a year flags.
func seedLoneCert(t *testing.T, st *store.Store, tn webtest.Tenant, now time.Time) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		return tx.RecordCertificates(ctx, []store.CertSighting{{OrgID: tn.Org.ID, CheckID: tn.CheckID, Region: "syd",
			Node: "198.51.100.7:443", SHA256: "aa" + strings.Repeat("3", 62), Subject: `=HYPERLINK("https://evil.example")`, Issuer: "CN=E6",
			Serial: "06ef", DNSNames: []string{"api.a.example", "www.a.example"}, NotBefore: now.AddDate(0, 0, -10),
			NotAfter: now.AddDate(0, 0, 200), Seen: now}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCertificateInventory: the inventory lists every certificate, each
// filter keeps the certificates it names, CSV and JSON export the filtered
// list, the admin API returns the console's JSON, and another organisation
// sees none of it.
func TestCertificateInventory(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		now := time.Now().UTC()
		seedFailingCheck(t, st, a, now)
		seedLoneCert(t, st, a, now)
		h := webtest.NewServer(t, st, nil).Handler()
		viewer := webtest.NewBrowser(t, h)
		viewer.Login(a.Viewer, webtest.TestPassword)

		subjects := func(path string) []string {
			t.Helper()
			res := viewer.Get(path)
			if res.Code != http.StatusOK {
				t.Fatalf("%s: got %d\n%s", path, res.Code, res.Body)
			}
			var out []string
			for _, part := range strings.Split(res.Body, `data-testid="cert-sha"`)[1:] {
				// The fingerprint's first two characters name the fixture.
				out = append(out, part[strings.Index(part, ">")+1:][:2])
			}
			return out
		}
		for _, tc := range []struct {
			path string
			want []string
		}{
			{"/admin/certificates", []string{"7c", "9f", "aa"}}, // expiring soonest first
			{"/admin/certificates?filter=nodes_disagree", []string{"7c", "9f"}},
			{"/admin/certificates?filter=renewal_overdue", []string{"7c", "9f"}},
			{"/admin/certificates?filter=issuer_changed", nil},
			{"/admin/certificates?expiring=30", []string{"7c", "9f"}},
			{"/admin/certificates?expiring=365&filter=", []string{"7c", "9f", "aa"}},
		} {
			if diff := cmp.Diff(tc.want, subjects(tc.path)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.path, diff)
			}
		}
		page := viewer.Get("/admin/certificates?filter=nodes_disagree").Body
		for _, want := range []string{`data-testid="tag-nodes-disagree"`, "192.0.2.12:443", "from fra, nyc", "CN=Old Internal CA",
			`<option value="nodes_disagree" selected>`, `href="/admin/certificates?filter=nodes_disagree&amp;format=csv"`} {
			if !strings.Contains(page, want) {
				t.Errorf("filtered inventory lacks %q", want)
			}
		}
		for _, bad := range []string{"?filter=bogus", "?expiring=soon", "?format=xml"} {
			if res := viewer.Get("/admin/certificates" + bad); res.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s: got %d, want 422", bad, res.Code)
			}
		}

		res := viewer.Get("/admin/certificates?format=csv")
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("csv content type: %q", ct)
		}
		records, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 4 || records[0][0] != "sha256" || records[3][1] != `'=HYPERLINK("https://evil.example")` ||
			records[3][2] != "api.a.example www.a.example" || records[1][7] != "-1" {
			t.Errorf("csv: got %q, want a header and 3 rows, formulas defused, numbers intact", records)
		}

		var fromConsole, fromAPI store.CertDocument
		res = viewer.Get("/admin/certificates?format=json&filter=nodes_disagree")
		if err := json.Unmarshal([]byte(res.Body), &fromConsole); err != nil {
			t.Fatalf("json export: %v\n%s", err, res.Body)
		}
		api := webtest.NewBrowser(t, h)
		res = api.Do(http.MethodGet, "/api/v1/certificates?filter=nodes_disagree", nil, webtest.Bearer(a.ViewTok))
		if res.Code != http.StatusOK {
			t.Fatalf("api: got %d\n%s", res.Code, res.Body)
		}
		if err := json.Unmarshal([]byte(res.Body), &fromAPI); err != nil {
			t.Fatalf("api json: %v\n%s", err, res.Body)
		}
		if diff := cmp.Diff(fromConsole, fromAPI); diff != "" {
			t.Errorf("console export and API differ (-console +api):\n%s", diff)
		}
		if len(fromAPI.Certificates) != 2 || !fromAPI.Certificates[0].NodesDisagree || len(fromAPI.Certificates[1].Nodes) != 2 ||
			len(fromAPI.Certificates[1].Seen) != 4 {
			t.Errorf("api certificates: got %+v", fromAPI.Certificates)
		}
		if res := api.Do(http.MethodGet, "/api/v1/certificates?filter=bogus", nil, webtest.Bearer(a.ViewTok)); res.Code != http.StatusUnprocessableEntity {
			t.Errorf("api bad filter: got %d, want 422", res.Code)
		}
		if res := api.Get("/api/v1/certificates"); res.Code != http.StatusUnauthorized {
			t.Errorf("api without a token: got %d, want 401", res.Code)
		}

		// Another organisation: nothing.
		res = api.Do(http.MethodGet, "/api/v1/certificates", nil, webtest.Bearer(b.ViewTok))
		if res.Code != http.StatusOK || strings.TrimSpace(res.Body) != `{"certificates":[]}` {
			t.Errorf("other organisation's api: got %d %s", res.Code, res.Body)
		}
		other := webtest.NewBrowser(t, h)
		other.Login(b.Viewer, webtest.TestPassword)
		if body := other.Get("/admin/certificates").Body; !strings.Contains(body, `data-testid="no-certs"`) || strings.Contains(body, "api.a.example") {
			t.Error("another organisation's inventory is not empty")
		}
	})
}

// TestCertificateInventoryPages: 100 certificates a page, soonest expiry
// first, with links to the neighbouring pages that keep the filters.
func TestCertificateInventoryPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		now := time.Now().UTC()
		ctx := context.Background()
		var sightings []store.CertSighting
		for i := range 105 {
			sightings = append(sightings, store.CertSighting{OrgID: a.Org.ID, CheckID: a.CheckID, Region: "fra",
				Node: fmt.Sprintf("198.51.100.%d:443", i+1), SHA256: fmt.Sprintf("%064x", i+1), Subject: "CN=api.a.example",
				Issuer: "CN=E6", Serial: fmt.Sprintf("%04x", i+1), DNSNames: []string{"api.a.example"},
				NotBefore: now.AddDate(0, 0, -10), NotAfter: now.AddDate(0, 0, 100+i), Seen: now})
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.RecordCertificates(ctx, sightings) }); err != nil {
			t.Fatal(err)
		}
		viewer := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		viewer.Login(a.Viewer, webtest.TestPassword)

		first := viewer.Get("/admin/certificates?expiring=365")
		if first.Code != http.StatusOK {
			t.Fatalf("page 1: got %d\n%s", first.Code, first.Body)
		}
		if n := strings.Count(first.Body, `data-testid="cert"`); n != 100 {
			t.Errorf("page 1 lists %d certificates, want 100", n)
		}
		for _, want := range []string{"1–100 of", "105 (105 in all)", `href="/admin/certificates?expiring=365&amp;page=2"`} {
			if !strings.Contains(first.Body, want) {
				t.Errorf("page 1 lacks %q", want)
			}
		}
		if strings.Contains(first.Body, `data-testid="cert-prev"`) {
			t.Error("page 1 links to a previous page")
		}
		second := viewer.Get("/admin/certificates?expiring=365&page=2").Body
		if n := strings.Count(second, `data-testid="cert"`); n != 5 {
			t.Errorf("page 2 lists %d certificates, want 5", n)
		}
		for _, want := range []string{"101–105 of", `href="/admin/certificates?expiring=365&amp;page=1"`} {
			if !strings.Contains(second, want) {
				t.Errorf("page 2 lacks %q", want)
			}
		}
		if strings.Contains(second, `data-testid="cert-next"`) {
			t.Error("the last page links to a next page")
		}
	})
}
