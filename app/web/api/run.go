package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"pharos/app/bus"
	"pharos/app/store"
	"pharos/app/web/auth"
)

// RunNowFunc queues an immediate probe of a check in each of its regions;
// it returns store.ErrNotFound for a check outside the organisation.
type RunNowFunc func(ctx context.Context, orgID, checkID int64) error

// Options configures an API.
type Options struct {
	Store *store.Store
	Auth  *auth.Auth
	// RunNow queues probes for /checks/{id}/run; nil when this process has
	// no bus.
	RunNow RunNowFunc
	// Events carries the pages' live events after a write through the
	// management API (nil: none; open pages refresh on their cache TTL).
	Events bus.Events
	Logger *slog.Logger
	// Subscriptions adds subscribers for POST …/subscribers (the public
	// site, which owns the subscribe steps).
	Subscriptions Subscriptions
}

// API serves /api/v1.
type API struct {
	st     *store.Store
	auth   *auth.Auth
	runNow RunNowFunc
	events bus.Events
	log    *slog.Logger
	subs   Subscriptions
}

// New builds an API.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &API{st: opts.Store, auth: opts.Auth, runNow: opts.RunNow, events: opts.Events, log: opts.Logger,
		subs: opts.Subscriptions}
}

// RunCheck answers 202: the probe runs within seconds, its result arrives
// through the pipeline like any other.
func (s *API) RunCheck(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	if s.runNow == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "this process cannot queue probes (no bus)")
	}
	ctx := c.Request().Context()
	if _, err := s.st.Check(ctx, p.OrgID, id); err != nil {
		return err
	}
	if err := s.runNow(ctx, p.OrgID, id); err != nil {
		return fmt.Errorf("api: run check %d now: %w", id, err)
	}
	if err := s.st.Audit(ctx, p.OrgID, p.Actor(), "check.run_now", fmt.Sprintf("check %d", id), nil); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"queued": true, "check_id": id})
}
