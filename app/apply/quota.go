package apply

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	envconfig "pharos/app/config"
	"pharos/app/store"
)

// Quotas (issue 11): how much one organisation may hold on a shared
// service. Every write that adds a page, component or check, or sets a
// check's interval, goes through here: `pharos apply`, POST /api/v1/apply
// and the console's forms, so all of them refuse the same thing in the
// same words.
//
// What is counted is what the organisation would have once the change is
// made: a file that replaces checks on its page is measured by the page it
// leaves behind, never by old and new together. A change that does not
// add to a count already over its limit (the operator lowered it) is
// let through, so an organisation can always shrink back under it.

// Limits are the operator's per-organisation quotas (PHAROS_MAX_CHECKS,
// PHAROS_MAX_COMPONENTS, PHAROS_MAX_PAGES, PHAROS_MIN_INTERVAL). A zero
// field is no limit; the zero Limits limit nothing (the configuration
// fills in the defaults: see LimitsOf).
type Limits struct {
	Checks     int
	Components int
	Pages      int
	// MinInterval is the shortest interval a check may have; the format's
	// own floor (10s) applies below it.
	MinInterval time.Duration
}

// LimitsOf returns the limits the configuration sets.
func LimitsOf(c envconfig.Config) Limits {
	return Limits{Checks: c.MaxChecks, Components: c.MaxComponents, Pages: c.MaxPages, MinInterval: c.MinInterval}
}

// IntervalRange words the intervals a check may have under l, as the
// console's check form and apply's range message state them: "30s to
// 24h". Its floor is the operator's minimum, or the format's own (10s)
// when that is higher or there is none.
func (l Limits) IntervalRange() string {
	return durationText(max(l.MinInterval, minInterval)) + " to " + durationText(maxInterval)
}

// counted reports whether any count is limited (else nothing is read).
func (l Limits) counted() bool { return l.Checks > 0 || l.Components > 0 || l.Pages > 0 }

// holdings counts what the organisation has, within the write's
// transaction and holding the organisation's quota lock until it ends, so
// concurrent writes cannot each pass on the same count.
func (l Limits) holdings(ctx context.Context, tx *store.Tx, orgID int64) (store.Holdings, error) {
	if !l.counted() {
		return store.Holdings{}, nil
	}
	h, err := tx.LockOrgHoldings(ctx, orgID)
	if err != nil {
		return h, fmt.Errorf("apply: %w", err)
	}
	return h, nil
}

// overLimit is the refusal of a change that takes a count from before to
// after: "1,001 checks would exceed this organisation's limit of 1,000
// (PHAROS_MAX_CHECKS)", or "" when the change is within the limit (or
// does not add to the count).
func overLimit(what string, limit int, env string, before, after int) string {
	if limit <= 0 || after <= limit || after <= before {
		return ""
	}
	return fmt.Sprintf("%s %s would exceed this organisation's limit of %s (%s)",
		thousands(after), what, thousands(limit), env)
}

// tooFrequent is the refusal of a check interval below the minimum, or "".
func (l Limits) tooFrequent(interval time.Duration, set bool) string {
	if l.MinInterval <= 0 || interval >= l.MinInterval {
		return ""
	}
	given := durationText(interval)
	if !set {
		given += " (the default)"
	}
	return fmt.Sprintf("%s is more often than this service allows: the shortest interval is %s (%s)",
		given, durationText(l.MinInterval), envconfig.EnvMinInterval)
}

// intervalErrors lists the file's checks whose interval is below the
// minimum, each at its interval (or, when the file leaves it out, at the
// check).
func (l Limits) intervalErrors(c *config) errorList {
	var errs errorList
	for i, comp := range c.components {
		for j, chk := range comp.checks {
			_, set := chk.lines["interval"]
			msg := l.tooFrequent(chk.interval, set)
			if msg == "" {
				continue
			}
			path := fmt.Sprintf("components[%d].checks[%d]", i, j)
			line := chk.line
			if set {
				path, line = path+".interval", chk.lines["interval"]
			}
			errs.add(line, path, "%s", msg)
		}
	}
	return errs
}

// fileErrors refuses a file whose page would take the organisation beyond
// a count limit; use is what it holds now and cur what the page holds.
// Each refusal sits on the first page, component or check of the file
// beyond the limit.
func (l Limits) fileErrors(c *config, cur state, use store.Holdings) errorList {
	var errs errorList
	newPage := 0
	if cur.page == nil {
		newPage = 1
	}
	if msg := overLimit("pages", l.Pages, envconfig.EnvMaxPages, use.Pages, use.Pages+newPage); msg != "" {
		errs.add(max(c.page.slugLine, 1), "pages", "%s", msg)
	}
	// Apply leaves exactly the file's components and checks on the page.
	var compLines, checkLines []int
	for _, comp := range c.components {
		compLines = append(compLines, comp.line)
		for _, chk := range comp.checks {
			checkLines = append(checkLines, chk.line)
		}
	}
	elsewhere := use.Components - len(cur.components)
	if msg := overLimit("components", l.Components, envconfig.EnvMaxComponents,
		use.Components, elsewhere+len(compLines)); msg != "" {
		errs.add(firstBeyond(compLines, l.Components-elsewhere), "components", "%s", msg)
	}
	elsewhere = use.Checks - len(cur.checks)
	if msg := overLimit("checks", l.Checks, envconfig.EnvMaxChecks,
		use.Checks, elsewhere+len(checkLines)); msg != "" {
		errs.add(firstBeyond(checkLines, l.Checks-elsewhere), "checks", "%s", msg)
	}
	return errs
}

// firstBeyond is the line of the item at index room (the first that does
// not fit), clamped to the list.
func firstBeyond(lines []int, room int) int {
	room = min(max(room, 0), len(lines)-1)
	if room < 0 || lines[room] < 1 {
		return 1
	}
	return lines[room]
}

// allowOne refuses a console write that adds one item of a kind: what is
// "pages", "components" or "checks".
func (l Limits) allowOne(ctx context.Context, tx *store.Tx, orgID int64, what string) error {
	use, err := l.holdings(ctx, tx, orgID)
	if err != nil {
		return err
	}
	var msg string
	switch what {
	case "pages":
		msg = overLimit(what, l.Pages, envconfig.EnvMaxPages, use.Pages, use.Pages+1)
	case "components":
		msg = overLimit(what, l.Components, envconfig.EnvMaxComponents, use.Components, use.Components+1)
	case "checks":
		msg = overLimit(what, l.Checks, envconfig.EnvMaxChecks, use.Checks, use.Checks+1)
	default:
		return fmt.Errorf("apply: no limit on %s", what)
	}
	if msg != "" {
		return formError("", "%s", msg)
	}
	return nil
}

// withInterval adds the minimum interval's refusal to a check form's
// mistakes (unless the interval is wrong already).
func (l Limits) withInterval(err error, chk checkConfig, f Fields) error {
	msg := l.tooFrequent(chk.interval, strings.TrimSpace(f["interval"]) != "")
	if msg == "" {
		return err
	}
	fes := FormError(err)
	for _, fe := range fes {
		if fe.Path == "interval" {
			return err
		}
	}
	if err != nil && fes == nil {
		return err
	}
	return &ValidationError{File: formFile, Errors: append(fes, FieldError{Path: "interval", Message: msg})}
}

// thousands writes n with a comma every three digits: 8,002.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
