// Package apply is Pharos's configuration as code (`pharos apply -f FILE`,
// DESIGN §7): it reads a YAML or JSON file describing one status page (its
// components, checks and maintenance windows), validates all of it, compares
// it with what the store holds (matched by name within the page) and makes
// the difference in one transaction, with an audit-log row per change.
//
// A bad file is refused as a whole, every mistake named with its line, and
// nothing is written. Applying the same file twice changes nothing.
package apply

import (
	"context"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // maintenance time zones validate even where the OS has no zoneinfo (static images)

	"pharos/app/store"
)

// MaxFileSize bounds the configuration files Apply reads.
const MaxFileSize = 4 << 20

// Report says what an apply did (or, in a dry run, would do).
type Report struct {
	Created int      `json:"created"`
	Changed int      `json:"changed"`
	Removed int      `json:"removed"`
	Lines   []string `json:"lines"` // one per change: `+ component "Media"`, `~ check "images" (interval 1m → 30s)`, `- check "old"`
	DryRun  bool     `json:"dry_run"`
	// Warnings are checks written although the probes will refuse their
	// targets (they will be misconfigured); they do not stop the apply.
	Warnings []Warning `json:"warnings"`
	// Notices say what the page still needs from its owner: the DNS
	// record that proves a pending custom domain.
	Notices []string `json:"notices,omitempty"`
}

// Summary is the last line `pharos apply` prints:
// "apply: 1 created, 2 changed, 0 removed", with " (dry run, nothing
// written)" appended for a dry run.
func (r Report) Summary() string {
	s := fmt.Sprintf("apply: %d created, %d changed, %d removed", r.Created, r.Changed, r.Removed)
	if r.DryRun {
		s += " (dry run, nothing written)"
	}
	return s
}

// Apply makes the organisation's page match the configuration file data
// (YAML, or JSON, which is YAML too). filename is only used in error
// messages. With dryRun it reports the plan and writes nothing. actor is
// recorded in the audit log ("user:ada@example.org", "token:ci"…).
//
// A file with mistakes, or naming a page slug or domain another page
// already uses, returns a *ValidationError and writes nothing. A file given
// to Apply must carry certificates (tls.ca) as PEM text: only the command
// line reads files.
func Apply(ctx context.Context, st *store.Store, orgID int64, filename string, data []byte, dryRun bool, actor string) (Report, error) {
	return ApplyAs(ctx, st, orgID, filename, data, dryRun, store.Actor{Name: actor})
}

// ApplyAs is Apply with a full audit actor, so the audit log links the
// changes to the user or API token that made them. Neither applies the
// operator's quotas: the command and the API (Command, ApplyRequested) do.
func ApplyAs(ctx context.Context, st *store.Store, orgID int64, filename string, data []byte, dryRun bool, actor store.Actor) (Report, error) {
	return run(ctx, st, request{orgID: orgID, filename: filename, data: data, dryRun: dryRun, actor: actor,
		allowPrivate: allowPrivateTargets(), embedded: embeddedOnly()})
}

// ApplyRequested is ApplyAs for a request made through the API, within the
// operator's limits (a file beyond them is refused whole, dry run or not):
// besides a row per change, one "apply" row records the request itself
// (even when it changed nothing), in the same transaction as the changes.
func ApplyRequested(ctx context.Context, st *store.Store, lim Limits, orgID int64, filename string, data []byte, dryRun bool, actor store.Actor) (Report, error) {
	return run(ctx, st, request{orgID: orgID, filename: filename, data: data, dryRun: dryRun, actor: actor,
		allowPrivate: allowPrivateTargets(), embedded: embeddedOnly(), summary: true, limits: lim})
}

type request struct {
	orgID    int64
	filename string
	data     []byte
	dryRun   bool
	actor    store.Actor
	baseDir  string // where tls.ca file names are read from; "" refuses file names
	// allowPrivate is PHAROS_ALLOW_PRIVATE_TARGETS: no warning for private
	// targets the probes are allowed to reach.
	allowPrivate bool
	// embedded is true without PHAROS_REDIS_URL: the only probe worker is
	// the one `pharos run` builds in, in region local.
	embedded bool
	// summary adds one "apply" audit row for the request as a whole.
	summary bool
	// warn, when set, hears the warnings before anything is written.
	warn func([]Warning)
	// limits are the operator's quotas (quota.go).
	limits Limits
}

// errDryRun rolls the dry run's transaction back, so it cannot write even by
// mistake.
var errDryRun = errors.New("apply: dry run")

func run(ctx context.Context, st *store.Store, req request) (Report, error) {
	if req.filename == "" {
		req.filename = "-"
	}
	if len(req.data) > MaxFileSize {
		return Report{}, errorList{{Line: 1, Message: fmt.Sprintf("the file is larger than %d bytes", MaxFileSize)}}.asError(req.filename)
	}
	cfg, errs := parseConfig(req.data, req.baseDir, req.limits)
	if len(errs) == 0 {
		errs = append(probeValidate(cfg), req.limits.intervalErrors(cfg)...)
	}
	if err := errs.asError(req.filename); err != nil {
		return Report{}, err
	}
	warnings := targetWarnings(cfg, req.allowPrivate)
	unserved, werr := regionWarnings(ctx, st, cfg, time.Now(), req.embedded)
	if werr != nil {
		return Report{}, fmt.Errorf("apply: %w", werr)
	}
	warnings = append(warnings, unserved...)
	if req.warn != nil && len(warnings) > 0 {
		req.warn(warnings)
	}
	var rep Report
	err := st.InTx(ctx, func(tx *store.Tx) error {
		use, err := req.limits.holdings(ctx, tx, req.orgID)
		if err != nil {
			return err
		}
		cur, err := loadState(ctx, tx, req.orgID, cfg.page.slug)
		if err != nil {
			return err
		}
		if err := checkOwnership(ctx, tx, cfg, cur, req.filename); err != nil {
			return err
		}
		if err := req.limits.fileErrors(cfg, cur, use).asError(req.filename); err != nil {
			return err
		}
		p, err := diff(req.orgID, cfg, cur)
		if err != nil {
			return err
		}
		rep = p.report(req.dryRun)
		if req.dryRun {
			return errDryRun
		}
		if err := p.execute(ctx, tx, cur, req.orgID, req.actor, req.filename, cfg.page.slug); err != nil {
			return err
		}
		if !req.summary {
			return nil
		}
		// The summary row commits with the changes: an apply that took
		// effect is never without its record, and never reported failed.
		return tx.Audit(ctx, req.orgID, req.actor, "apply", "configuration",
			map[string]int{"created": rep.Created, "changed": rep.Changed, "removed": rep.Removed})
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return Report{}, err
	}
	rep.Warnings = warnings
	rep.Notices = domainNotices(ctx, st, req.orgID, cfg.page, req.dryRun)
	return rep, nil
}

// checkOwnership refuses a slug or custom domain that another page holds,
// whichever organisation owns it, before anything is written.
func checkOwnership(ctx context.Context, tx *store.Tx, cfg *config, cur state, file string) error {
	var pageID int64
	if cur.page != nil {
		pageID = cur.page.ID
	}
	// The organisation's own page with this slug is the one apply
	// writes: a slug taken is another organisation's.
	errs, err := takenErrors(ctx, tx, cfg.page, pageID, "another organisation")
	if err != nil {
		return err
	}
	return errs.asError(file)
}

// takenErrors refuses the page's slug or custom domain when a page other
// than pageID (0 for none) uses it; holder words who holds a slug.
func takenErrors(ctx context.Context, tx *store.Tx, pc pageConfig, pageID int64, holder string) (errorList, error) {
	slugTaken, domainTaken, err := tx.PageSlugDomainTaken(ctx, pc.slug, pc.domain, pageID)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	var errs errorList
	if slugTaken {
		errs.add(pc.slugLine, "page.slug", "%q is already taken by %s: choose another slug", pc.slug, holder)
	}
	if domainTaken {
		errs.add(pc.domainLine, "page.domain", "%q is already used by another page", pc.domain)
	}
	ownHostError(&errs, pc)
	return errs, nil
}
