package notify

import (
	"context"
	"fmt"

	"pharos/app/store"
)

// renderMaintenance builds a maintenance run as Statuspage sends one: an
// incident with impact "maintenance", scheduled_for and scheduled_until,
// and the run's updates up to the event's, newest first.
func (n *Notifier) renderMaintenance(ctx context.Context, row store.OutboxRow, p payload,
	comps map[int64]store.PublicComponent, pageURL string) (*Incident, error) {
	if p.MaintenanceID == 0 || p.ScheduledFor == nil || p.ScheduledUntil == nil {
		return nil, fmt.Errorf("maintenance event without its window: %w", store.ErrNotFound)
	}
	ups, err := n.store.MaintenanceUpdates(ctx, row.OrgID, p.PageID, p.MaintenanceID, 100)
	if err != nil {
		return nil, err
	}
	id := store.MaintenanceRunID(p.MaintenanceID, *p.ScheduledFor, p.Recurring)
	in := &Incident{ID: id, Name: p.Name, Status: p.Status, Impact: "maintenance", UpdatedAt: apiTime(row.CreatedAt),
		StartedAt: apiTime(*p.ScheduledFor), PageID: idString(p.PageID), ScheduledFor: apiTimePtr(p.ScheduledFor),
		ScheduledUntil: apiTimePtr(p.ScheduledUntil), Shortlink: pageURL,
		IncidentUpdates: []IncidentUpdate{}, Components: []Component{}}
	created := row.CreatedAt
	for _, u := range ups { // newest first
		if !u.OccurrenceStart.Equal(*p.ScheduledFor) || (p.UpdateID != 0 && u.ID > p.UpdateID) {
			continue
		}
		created = u.CreatedAt
		in.IncidentUpdates = append(in.IncidentUpdates, IncidentUpdate{ID: "mu" + idString(u.ID), Status: u.Status,
			Body: u.Body, IncidentID: id, CreatedAt: apiTime(u.CreatedAt), UpdatedAt: apiTime(u.CreatedAt),
			DisplayAt: apiTime(u.DisplayAt), AffectedComponents: []AffectedComponent{}, DeliverNotifications: true})
	}
	if len(in.IncidentUpdates) == 0 {
		return nil, fmt.Errorf("maintenance %d run at %s: %w", p.MaintenanceID, p.ScheduledFor, store.ErrNotFound)
	}
	in.CreatedAt = apiTime(created)
	if p.Status == "completed" {
		in.ResolvedAt = apiTimePtr(&row.CreatedAt)
	}
	for _, cid := range p.componentIDs() {
		if c, ok := comps[cid]; ok {
			in.Components = append(in.Components, component(c.Component))
		}
	}
	return in, nil
}
