// Package api is the admin JSON API under /api/v1 (API tokens): pages,
// components and checks, check control and configuration as code. Like the
// console, every read and write is scoped by the token's organisation.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
)

type apiPage struct {
	ID     int64  `json:"id"`
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	Domain string `json:"domain,omitempty"`
	// DomainVerified: the domain is proven and served (false while
	// pending; POST /api/v1/pages/{id}/domain/verify proves it).
	DomainVerified bool           `json:"domain_verified"`
	TimeZone       string         `json:"time_zone"`
	Regions        []string       `json:"regions"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	Components     []apiComponent `json:"components,omitempty"`
	Checks         []apiCheck     `json:"checks,omitempty"`
}

type apiComponent struct {
	ID          int64     `json:"id"`
	PageID      int64     `json:"page_id"`
	GroupID     *int64    `json:"group_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Position    int       `json:"position"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Check leaves the probe spec out: it may carry request headers with
// credentials, and viewers can read this endpoint.
type apiCheck struct {
	ID              int64     `json:"id"`
	PageID          int64     `json:"page_id"`
	ComponentID     int64     `json:"component_id"`
	Name            string    `json:"name"`
	URL             string    `json:"url"`
	Regions         []string  `json:"regions"`
	IntervalSeconds int64     `json:"interval_seconds"`
	Quorum          int       `json:"quorum"`
	ConfirmRounds   int       `json:"confirm_rounds"`
	Enabled         bool      `json:"enabled"`
	State           string    `json:"state"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// orEmpty makes a nil list encode as [] rather than null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toAPIPage(p store.Page) apiPage {
	return apiPage{ID: p.ID, Slug: p.Slug, Title: p.Title, Domain: p.Domain, DomainVerified: p.DomainVerifiedAt != nil,
		TimeZone: p.TimeZone, Regions: orEmpty(p.Regions), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func toAPIComponent(c store.Component) apiComponent {
	return apiComponent{ID: c.ID, PageID: c.PageID, GroupID: c.GroupID, Name: c.Name, Description: c.Description,
		Position: c.Position, Status: c.Status, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func toAPICheck(c store.Check) apiCheck {
	return apiCheck{ID: c.ID, PageID: c.PageID, ComponentID: c.ComponentID, Name: c.Name, URL: c.URL, Regions: orEmpty(c.Regions),
		IntervalSeconds: int64(c.Interval / time.Second), Quorum: c.Quorum, ConfirmRounds: c.ConfirmRounds,
		Enabled: c.Enabled, State: c.State, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *API) Pages(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	pages, err := s.st.Pages(c.Request().Context(), p.OrgID)
	if err != nil {
		return err
	}
	out := make([]apiPage, 0, len(pages))
	for _, pg := range pages {
		out = append(out, toAPIPage(pg))
	}
	return c.JSON(http.StatusOK, map[string]any{"pages": out})
}

func (s *API) Page(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pg, err := s.st.Page(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	comps, err := s.st.Components(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	checks, err := s.st.Checks(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	out := toAPIPage(pg)
	for _, co := range comps {
		out.Components = append(out.Components, toAPIComponent(co))
	}
	for _, ch := range checks {
		out.Checks = append(out.Checks, toAPICheck(ch))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *API) Component(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	comp, err := s.st.Component(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIComponent(comp))
}

func (s *API) Check(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ch, err := s.st.Check(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPICheck(ch))
}

// SetCheckEnabled pauses or resumes a check: {"enabled": false}.
func (s *API) SetCheckEnabled(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Enabled == nil {
		return &respond.ValidationError{Field: "enabled", Message: `want a JSON body {"enabled": true|false}`}
	}
	changed, err := s.st.SetCheckEnabledBy(c.Request().Context(), p.OrgID, p.Actor(), id, *body.Enabled)
	if err != nil {
		return err
	}
	ch, err := s.st.Check(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"changed": changed, "check": toAPICheck(ch)})
}

// Apply applies a configuration file (YAML or JSON body) to the token's
// organisation, exactly like `pharos apply`; ?dry_run=1 only plans.
func (s *API) Apply(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	dryRun := false
	if v := c.QueryParam("dry_run"); v != "" {
		if dryRun, err = strconv.ParseBool(v); err != nil {
			return &respond.ValidationError{Field: "dry_run", Message: "want 1, true, 0 or false"}
		}
	}
	data, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return fmt.Errorf("api: read apply body: %w", err)
	}
	rep, err := apply.ApplyRequested(c.Request().Context(), s.st, s.limits, p.OrgID, "request", data, dryRun, p.Actor())
	var ve *apply.ValidationError
	if errors.As(err, &ve) {
		return &respond.ValidationError{Message: "the configuration has mistakes; nothing was written", Details: ve.Errors}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"created": rep.Created, "changed": rep.Changed, "removed": rep.Removed,
		"dry_run": rep.DryRun, "lines": orEmpty(rep.Lines), "summary": rep.Summary(),
		"warnings": rep.Warnings,
	})
}
