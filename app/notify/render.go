package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// statuspageTime is how Statuspage writes times (and Pharos's v2 API).
const statuspageTime = "2006-01-02T15:04:05.000Z07:00"

// prepare decides an outbox event's audience and renders it. An event no
// subscriber hears of, or whose incident is gone or not public (a deleted
// incident, a draft), is marked processed without deliveries.
func (n *Notifier) prepare(ctx context.Context, row store.OutboxRow) (store.FanOut, error) {
	f := store.FanOut{OutboxID: row.ID, OrgID: row.OrgID, At: n.opts.Now()}
	var p payload
	if err := json.Unmarshal(row.Payload, &p); err != nil {
		n.log.Warn("outbox event unreadable; skipped", "outbox_id", row.ID, "kind", row.Kind, "error", err)
		return f, nil
	}
	var kinds []string
	for _, k := range Audience(row.Kind, p.Deliver, p.Draft) {
		if n.opts.Senders[k] != nil {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 || p.PageID == 0 {
		return f, nil
	}
	ev, err := n.render(ctx, row, p)
	if errors.Is(err, store.ErrNotFound) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return f, fmt.Errorf("render: %w", err)
	}
	f.PageID, f.Kinds, f.ComponentIDs, f.Rendered = p.PageID, kinds, scopeIDs(p, ev), body
	return f, nil
}

// render builds the Event subscribers see: the incident as it stands now
// (with all its public updates), or the component's change.
func (n *Notifier) render(ctx context.Context, row store.OutboxRow, p payload) (Event, error) {
	page, err := n.store.Page(ctx, row.OrgID, p.PageID)
	if err != nil {
		return Event{}, err
	}
	comps, err := n.store.PublicComponents(ctx, row.OrgID, p.PageID)
	if err != nil {
		return Event{}, err
	}
	statuses := make([]string, 0, len(comps))
	byID := make(map[int64]store.PublicComponent, len(comps))
	for _, c := range comps {
		statuses = append(statuses, c.Status)
		byID[c.ID] = c
	}
	ind := incident.PageIndicator(statuses)
	ev := Event{Page: EventPage{ID: idString(page.ID), StatusIndicator: ind.Indicator, StatusDescription: ind.Description,
		Name: page.Title, Slug: page.Slug, URL: n.pageURL(page)}}
	if row.Kind == "component.updated" {
		c, ok := byID[p.ComponentID]
		if !ok {
			return Event{}, fmt.Errorf("component %d: %w", p.ComponentID, store.ErrNotFound)
		}
		comp := component(c.Component)
		comp.Status = p.NewStatus // as of the event, not of the fan-out
		ev.Component = &comp
		ev.ComponentUpdate = &ComponentUpdate{ID: idString(row.ID), CreatedAt: apiTime(row.CreatedAt),
			OldStatus: p.OldStatus, NewStatus: p.NewStatus, ComponentID: comp.ID}
		return ev, nil
	}
	if strings.HasPrefix(row.Kind, "maintenance.") {
		ev.Incident, err = n.renderMaintenance(ctx, row, p, byID, ev.Page.URL)
		return ev, err
	}
	in, err := n.store.PublicIncident(ctx, row.OrgID, p.PageID, p.IncidentID)
	if err != nil {
		return Event{}, err
	}
	ev.Incident = renderIncident(asOf(in, p, row.CreatedAt), byID, ev.Page.URL)
	return ev, nil
}

// asOf winds an incident read at fan-out time back to the event: events
// queued while the notifier was behind must each tell their own update,
// not all the latest one.
func asOf(in store.PublicIncident, p payload, at time.Time) store.PublicIncident {
	if p.UpdateID != 0 {
		kept := in.Updates[:0:0]
		for _, u := range in.Updates {
			if u.ID <= p.UpdateID {
				kept = append(kept, u)
			}
		}
		in.Updates = kept
	}
	if p.Name != "" {
		in.Name = p.Name
	}
	if p.Status != "" {
		in.Status = p.Status
	}
	if p.Impact != "" {
		in.Impact = p.Impact
	}
	if in.MonitoringAt != nil && in.MonitoringAt.After(at) {
		in.MonitoringAt = nil
	}
	if in.ResolvedAt != nil && in.ResolvedAt.After(at) {
		in.ResolvedAt = nil
	}
	if in.UpdatedAt.After(at) {
		in.UpdatedAt = at
	}
	return in
}

// pageURL is the page's public address: its custom domain once proven,
// else under PHAROS_BASE_URL; "" when neither is known.
func (n *Notifier) pageURL(p store.Page) string {
	if p.ServedDomain() == "" && n.opts.BaseURL == "" {
		return ""
	}
	return p.PublicRoot(n.opts.BaseURL) + "/"
}

func renderIncident(in store.PublicIncident, comps map[int64]store.PublicComponent, pageURL string) *Incident {
	out := &Incident{
		ID: idString(in.ID), Name: in.Name, Status: in.Status, CreatedAt: apiTime(in.CreatedAt),
		UpdatedAt: apiTime(in.UpdatedAt), MonitoringAt: apiTimePtr(in.MonitoringAt), ResolvedAt: apiTimePtr(in.ResolvedAt),
		Impact: in.Impact, StartedAt: apiTime(in.StartedAt), PageID: idString(in.PageID),
		IncidentUpdates: []IncidentUpdate{}, Components: []Component{},
	}
	if pageURL != "" {
		out.Shortlink = pageURL + "incidents/" + idString(in.ID)
	}
	if in.Postmortem != "" {
		out.Postmortem = &in.Postmortem
	}
	for _, u := range in.Updates {
		up := IncidentUpdate{ID: idString(u.ID), Status: u.Status, Body: u.Body, IncidentID: idString(u.IncidentID),
			CreatedAt: apiTime(u.CreatedAt), UpdatedAt: apiTime(u.UpdatedAt), DisplayAt: apiTime(u.DisplayAt),
			AffectedComponents: []AffectedComponent{}, DeliverNotifications: u.DeliverNotifications}
		for _, a := range u.Affected {
			up.AffectedComponents = append(up.AffectedComponents, AffectedComponent{Code: idString(a.ComponentID),
				Name: a.Name, OldStatus: a.OldStatus, NewStatus: a.NewStatus})
		}
		out.IncidentUpdates = append(out.IncidentUpdates, up)
	}
	seen := map[int64]bool{}
	for _, a := range in.Components {
		if seen[a.ComponentID] {
			continue
		}
		seen[a.ComponentID] = true
		if c, ok := comps[a.ComponentID]; ok {
			out.Components = append(out.Components, component(c.Component))
		}
	}
	slices.SortFunc(out.Components, func(a, b Component) int { return a.Position - b.Position })
	return out
}

func component(c store.Component) Component {
	out := Component{ID: idString(c.ID), Name: c.Name, Status: c.Status, CreatedAt: apiTime(c.CreatedAt),
		UpdatedAt: apiTime(c.UpdatedAt), Position: c.Position, Showcase: c.Showcase, PageID: idString(c.PageID),
		OnlyShowIfDegraded: c.OnlyShowIfDegraded}
	if c.Description != "" {
		out.Description = &c.Description
	}
	if c.GroupID != nil {
		g := "g" + idString(*c.GroupID) // as the v2 API names groups
		out.GroupID = &g
	}
	return out
}

func apiTime(t time.Time) string { return t.UTC().Format(statuspageTime) }

func apiTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := apiTime(*t)
	return &s
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// scopeIDs are the components an event touches, for subscribers scoped to
// components: those the event changed and, for an incident, every
// component it affects — an update that changes no status still concerns
// them, and no one else.
func scopeIDs(p payload, ev Event) []int64 {
	ids := p.componentIDs()
	if ev.Incident == nil {
		return ids
	}
	for _, c := range ev.Incident.Components {
		id, err := strconv.ParseInt(c.ID, 10, 64)
		if err != nil || slices.Contains(ids, id) {
			continue // a group's id ("g1") scopes nothing
		}
		ids = append(ids, id)
	}
	return ids
}
