package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestDomainClaim: a page's domain is pending until marked verified, its
// token is stable, lookups ignore case and a trailing dot, a changed
// domain is pending again, and no two pages hold one domain in any case.
func TestDomainClaim(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, err := s.CreateOrg(ctx, "ACME", "acme")
		if err != nil {
			t.Fatal(err)
		}
		var pg store.Page
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			pg, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "acme", Title: "ACME", Domain: "status.acme.example", TimeZone: "UTC"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		claim, err := s.DomainClaim(ctx, org.ID, pg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(claim.Token, "pharos-") || len(claim.Token) != len("pharos-")+32 || claim.Verified() {
			t.Fatalf("new claim: got token %q verified %v, want a fresh token, pending", claim.Token, claim.Verified())
		}
		again, err := s.DomainClaim(ctx, org.ID, pg.ID)
		if err != nil || again.Token != claim.Token {
			t.Fatalf("second read: got token %q (%v), want %q", again.Token, err, claim.Token)
		}
		if _, err := s.DomainClaim(ctx, org.ID+1, pg.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organisation's page: got %v, want ErrNotFound", err)
		}

		at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.MarkDomainVerified(ctx, org.ID, pg.ID, "other.acme.example", at)
		}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("verifying a domain the page does not hold: got %v, want ErrNotFound", err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.MarkDomainVerified(ctx, org.ID, pg.ID, "status.acme.example", at)
		}); err != nil {
			t.Fatal(err)
		}
		byHost, err := s.DomainClaimByHost(ctx, "Status.ACME.example.")
		if err != nil || !byHost.Verified() || byHost.Slug != "acme" || !byHost.VerifiedAt.Equal(at) {
			t.Fatalf("by host: got %+v (%v), want acme verified at %s", byHost, err, at)
		}
		read, err := s.Page(ctx, org.ID, pg.ID)
		if err != nil || read.DomainVerifiedAt == nil || !read.DomainVerifiedAt.Equal(at) {
			t.Errorf("page: got verified at %v (%v), want %s", read.DomainVerifiedAt, err, at)
		}

		// A changed domain is pending again, with the same token.
		pg.Domain = "new.acme.example"
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.UpdatePage(ctx, pg) }); err != nil {
			t.Fatal(err)
		}
		moved, err := s.DomainClaimByHost(ctx, "new.acme.example")
		if err != nil || moved.Verified() || moved.Token != claim.Token {
			t.Errorf("changed domain: got %+v (%v), want pending with the same token", moved, err)
		}
		if _, err := s.DomainClaimByHost(ctx, "status.acme.example"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the old domain: got %v, want ErrNotFound", err)
		}

		// One domain, one page, whatever its case.
		other, err := s.CreateOrg(ctx, "Other", "other")
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.CreatePage(ctx, store.Page{OrgID: other.ID, Slug: "other", Title: "Other", Domain: "NEW.acme.example", TimeZone: "UTC"})
			return err
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("the same domain in upper case for another organisation: got %v, want ErrConflict", err)
		}
	})
}
