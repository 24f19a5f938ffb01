package console

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/public"
	"pharos/app/web/respond"
	"pharos/views"
)

// Domains is the page edit screen's "Verify now": it proves a page's
// custom domain (public.DomainVerifier) and shows the outcome.
type Domains struct {
	con *Console
	v   *public.DomainVerifier
}

// NewDomains returns the handler over the console's pages.
func NewDomains(con *Console, v *public.DomainVerifier) *Domains { return &Domains{con: con, v: v} }

// Verify checks the page's domain now. Verified, it goes back to the edit
// screen; still pending, the screen says what each method found (422).
func (d *Domains) Verify(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	check, err := d.v.VerifyPage(ctx, d.con.st, p.OrgID, id, p.Actor(), c.Request().Host)
	if err != nil {
		return err
	}
	if check.Problem == "" {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/pages/%d/edit", id))
	}
	pg, err := d.con.st.Page(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	f, err := d.con.pageForm(ctx, p, pg)
	if err != nil {
		return err
	}
	if f.Domain != nil {
		f.Domain.Problem = check.Problem
	}
	return respond.Render(c, http.StatusUnprocessableEntity, views.PageForm(respond.Layout(c, "Edit "+pg.Title), f))
}

// domainClaim is the edit screen's view of the page's custom domain: its
// state and the record (or file) that proves it; nil without a domain.
func (s *Console) domainClaim(ctx context.Context, orgID int64, pg store.Page) (*views.DomainClaim, error) {
	if pg.Domain == "" {
		return nil, nil
	}
	claim, err := s.st.DomainClaim(ctx, orgID, pg.ID)
	if err != nil {
		return nil, err
	}
	v := &views.DomainClaim{Domain: claim.Domain, RecordName: store.DomainChallengeName(claim.Domain), Token: claim.Token,
		FileURL:   "http://" + claim.Domain + store.DomainChallengePath(claim.Token),
		VerifyURL: fmt.Sprintf("/admin/pages/%d/domain/verify", pg.ID)}
	if claim.VerifiedAt != nil {
		v.VerifiedAt = claim.VerifiedAt.Format("2006-01-02 15:04 MST")
	}
	return v, nil
}
