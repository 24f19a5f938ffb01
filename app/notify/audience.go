package notify

import (
	"strings"
	"time"
)

// payload is the part of an outbox event's JSON the notifier reads. The
// incident writers (app/store) and the aggregator (app/aggregate) write
// more; technical detail is never read here, so it never reaches
// subscribers.
type payload struct {
	PageID      int64 `json:"page_id"`
	IncidentID  int64 `json:"incident_id"`
	UpdateID    int64 `json:"update_id"`
	ComponentID int64 `json:"component_id"`
	Components  []struct {
		ComponentID int64 `json:"component_id"`
	} `json:"components"`
	// Deliver is the editor's "notify subscribers" (absent on automatic
	// incidents, which always notify once published).
	Deliver *bool  `json:"deliver_notifications"`
	Draft   bool   `json:"draft"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Impact  string `json:"impact"`
	// A maintenance run's window and times.
	MaintenanceID  int64      `json:"maintenance_id"`
	ScheduledFor   *time.Time `json:"scheduled_for"`
	ScheduledUntil *time.Time `json:"scheduled_until"`
	Recurring      bool       `json:"recurring"`
	OldStatus      string     `json:"old_status"`
	NewStatus      string     `json:"new_status"`
}

// componentIDs are the components the event touches, for subscribers
// scoped to components.
func (p payload) componentIDs() []int64 {
	var ids []int64
	if p.ComponentID != 0 {
		ids = append(ids, p.ComponentID)
	}
	for _, c := range p.Components {
		if c.ComponentID != 0 && c.ComponentID != p.ComponentID {
			ids = append(ids, c.ComponentID)
		}
	}
	return ids
}

// Audience returns the subscriber kinds that hear of an outbox event:
// email and webhook subscribers of incident and maintenance events whose
// editor asked to notify (automatic incidents once published), webhook
// subscribers alone of component status changes. Operator events (regions,
// repeated alerts, certificate notes) reach no subscriber.
func Audience(kind string, deliver *bool, draft bool) []string {
	if draft || (deliver != nil && !*deliver) {
		return nil
	}
	switch {
	case kind == "component.updated":
		return []string{KindWebhook}
	case kind == "incident.repeated":
		return nil
	case strings.HasPrefix(kind, "incident."), strings.HasPrefix(kind, "maintenance."):
		return []string{KindEmail, KindWebhook}
	}
	return nil
}
