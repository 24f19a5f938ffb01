package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/public"
	"pharos/app/web/respond"
)

// Run-now limits: a person or script may ask for a check's immediate probe
// a few times a minute, and an organisation for a bounded number overall,
// so a flood can neither hammer a target nor crowd the region streams that
// every organisation's scheduled checks share.
const (
	runNowPerCheck = 6
	runNowPerOrg   = 60
	runNowWindow   = time.Minute
)

// RunNowFunc queues an immediate probe of a check in each of its regions.
type RunNowFunc = func(ctx context.Context, orgID, checkID int64) error

// limitRunNow wraps run with the per-check and per-organisation limits;
// a refused request is a *respond.TooManyRequests (429 with Retry-After).
func limitRunNow(run RunNowFunc, perCheck, perOrg int, window time.Duration) RunNowFunc {
	if run == nil {
		return nil
	}
	checks, orgs := auth.NewLimiter(perCheck, window), auth.NewLimiter(perOrg, window)
	return func(ctx context.Context, orgID, checkID int64) error {
		org := strconv.FormatInt(orgID, 10)
		if ok, wait := checks.Allow(org + "/" + strconv.FormatInt(checkID, 10)); !ok {
			return &respond.TooManyRequests{Message: runNowMessage(perCheck, perOrg), RetryAfter: wait}
		}
		if ok, wait := orgs.Allow(org); !ok {
			return &respond.TooManyRequests{Message: runNowMessage(perCheck, perOrg), RetryAfter: wait}
		}
		return run(ctx, orgID, checkID)
	}
}

func runNowMessage(perCheck, perOrg int) string {
	return "Run now is limited to " + strconv.Itoa(perCheck) + " per check and " + strconv.Itoa(perOrg) +
		" per organisation a minute; try again shortly."
}

// queueRun is run-now as the console and the API call it: the check must be
// the organisation's, the (limited) run is queued, and the audit row names
// who asked. Without a bus it answers 503.
func queueRun(st *store.Store, run RunNowFunc) func(ctx context.Context, orgID int64, actor store.Actor, checkID int64) error {
	return func(ctx context.Context, orgID int64, actor store.Actor, checkID int64) error {
		if run == nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "this process cannot queue probes (no bus)")
		}
		if _, err := st.Check(ctx, orgID, checkID); err != nil {
			return err
		}
		if err := run(ctx, orgID, checkID); err != nil {
			return fmt.Errorf("web: run check %d now: %w", checkID, err)
		}
		return st.Audit(ctx, orgID, actor, "check.run_now", fmt.Sprintf("check %d", checkID), nil)
	}
}

// pageChanged marks a page written in this process's cache and tells its
// open browsers, and the other processes, to refresh. A lost event costs a
// browser a few seconds (the page cache's TTL), so failures are logged,
// not returned.
func pageChanged(site *public.Site, events bus.Events, log *slog.Logger) func(ctx context.Context, slug string) {
	return func(ctx context.Context, slug string) {
		if slug == "" {
			return
		}
		site.Written(slug)
		if events == nil {
			return
		}
		if err := events.PublishEvent(ctx, pipeline.EventsChannel(slug), pipeline.PageChanged(slug)); err != nil {
			log.WarnContext(ctx, "publish page event", slog.String("page", slug), slog.Any("error", err))
		}
	}
}
