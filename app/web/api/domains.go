package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/public"
)

// Domains serves POST /api/v1/pages/{id}/domain/verify: it proves the
// page's custom domain now (public.DomainVerifier).
type Domains struct {
	st *store.Store
	v  *public.DomainVerifier
}

// NewDomains returns the handler.
func NewDomains(st *store.Store, v *public.DomainVerifier) *Domains { return &Domains{st: st, v: v} }

// apiDomain is a page's custom domain and how to prove it.
type apiDomain struct {
	PageID   int64  `json:"page_id"`
	Domain   string `json:"domain"`
	Verified bool   `json:"domain_verified"`
	// VerifiedAt is when it was proven; null while pending.
	VerifiedAt *time.Time `json:"domain_verified_at"`
	// Method proved it just now: "dns" or "http"; "" otherwise.
	Method string `json:"method,omitempty"`
	// Problem says why it stays pending.
	Problem string `json:"problem,omitempty"`
	// Record is the TXT record that proves the domain; File the HTTP
	// file that may instead.
	Record struct {
		Type  string `json:"type"`
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"record"`
	File string `json:"file"`
}

// Verify checks the page's domain: 200 with domain_verified true once
// proven, 422 with the problem while it stays pending.
func (d *Domains) Verify(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	check, err := d.v.VerifyPage(c.Request().Context(), d.st, p.OrgID, id, p.Actor(), c.Request().Host)
	if err != nil {
		return err
	}
	cl := check.Claim
	out := apiDomain{PageID: cl.PageID, Domain: cl.Domain, Verified: cl.Verified(), VerifiedAt: cl.VerifiedAt,
		Method: check.Method, Problem: check.Problem, File: "http://" + cl.Domain + store.DomainChallengePath(cl.Token)}
	out.Record.Type, out.Record.Name, out.Record.Value = "TXT", store.DomainChallengeName(cl.Domain), cl.Token
	code := http.StatusOK
	if check.Problem != "" {
		code = http.StatusUnprocessableEntity
	}
	return c.JSON(code, out)
}
