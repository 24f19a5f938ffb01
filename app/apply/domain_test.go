package apply_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

const domainPage = `page:
  slug: acme
  title: ACME status
  domain: %s
components:
  - name: API
`

// TestApplyDomainPending: apply writes a custom domain pending and says
// which TXT record proves it; another organisation cannot take the domain,
// pending or verified, in any case or with a trailing dot; the service's
// own host name is refused.
func TestApplyDomainPending(t *testing.T) {
	t.Setenv("PHAROS_BASE_URL", "https://status.service.example")
	t.Setenv("PHAROS_LISTEN", "pharos.internal.example:8080")
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := newOrg(t, st, "org-a"), newOrg(t, st, "org-b")
		file := func(slug, domain string) []byte {
			return []byte(strings.Replace(strings.Replace(domainPage, "%s", domain, 1), "slug: acme", "slug: "+slug, 1))
		}

		var out, dry, errOut bytes.Buffer // stdout, the dry run's stderr, the apply's
		args := []string{"-f", "-", "--org", "org-a"}
		if code := apply.Command(ctx, st, apply.Limits{}, append(args, "--dry-run"), bytes.NewReader(file("acme", "Status.ACME.example.")), &out, &dry); code != 0 ||
			!strings.Contains(dry.String(), "note: domain status.acme.example is served only once verified: a DNS TXT record _pharos-challenge.status.acme.example") {
			t.Fatalf("dry run: got %d\n%s\nwant a note naming the record", code, dry.String())
		}
		if code := apply.Command(ctx, st, apply.Limits{}, args, bytes.NewReader(file("acme", "Status.ACME.example.")), &out, &errOut); code != 0 || strings.Contains(out.String(), "note:") {
			t.Fatalf("apply: got %d\n%s", code, errOut.String())
		}
		rep, err := apply.Apply(ctx, st, a, "a.yaml", file("acme", "status.acme.example"), false, "test")
		if err != nil {
			t.Fatal(err)
		}
		pg, err := st.PageBySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		claim, err := st.DomainClaim(ctx, a, pg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pg.Domain != "status.acme.example" || claim.Verified() {
			t.Fatalf("page domain %q verified %v, want status.acme.example pending", pg.Domain, claim.Verified())
		}
		if len(rep.Notices) != 1 || !strings.Contains(rep.Notices[0], "TXT record _pharos-challenge.status.acme.example with the value "+claim.Token) {
			t.Fatalf("notices: got %q, want the TXT record with the page's token", rep.Notices)
		}
		if !strings.Contains(errOut.String(), "note: "+rep.Notices[0]) {
			t.Errorf("pharos apply printed on stderr\n%s\nwant the note", errOut.String())
		}

		taken := func(domain string) {
			t.Helper()
			_, err := apply.Apply(ctx, st, b, "b.yaml", file("other", domain), false, "test")
			var verr *apply.ValidationError
			if !errors.As(err, &verr) || !strings.Contains(err.Error(), "already used by another page") {
				t.Errorf("org B claiming %q: got %v, want it refused as used", domain, err)
			}
		}
		taken("STATUS.acme.example.") // pending
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.MarkDomainVerified(ctx, a, pg.ID, "status.acme.example", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		taken("status.acme.example") // verified
		rep, err = apply.Apply(ctx, st, a, "a.yaml", file("acme", "status.acme.example"), false, "test")
		if err != nil || len(rep.Notices) != 0 || rep.Changed != 0 {
			t.Errorf("reapplying a verified domain: got %+v, %v; want no change and no notice", rep, err)
		}

		for _, own := range []string{"status.service.example", "Status.Service.Example.", "pharos.internal.example", "app.localhost"} {
			_, err := apply.Apply(ctx, st, b, "b.yaml", file("other", own), false, "test")
			var verr *apply.ValidationError
			if !errors.As(err, &verr) || !strings.Contains(err.Error(), "this service's own host name") {
				t.Errorf("claiming %q: got %v, want it refused as the service's own host", own, err)
			}
		}
	})
}
