package apply

import (
	"context"
	"slices"
	"time"

	"pharos/app/store"
)

func diffWindows(p *plan, orgID int64, c *config, cur state) {
	componentName := map[int64]string{}
	for _, comp := range cur.components {
		componentName[comp.ID] = comp.Name
	}
	for _, mw := range c.maintenance {
		want := store.MaintenanceWindow{OrgID: orgID, Name: mw.name, Body: mw.body, Schedule: mw.schedule,
			Duration: mw.duration, TimeZone: mw.timeZone, StartsAt: mw.start, EndsAt: mw.end}
		names := mw.components
		setComponents := func(m *ids) {
			want.ComponentIDs = want.ComponentIDs[:0]
			for _, n := range names {
				want.ComponentIDs = append(want.ComponentIDs, m.components[n])
			}
		}
		i := slices.IndexFunc(cur.windows, func(w store.MaintenanceWindow) bool { return w.Name == mw.name })
		if i < 0 {
			p.add(op{kind: opCreate, what: "maintenance", name: mw.name, run: func(ctx context.Context, tx *store.Tx, m *ids) error {
				want.PageID = m.page
				setComponents(m)
				_, err := tx.CreateMaintenanceWindow(ctx, want)
				return err
			}})
			continue
		}
		old := cur.windows[i]
		var oldNames []string
		for _, id := range old.ComponentIDs {
			oldNames = append(oldNames, componentName[id])
		}
		var ch changes
		switch wasOneOff := old.Schedule == ""; {
		case wasOneOff && want.Schedule != "":
			ch = append(ch, "one-off → recurring")
		case !wasOneOff && want.Schedule == "":
			ch = append(ch, "recurring → one-off")
		}
		ch.text("schedule", old.Schedule, want.Schedule)
		if old.Duration != want.Duration && (old.Schedule != "" || want.Schedule != "") {
			ch.plain("duration", durationText(old.Duration), durationText(want.Duration))
		}
		ch.plain("start", whenText(old.StartsAt), whenText(want.StartsAt))
		ch.plain("end", whenText(old.EndsAt), whenText(want.EndsAt))
		ch.text("timezone", old.TimeZone, want.TimeZone)
		if want.Schedule == "" && (!sameTime(old.StartsAt, want.StartsAt) || !sameTime(old.EndsAt, want.EndsAt)) {
			// A one-off window moved: it runs again (the maintenance tick
			// announces, starts and completes the new run).
			want.Status = store.MaintenanceScheduled
		}
		ch.list("components", sortedCopy(oldNames), sortedCopy(names))
		ch.text("body", old.Body, want.Body)
		if len(ch) == 0 {
			continue
		}
		want.ID, want.PageID = old.ID, old.PageID
		p.add(op{kind: opUpdate, what: "maintenance", name: mw.name, detail: ch.String(), run: func(ctx context.Context, tx *store.Tx, m *ids) error {
			setComponents(m)
			return tx.UpdateMaintenanceWindow(ctx, want)
		}})
	}
}

// removeMissing deletes what the page holds but the file no longer names,
// children before parents.
func removeMissing(p *plan, orgID int64, c *config, groupNames []string, cur state) {
	windows, checks, components := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, mw := range c.maintenance {
		windows[mw.name] = true
	}
	for _, comp := range c.components {
		components[comp.name] = true
		for _, chk := range comp.checks {
			checks[chk.name] = true
		}
	}
	for _, w := range cur.windows {
		if !windows[w.Name] {
			o := deleteOp("maintenance", w.Name, w.Managed, func(ctx context.Context, tx *store.Tx) error {
				return tx.DeleteMaintenanceWindow(ctx, orgID, w.ID)
			})
			if !w.Managed { // the management API creates windows too
				o.detail = "created in the console or through the API"
			}
			p.add(o)
		}
	}
	for _, chk := range cur.checks {
		if !checks[chk.Name] {
			p.add(deleteOp("check", chk.Name, chk.Managed, func(ctx context.Context, tx *store.Tx) error {
				return tx.DeleteCheck(ctx, orgID, chk.ID)
			}))
		}
	}
	for _, comp := range cur.components {
		if !components[comp.Name] {
			p.add(deleteOp("component", comp.Name, comp.Managed, func(ctx context.Context, tx *store.Tx) error {
				return tx.DeleteComponent(ctx, orgID, comp.ID)
			}))
		}
	}
	for _, g := range cur.groups {
		if !slices.Contains(groupNames, g.Name) {
			p.add(deleteOp("group", g.Name, g.Managed, func(ctx context.Context, tx *store.Tx) error {
				return tx.DeleteComponentGroup(ctx, orgID, g.ID)
			}))
		}
	}
}

// deleteOp removes what the file no longer names. An object the file
// never wrote (managed false: added in the console) is said to be so, so
// a dry run shows the browser's additions the apply would undo.
func deleteOp(what, name string, managed bool, fn func(ctx context.Context, tx *store.Tx) error) op {
	o := op{kind: opDelete, what: what, name: name, run: func(ctx context.Context, tx *store.Tx, _ *ids) error {
		return fn(ctx, tx)
	}}
	if !managed {
		o.detail = "created in the console"
	}
	return o
}

func sortedCopy(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return out
}

// whenText shows a one-off window's start or end in the plan ("-" when
// the window has none).
func whenText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
