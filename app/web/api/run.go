package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/web/auth"
)

// RunNowFunc queues an immediate probe of a check in each of its regions
// and audits it as actor; store.ErrNotFound for a check outside the
// organisation.
type RunNowFunc func(ctx context.Context, orgID int64, actor store.Actor, checkID int64) error

// Options configures an API.
type Options struct {
	Store *store.Store
	Auth  *auth.Auth
	// RunNow queues a probe for /checks/{id}/run, audited (the shell
	// builds it: it answers 503 when this process has no bus).
	RunNow RunNowFunc
	// PageChanged tells a page's open browsers to refresh after a write.
	PageChanged func(ctx context.Context, slug string)
	Logger      *slog.Logger
	// Subscriptions adds subscribers for POST …/subscribers (the public
	// site, which owns the subscribe steps).
	Subscriptions Subscriptions
	// Limits are the operator's per-organisation quotas POST /apply
	// enforces; the zero Limits limit nothing.
	Limits apply.Limits
	// BaseURL is PHAROS_BASE_URL: the incidents' shortlinks are under it
	// (or under the page's verified custom domain).
	BaseURL string
}

// API serves /api/v1.
type API struct {
	st          *store.Store
	auth        *auth.Auth
	runNow      RunNowFunc
	pageChanged func(ctx context.Context, slug string)
	log         *slog.Logger
	subs        Subscriptions
	limits      apply.Limits
	baseURL     string
}

// New builds an API.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &API{st: opts.Store, auth: opts.Auth, runNow: opts.RunNow, pageChanged: opts.PageChanged, log: opts.Logger,
		subs: opts.Subscriptions, limits: opts.Limits, baseURL: opts.BaseURL}
}

// RunCheck answers 202: the probe runs within seconds, its result arrives
// through the pipeline like any other.
func (s *API) RunCheck(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	if err := s.runNow(c.Request().Context(), p.OrgID, p.Actor(), id); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"queued": true, "check_id": id})
}
