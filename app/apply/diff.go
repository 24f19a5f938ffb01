package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"pharos/app/store"
)

// diff compares the file with the stored state, matching everything by name
// within the page. It is pure: the ops it returns only touch the store when
// run.
func diff(orgID int64, c *config, cur state) (*plan, error) {
	p := &plan{}
	diffPage(p, orgID, c, cur)
	groupNames := groupsOf(c)
	diffGroups(p, orgID, groupNames, cur)
	diffComponents(p, orgID, c, cur)
	if err := diffChecks(p, orgID, c, cur); err != nil {
		return nil, err
	}
	diffWindows(p, orgID, c, cur)
	diffAlerts(p, orgID, c, cur)
	removeMissing(p, orgID, c, groupNames, cur)
	return p, nil
}

// pageRow is the page row a page's configuration describes; the console
// writes pages through it too.
func pageRow(orgID int64, pc pageConfig) store.Page {
	return store.Page{OrgID: orgID, Slug: pc.slug, Title: pc.title, Domain: pc.domain,
		TimeZone: pc.timeZone, Regions: pc.regions, AutoIncidents: pc.autoIncidents, PublicDetail: pc.publicDetail}
}

// pageChanges describes how a page changes (apply never changes the slug:
// it finds the page by it).
func pageChanges(old, want store.Page) changes {
	var ch changes
	ch.text("slug", old.Slug, want.Slug)
	ch.text("title", old.Title, want.Title)
	ch.text("domain", old.Domain, want.Domain)
	ch.text("timezone", old.TimeZone, want.TimeZone)
	ch.list("regions", old.Regions, want.Regions)
	ch.text("auto_incidents", old.AutoIncidents, want.AutoIncidents)
	ch.text("public_detail", old.PublicDetail, want.PublicDetail)
	return ch
}

func diffPage(p *plan, orgID int64, c *config, cur state) {
	want := pageRow(orgID, c.page)
	want.Managed = true
	if cur.page == nil {
		p.add(op{kind: opCreate, what: "page", name: want.Slug, run: func(ctx context.Context, tx *store.Tx, m *ids) error {
			created, err := tx.CreatePage(ctx, want)
			m.page = created.ID
			return err
		}})
		return
	}
	old := *cur.page
	ch := pageChanges(old, want)
	if len(ch) == 0 {
		return
	}
	want.ID = old.ID
	p.add(op{kind: opUpdate, what: "page", name: want.Slug, detail: ch.String(), run: func(ctx context.Context, tx *store.Tx, _ *ids) error {
		return tx.UpdatePage(ctx, want)
	}})
}

// groupsOf lists the component groups the file uses, in order of first use.
func groupsOf(c *config) []string {
	var out []string
	for _, comp := range c.components {
		if comp.group != "" && !slices.Contains(out, comp.group) {
			out = append(out, comp.group)
		}
	}
	return out
}

func diffGroups(p *plan, orgID int64, names []string, cur state) {
	for pos, name := range names {
		i := slices.IndexFunc(cur.groups, func(g store.ComponentGroup) bool { return g.Name == name })
		want := store.ComponentGroup{OrgID: orgID, Name: name, Position: pos, Managed: true}
		if i < 0 {
			p.add(op{kind: opCreate, what: "group", name: name, run: func(ctx context.Context, tx *store.Tx, m *ids) error {
				want.PageID = m.page
				created, err := tx.CreateComponentGroup(ctx, want)
				m.groups[name] = created.ID
				return err
			}})
			continue
		}
		old := cur.groups[i]
		if old.Position == pos {
			continue
		}
		want.ID, want.PageID = old.ID, old.PageID
		p.add(op{kind: opUpdate, what: "group", name: name, detail: groupChanges(old, want).String(),
			run: func(ctx context.Context, tx *store.Tx, _ *ids) error { return tx.UpdateComponentGroup(ctx, want) }})
	}
}

// groupChanges describes how a component group changes.
func groupChanges(old, want store.ComponentGroup) changes {
	var ch changes
	ch.text("name", old.Name, want.Name)
	ch.plain("position", old.Position, want.Position)
	return ch
}

// componentRow is the component row a component's configuration
// describes, at position pos; the group is set by the caller.
func componentRow(orgID int64, comp componentConfig, pos int) store.Component {
	return store.Component{OrgID: orgID, Name: comp.name, Description: comp.description, Position: pos}
}

// componentChanges describes how a component changes; the groups are
// given by name.
func componentChanges(old store.Component, oldGroup string, want store.Component, group string) changes {
	var ch changes
	ch.text("name", old.Name, want.Name)
	ch.text("description", old.Description, want.Description)
	ch.text("group", oldGroup, group)
	ch.plain("position", old.Position, want.Position)
	return ch
}

func diffComponents(p *plan, orgID int64, c *config, cur state) {
	groupName := map[int64]string{}
	for _, g := range cur.groups {
		groupName[g.ID] = g.Name
	}
	for pos, comp := range c.components {
		want := componentRow(orgID, comp, pos)
		want.Managed = true
		group := comp.group
		setGroup := func(m *ids) {
			want.GroupID = nil
			if group != "" {
				id := m.groups[group]
				want.GroupID = &id
			}
		}
		i := slices.IndexFunc(cur.components, func(x store.Component) bool { return x.Name == comp.name })
		if i < 0 {
			p.add(op{kind: opCreate, what: "component", name: comp.name, run: func(ctx context.Context, tx *store.Tx, m *ids) error {
				want.PageID = m.page
				setGroup(m)
				created, err := tx.CreateComponent(ctx, want)
				m.components[want.Name] = created.ID
				return err
			}})
			continue
		}
		old := cur.components[i]
		oldGroup := ""
		if old.GroupID != nil {
			oldGroup = groupName[*old.GroupID]
		}
		ch := componentChanges(old, oldGroup, want, group)
		if len(ch) == 0 {
			continue
		}
		want.ID, want.PageID = old.ID, old.PageID
		p.add(op{kind: opUpdate, what: "component", name: comp.name, detail: ch.String(), run: func(ctx context.Context, tx *store.Tx, m *ids) error {
			setGroup(m)
			return tx.UpdateComponent(ctx, want)
		}})
	}
}

// checkRow is the check row a check's configuration describes, its spec
// encoded as the workers read it; page and component are set by the
// caller.
func checkRow(orgID int64, chk checkConfig) (store.Check, error) {
	spec, err := json.Marshal(chk.spec)
	if err != nil {
		return store.Check{}, fmt.Errorf("apply: encode check %q: %w", chk.name, err)
	}
	return store.Check{OrgID: orgID, Name: chk.name, URL: chk.spec.URL, Spec: spec, Regions: chk.regions,
		Interval: chk.interval, Quorum: chk.quorum, ConfirmRounds: chk.confirm}, nil
}

// checkChanges describes how a check changes, key by key; the components
// are given by name.
func checkChanges(old store.Check, oldComponent string, want store.Check, component string) changes {
	var ch changes
	ch.text("name", old.Name, want.Name)
	ch.text("component", oldComponent, component)
	ch.text("url", old.URL, want.URL)
	specChanges(&ch, old.Spec, want.Spec)
	ch.list("regions", old.Regions, want.Regions)
	ch.plain("interval", durationText(old.Interval), durationText(want.Interval))
	ch.plain("quorum", old.Quorum, want.Quorum)
	ch.plain("confirm", old.ConfirmRounds, want.ConfirmRounds)
	return ch
}

func diffChecks(p *plan, orgID int64, c *config, cur state) error {
	componentName := map[int64]string{}
	for _, comp := range cur.components {
		componentName[comp.ID] = comp.Name
	}
	for _, comp := range c.components {
		for _, chk := range comp.checks {
			want, err := checkRow(orgID, chk)
			if err != nil {
				return err
			}
			want.Managed = true
			component := chk.component
			i := slices.IndexFunc(cur.checks, func(x store.Check) bool { return x.Name == chk.name })
			if i < 0 {
				p.add(op{kind: opCreate, what: "check", name: chk.name, run: func(ctx context.Context, tx *store.Tx, m *ids) error {
					want.PageID, want.ComponentID = m.page, m.components[component]
					_, err := tx.CreateCheck(ctx, want)
					return err
				}})
				continue
			}
			old := cur.checks[i]
			ch := checkChanges(old, componentName[old.ComponentID], want, component)
			if len(ch) == 0 {
				continue
			}
			want.ID, want.PageID = old.ID, old.PageID
			p.add(op{kind: opUpdate, what: "check", name: chk.name, detail: ch.String(), run: func(ctx context.Context, tx *store.Tx, m *ids) error {
				want.ComponentID = m.components[component]
				return tx.UpdateCheckConfig(ctx, want)
			}})
		}
	}
	return nil
}

// specChanges describes how two check specs differ, key by key ("expect.status
// [200] → [200,204]"); url is reported on its own.
func specChanges(ch *changes, oldSpec, newSpec []byte) {
	var o, n map[string]any
	if json.Unmarshal(oldSpec, &o) != nil {
		o = map[string]any{}
	}
	if json.Unmarshal(newSpec, &n) != nil {
		n = map[string]any{}
	}
	delete(o, "url")
	delete(n, "url")
	for _, key := range unionKeys(o, n) {
		om, oIsMap := o[key].(map[string]any)
		nm, nIsMap := n[key].(map[string]any)
		if (oIsMap || o[key] == nil) && (nIsMap || n[key] == nil) {
			for _, sub := range unionKeys(om, nm) {
				valueChange(ch, key+"."+sub, om[sub], nm[sub])
			}
			continue
		}
		valueChange(ch, key, o[key], n[key])
	}
}

func valueChange(ch *changes, field string, old, new any) {
	ob, nb := jsonText(old), jsonText(new)
	if ob == nb {
		return
	}
	if len(ob)+len(nb) > 80 {
		*ch = append(*ch, field+" changed")
		return
	}
	*ch = append(*ch, fmt.Sprintf("%s %s → %s", field, ob, nb))
}

func jsonText(v any) string {
	if v == nil {
		return "none"
	}
	b, err := json.Marshal(v) // values decoded from JSON always marshal
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// unionKeys lists the keys of both maps, sorted, so reports are stable.
func unionKeys(a, b map[string]any) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
