package store

import (
	"context"
	"fmt"
	"time"

	"pharos/app/incident"
)

// Maintenance events for subscribers, one per public step of a run.
const (
	EventMaintenanceScheduled = "maintenance.scheduled"
	EventMaintenanceStarted   = "maintenance.started"
	EventMaintenanceUpdated   = "maintenance.updated" // verifying, or an operator's note
	EventMaintenanceCompleted = "maintenance.completed"
)

// MaintenanceEventKind names the outbox event of a maintenance update's
// status.
func MaintenanceEventKind(status string) string {
	switch status {
	case "scheduled":
		return EventMaintenanceScheduled
	case "in_progress":
		return EventMaintenanceStarted
	case "completed":
		return EventMaintenanceCompleted
	}
	return EventMaintenanceUpdated
}

// queueMaintenanceEvent writes the outbox event of one maintenance update
// in the tick's transaction, so subscribers hear of each step exactly
// once. The key names the window, the run and the update.
func (tx *Tx) queueMaintenanceEvent(ctx context.Context, w *tickWindow, step incident.MaintenanceStep, updateID int64,
	body string, now time.Time) error {
	kind := MaintenanceEventKind(step.Status)
	components := make([]map[string]any, 0, len(w.ComponentIDs))
	for _, id := range w.ComponentIDs {
		components = append(components, map[string]any{"component_id": id})
	}
	_, err := tx.AddOutbox(ctx, []OutboxEvent{{OrgID: w.OrgID, Kind: kind, At: now,
		IdempotencyKey: fmt.Sprintf("%s:%d:%d:%d", kind, w.ID, step.Run.Start.Unix(), updateID),
		Payload: map[string]any{
			"maintenance_id": w.ID, "update_id": updateID, "page_id": w.PageID, "page_slug": w.slug,
			"name": w.Name, "status": step.Status, "body": body, "components": components,
			"scheduled_for": step.Run.Start.UTC(), "scheduled_until": step.Run.End.UTC(), "recurring": w.Schedule != "",
			"deliver_notifications": true, "at": now,
		}}})
	if err != nil {
		return fmt.Errorf("queue %s event: %w", kind, err)
	}
	return nil
}
