package web

import (
	"context"
	"strconv"
	"time"

	"pharos/app/web/auth"
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
