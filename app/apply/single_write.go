package apply

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"pharos/app/store"
)

// The console's writes: one object validated by readPage, readGroup,
// readComponent or readCheck, turned into its row by the same functions a
// plan uses (pageRow, componentRow, checkRow), described by the same
// changes ("interval 1m → 30s") and audited in the same transaction, as
// "user:…" with source "console". Rows the console creates are not
// managed; rows it edits keep their mark, so the console can warn that the
// next apply will overwrite them.

// Saved says what a console write did.
type Saved struct {
	ID int64
	// Change is the plan line of the write (`~ check "api" (interval 1m →
	// 30s)`), "" when nothing changed.
	Change string
	// Managed: the object belongs to a configuration file, whose next
	// apply overwrites this change.
	Managed bool
	// Warnings are apply's warnings about a check (Path is its form key).
	Warnings []Warning
	// Slug is the page's slug after the write (for refreshing browsers).
	Slug string
}

// audit records o (not run: the caller writes) in the audit log.
func (o op) audit(ctx context.Context, tx *store.Tx, orgID int64, actor store.Actor, slug string, managed bool) error {
	detail := map[string]any{"source": "console", "page": slug, "change": o.line()}
	if managed {
		detail["managed"] = true
	}
	return tx.Audit(ctx, orgID, actor, o.action(), fmt.Sprintf("%s %q", o.what, o.name), detail)
}

// SavePage creates (id 0) or changes one of the organisation's pages; a
// new page must fit lim.
func SavePage(ctx context.Context, st *store.Store, lim Limits, orgID int64, actor store.Actor, id int64, f Fields) (Saved, error) {
	pc, err := readPage(f)
	if err != nil {
		return Saved{}, err
	}
	var out Saved
	err = st.InTx(ctx, func(tx *store.Tx) error {
		var old store.Page
		if id == 0 {
			if err := lim.allowOne(ctx, tx, orgID, "pages"); err != nil {
				return err
			}
		} else {
			if old, err = tx.Page(ctx, orgID, id); err != nil {
				return err
			}
		}
		taken, err := takenErrors(ctx, tx, pc, id, "another page")
		if err != nil {
			return err
		}
		if err := formErrors(taken, "page", PageKeys); err != nil {
			return err
		}
		want := pageRow(orgID, pc)
		o := op{kind: opCreate, what: "page", name: want.Slug}
		if id == 0 {
			created, err := tx.CreatePage(ctx, want)
			if errors.Is(err, store.ErrConflict) {
				return formError("slug", "%q is already taken by another page: choose another slug", want.Slug)
			}
			if err != nil {
				return err
			}
			out = Saved{ID: created.ID, Change: o.line(), Slug: created.Slug}
			return o.audit(ctx, tx, orgID, actor, want.Slug, false)
		}
		want.ID = id
		out = Saved{ID: id, Managed: old.Managed, Slug: want.Slug}
		ch := pageChanges(old, want)
		if len(ch) == 0 {
			return nil
		}
		o.kind, o.detail = opUpdate, ch.String()
		if err := tx.UpdatePage(ctx, want); errors.Is(err, store.ErrConflict) {
			return formError("domain", "%q is already used by another page", want.Domain)
		} else if err != nil {
			return err
		}
		out.Change = o.line()
		return o.audit(ctx, tx, orgID, actor, want.Slug, old.Managed)
	})
	return out, err
}

// DeletePage deletes one of the organisation's pages and everything on it.
func DeletePage(ctx context.Context, st *store.Store, orgID int64, actor store.Actor, id int64) (Saved, error) {
	var out Saved
	err := st.InTx(ctx, func(tx *store.Tx) error {
		pg, err := tx.Page(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.DeletePage(ctx, orgID, id); err != nil {
			return err
		}
		o := op{kind: opDelete, what: "page", name: pg.Slug}
		out = Saved{ID: id, Change: o.line(), Managed: pg.Managed, Slug: pg.Slug}
		return o.audit(ctx, tx, orgID, actor, pg.Slug, pg.Managed)
	})
	return out, err
}

// SaveGroup creates (id 0) or changes a component group of the page.
func SaveGroup(ctx context.Context, st *store.Store, orgID int64, actor store.Actor, pageID, id int64, f Fields) (Saved, error) {
	name, pos, err := readGroup(f)
	if err != nil {
		return Saved{}, err
	}
	var out Saved
	err = st.InTx(ctx, func(tx *store.Tx) error {
		pg, err := tx.Page(ctx, orgID, pageID)
		if err != nil {
			return err
		}
		groups, err := tx.ComponentGroups(ctx, orgID, pg.ID)
		if err != nil {
			return err
		}
		want := store.ComponentGroup{OrgID: orgID, PageID: pg.ID, Name: name, Position: pos}
		if pos < 0 {
			want.Position = len(groups)
		}
		conflict := func(err error) error {
			if errors.Is(err, store.ErrConflict) {
				return formError("name", "a group named %q is on this page already", name)
			}
			return err
		}
		o := op{kind: opCreate, what: "group", name: name}
		if id == 0 {
			created, err := tx.CreateComponentGroup(ctx, want)
			if err != nil {
				return conflict(err)
			}
			out = Saved{ID: created.ID, Change: o.line(), Slug: pg.Slug}
			return o.audit(ctx, tx, orgID, actor, pg.Slug, false)
		}
		old, err := tx.ComponentGroup(ctx, orgID, id)
		if err != nil || old.PageID != pg.ID {
			return notOnPage(err, "component group", id)
		}
		if pos < 0 {
			want.Position = old.Position
		}
		want.ID = id
		out = Saved{ID: id, Managed: old.Managed, Slug: pg.Slug}
		ch := groupChanges(old, want)
		if len(ch) == 0 {
			return nil
		}
		if err := tx.UpdateComponentGroup(ctx, want); err != nil {
			return conflict(err)
		}
		o.kind, o.detail = opUpdate, ch.String()
		out.Change = o.line()
		return o.audit(ctx, tx, orgID, actor, pg.Slug, old.Managed)
	})
	return out, err
}

// DeleteGroup deletes a component group of the page; its components stay,
// ungrouped.
func DeleteGroup(ctx context.Context, st *store.Store, orgID int64, actor store.Actor, pageID, id int64) (Saved, error) {
	var out Saved
	err := st.InTx(ctx, func(tx *store.Tx) error {
		pg, err := tx.Page(ctx, orgID, pageID)
		if err != nil {
			return err
		}
		g, err := tx.ComponentGroup(ctx, orgID, id)
		if err != nil || g.PageID != pg.ID {
			return notOnPage(err, "component group", id)
		}
		if err := tx.DeleteComponentGroup(ctx, orgID, id); err != nil {
			return err
		}
		o := op{kind: opDelete, what: "group", name: g.Name}
		out = Saved{ID: id, Change: o.line(), Managed: g.Managed, Slug: pg.Slug}
		return o.audit(ctx, tx, orgID, actor, pg.Slug, g.Managed)
	})
	return out, err
}

// SaveComponent creates (id 0) or changes a component of the page. The
// form's group is a group id of the page ("" for none); a new component
// must fit lim.
func SaveComponent(ctx context.Context, st *store.Store, lim Limits, orgID int64, actor store.Actor, pageID, id int64, f Fields) (Saved, error) {
	var out Saved
	err := st.InTx(ctx, func(tx *store.Tx) error {
		pg, err := tx.Page(ctx, orgID, pageID)
		if err != nil {
			return err
		}
		if id == 0 {
			if err := lim.allowOne(ctx, tx, orgID, "components"); err != nil {
				return err
			}
		}
		groups, err := tx.ComponentGroups(ctx, orgID, pg.ID)
		if err != nil {
			return err
		}
		groupName := map[int64]string{}
		for _, g := range groups {
			groupName[g.ID] = g.Name
		}
		var groupID *int64
		if v := f["group"]; v != "" {
			gid, err := strconv.ParseInt(v, 10, 64)
			if _, ok := groupName[gid]; err != nil || !ok {
				return formError("group", "choose one of this page's groups")
			}
			groupID = &gid
		}
		group := ""
		if groupID != nil {
			group = groupName[*groupID]
		}
		comp, pos, err := readComponent(f, group)
		if err != nil {
			return err
		}
		comps, err := tx.Components(ctx, orgID, pg.ID)
		if err != nil {
			return err
		}
		want := componentRow(orgID, comp, pos)
		want.PageID, want.GroupID = pg.ID, groupID
		if pos < 0 {
			want.Position = len(comps)
		}
		conflict := func(err error) error {
			if errors.Is(err, store.ErrConflict) {
				return formError("name", "a component named %q is on this page already", comp.name)
			}
			return err
		}
		o := op{kind: opCreate, what: "component", name: comp.name}
		if id == 0 {
			created, err := tx.CreateComponent(ctx, want)
			if err != nil {
				return conflict(err)
			}
			out = Saved{ID: created.ID, Change: o.line(), Slug: pg.Slug}
			return o.audit(ctx, tx, orgID, actor, pg.Slug, false)
		}
		old, err := tx.Component(ctx, orgID, id)
		if err != nil || old.PageID != pg.ID {
			return notOnPage(err, "component", id)
		}
		if pos < 0 {
			want.Position = old.Position
		}
		want.ID = id
		oldGroup := ""
		if old.GroupID != nil {
			oldGroup = groupName[*old.GroupID]
		}
		out = Saved{ID: id, Managed: old.Managed, Slug: pg.Slug}
		ch := componentChanges(old, oldGroup, want, group)
		if len(ch) == 0 {
			return nil
		}
		if err := tx.UpdateComponent(ctx, want); err != nil {
			return conflict(err)
		}
		o.kind, o.detail = opUpdate, ch.String()
		out.Change = o.line()
		return o.audit(ctx, tx, orgID, actor, pg.Slug, old.Managed)
	})
	return out, err
}

// DeleteComponent deletes a component of the organisation and its checks.
func DeleteComponent(ctx context.Context, st *store.Store, orgID int64, actor store.Actor, id int64) (Saved, error) {
	return deleteItem(ctx, st, orgID, actor, id, "component", func(tx *store.Tx) (rowOnPage, error) {
		c, err := tx.Component(ctx, orgID, id)
		return rowOnPage{pageID: c.PageID, name: c.Name, managed: c.Managed}, err
	}, func(tx *store.Tx) error { return tx.DeleteComponent(ctx, orgID, id) })
}

// rowOnPage is what deleting a component or a check needs to know of it.
type rowOnPage struct {
	pageID  int64
	name    string
	managed bool
}

// deleteItem deletes row id (what names it) found by find, with del, and
// audits it on its page, in one transaction.
func deleteItem(ctx context.Context, st *store.Store, orgID int64, actor store.Actor, id int64, what string,
	find func(*store.Tx) (rowOnPage, error), del func(*store.Tx) error) (Saved, error) {
	var out Saved
	err := st.InTx(ctx, func(tx *store.Tx) error {
		it, err := find(tx)
		if err != nil {
			return err
		}
		pg, err := tx.Page(ctx, orgID, it.pageID)
		if err != nil {
			return err
		}
		if err := del(tx); err != nil {
			return err
		}
		o := op{kind: opDelete, what: what, name: it.name}
		out = Saved{ID: id, Change: o.line(), Managed: it.managed, Slug: pg.Slug}
		return o.audit(ctx, tx, orgID, actor, pg.Slug, it.managed)
	})
	return out, err
}

// SaveCheck creates (id 0) or changes a check of the page; the form's
// component is a component id of the page. Its interval must respect lim,
// and a new check fit it. Apply's warnings (a target the probes may not
// reach, regions without a worker) come back with it.
func SaveCheck(ctx context.Context, st *store.Store, lim Limits, orgID int64, actor store.Actor, pageID, id int64, f Fields) (Saved, error) {
	pg, err := st.Page(ctx, orgID, pageID)
	if err != nil {
		return Saved{}, err
	}
	compID, err := strconv.ParseInt(f["component"], 10, 64)
	if err != nil {
		return Saved{}, formError("component", "choose one of this page's components")
	}
	comp, err := st.Component(ctx, orgID, compID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && comp.PageID != pg.ID) {
		return Saved{}, formError("component", "choose one of this page's components")
	}
	if err != nil {
		return Saved{}, err
	}
	chk, err := readCheck(f, comp.Name, pg.Regions, lim)
	if err = lim.withInterval(err, chk, f); err != nil {
		return Saved{}, err
	}
	cfg := singleConfig(pageConfig{slug: pg.Slug, regions: pg.Regions}, chk)
	warnings := targetWarnings(cfg, allowPrivateTargets())
	unserved, err := regionWarnings(ctx, st, cfg, time.Now(), embeddedOnly())
	if err != nil {
		return Saved{}, fmt.Errorf("apply: %w", err)
	}
	warnings = warningKeys(append(warnings, unserved...))
	want, err := checkRow(orgID, chk)
	if err != nil {
		return Saved{}, err
	}
	want.PageID, want.ComponentID = pg.ID, comp.ID
	out := Saved{Slug: pg.Slug, Warnings: warnings}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		conflict := func(err error) error {
			if errors.Is(err, store.ErrConflict) {
				return formError("name", "check %q is on this page already: check names are unique on the page", chk.name)
			}
			return err
		}
		o := op{kind: opCreate, what: "check", name: chk.name}
		if id == 0 {
			if err := lim.allowOne(ctx, tx, orgID, "checks"); err != nil {
				return err
			}
			created, err := tx.CreateCheck(ctx, want)
			if err != nil {
				return conflict(err)
			}
			out.ID, out.Change = created.ID, o.line()
			return o.audit(ctx, tx, orgID, actor, pg.Slug, false)
		}
		old, err := tx.Check(ctx, orgID, id)
		if err != nil || old.PageID != pg.ID {
			return notOnPage(err, "check", id)
		}
		oldComp, err := tx.Component(ctx, orgID, old.ComponentID)
		if err != nil {
			return err
		}
		if want.Spec, err = keepSeverity(chk, old.Spec); err != nil {
			return err
		}
		want.ID = id
		out.ID, out.Managed = id, old.Managed
		ch := checkChanges(old, oldComp.Name, want, comp.Name)
		if len(ch) == 0 {
			return nil
		}
		if err := tx.UpdateCheckConfig(ctx, want); err != nil {
			return conflict(err)
		}
		o.kind, o.detail = opUpdate, ch.String()
		out.Change = o.line()
		return o.audit(ctx, tx, orgID, actor, pg.Slug, old.Managed)
	})
	if err != nil {
		return Saved{}, err
	}
	return out, nil
}

// DeleteCheck deletes a check of the organisation and its results.
func DeleteCheck(ctx context.Context, st *store.Store, orgID int64, actor store.Actor, id int64) (Saved, error) {
	return deleteItem(ctx, st, orgID, actor, id, "check", func(tx *store.Tx) (rowOnPage, error) {
		c, err := tx.Check(ctx, orgID, id)
		return rowOnPage{pageID: c.PageID, name: c.Name, managed: c.Managed}, err
	}, func(tx *store.Tx) error { return tx.DeleteCheck(ctx, orgID, id) })
}

// notOnPage is err, or ErrNotFound for a row of another page: a form
// cannot reach across pages.
func notOnPage(err error, what string, id int64) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("apply: %s %d: %w", what, id, store.ErrNotFound)
}
