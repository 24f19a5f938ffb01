package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	envconfig "pharos/app/config"
	"pharos/app/store"
)

// state is what the store holds for the page a file names.
type state struct {
	page       *store.Page // nil when the page does not exist yet
	groups     []store.ComponentGroup
	components []store.Component
	checks     []store.Check
	windows    []store.MaintenanceWindow
	// channels are the organisation's alert channels (alerts.go).
	channels []store.AlertChannel
}

// loadState reads the organisation's page with this slug and everything on it.
func loadState(ctx context.Context, tx *store.Tx, orgID int64, slug string) (state, error) {
	var s state
	channels, err := tx.AlertChannels(ctx, orgID)
	if err != nil {
		return s, fmt.Errorf("apply: %w", err)
	}
	s.channels = channels
	p, err := tx.PageBySlug(ctx, orgID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("apply: %w", err)
	}
	s.page = &p
	if s.groups, err = tx.ComponentGroups(ctx, orgID, p.ID); err != nil {
		return s, fmt.Errorf("apply: %w", err)
	}
	if s.components, err = tx.Components(ctx, orgID, p.ID); err != nil {
		return s, fmt.Errorf("apply: %w", err)
	}
	if s.checks, err = tx.Checks(ctx, orgID, p.ID); err != nil {
		return s, fmt.Errorf("apply: %w", err)
	}
	if s.windows, err = tx.MaintenanceWindows(ctx, orgID, p.ID); err != nil {
		return s, fmt.Errorf("apply: %w", err)
	}
	return s, nil
}

type opKind int

const (
	opCreate opKind = iota
	opUpdate
	opDelete
)

// op is one change of a plan: what the report shows and how to make it.
type op struct {
	kind   opKind
	what   string // "page", "group", "component", "check", "maintenance"
	name   string
	detail string // for updates: "interval 1m0s → 30s, …"
	run    func(ctx context.Context, tx *store.Tx, ids *ids) error
}

// ids maps names to the ids of rows created or found while a plan runs.
type ids struct {
	page       int64
	groups     map[string]int64
	components map[string]int64
}

// line renders o the way `pharos apply` prints it.
func (o op) line() string {
	s := fmt.Sprintf("%c %s %q", "+~-"[o.kind], o.what, o.name)
	if o.detail != "" {
		s += " (" + o.detail + ")"
	}
	return s
}

func (o op) action() string {
	return o.what + "." + [...]string{"create", "update", "delete"}[o.kind]
}

// plan is the ordered list of changes that turns the stored state into the
// file's: creations and updates parent first, then removals child first.
type plan struct {
	ops []op
}

func (p *plan) add(o op) { p.ops = append(p.ops, o) }

// report summarises the plan.
func (p *plan) report(dryRun bool) Report {
	rep := Report{DryRun: dryRun, Lines: []string{}}
	for _, o := range p.ops {
		rep.Lines = append(rep.Lines, o.line())
		switch o.kind {
		case opCreate:
			rep.Created++
		case opUpdate:
			rep.Changed++
		case opDelete:
			rep.Removed++
		}
	}
	return rep
}

// execute runs every change and writes one audit-log row for each.
func (p *plan) execute(ctx context.Context, tx *store.Tx, cur state, orgID int64, actor store.Actor, file, slug string) error {
	m := &ids{groups: map[string]int64{}, components: map[string]int64{}}
	if cur.page != nil {
		m.page = cur.page.ID
	}
	for _, g := range cur.groups {
		m.groups[g.Name] = g.ID
	}
	for _, c := range cur.components {
		m.components[c.Name] = c.ID
	}
	for _, o := range p.ops {
		if err := o.run(ctx, tx, m); err != nil {
			return fmt.Errorf("apply: %s: %w", o.line(), err)
		}
		detail := map[string]string{"source": "apply", "file": file, "page": slug, "change": o.line()}
		if err := tx.Audit(ctx, orgID, actor, o.action(), fmt.Sprintf("%s %q", o.what, o.name), detail); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	// The file names everything now on the page: it owns all of it, so
	// the console warns before changing any of it.
	if err := tx.MarkPageManaged(ctx, orgID, m.page); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}

// changes collects "field old → new" fragments of an update.
type changes []string

func (c *changes) text(field, old, new string) {
	if old != new {
		*c = append(*c, fmt.Sprintf("%s %q → %q", field, old, new))
	}
}

func (c *changes) plain(field string, old, new any) {
	o, n := fmt.Sprint(old), fmt.Sprint(new)
	if o != n {
		*c = append(*c, fmt.Sprintf("%s %s → %s", field, o, n))
	}
}

func (c *changes) list(field string, old, new []string) {
	if !slices.Equal(old, new) {
		*c = append(*c, fmt.Sprintf("%s %s → %s", field, listText(old), listText(new)))
	}
}

func (c changes) String() string {
	return strings.Join(c, ", ")
}

func listText(l []string) string {
	b, _ := json.Marshal(l) // a []string always marshals
	if l == nil {
		return "[]"
	}
	return string(b)
}

// durationText is envconfig.DurationText: "1m" rather than "1m0s".
func durationText(d time.Duration) string { return envconfig.DurationText(d) }
