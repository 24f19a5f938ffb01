package notify

// Event is what subscribers are told, rendered once per outbox event in
// Statuspage's subscriber shape (DESIGN §8): the page and its overall
// status, then either the incident with its updates, or a component's
// status change. Channels read it; webhooks send it as JSON with a meta
// block per subscriber (webhook.go).
type Event struct {
	Page            EventPage        `json:"page"`
	Incident        *Incident        `json:"incident,omitempty"`
	ComponentUpdate *ComponentUpdate `json:"component_update,omitempty"`
	Component       *Component       `json:"component,omitempty"`
}

// EventPage is the page and its overall status. Webhooks send id,
// status_indicator and status_description (Statuspage's page block); Name,
// Slug and URL are for emails.
type EventPage struct {
	ID                string `json:"id"`
	StatusIndicator   string `json:"status_indicator"`
	StatusDescription string `json:"status_description"`
	Name              string `json:"name"`
	Slug              string `json:"slug"`
	URL               string `json:"url"` // the public page, "" without PHAROS_BASE_URL or a custom domain
}

// Incident is an incident (or maintenance) as Statuspage sends it, its
// updates newest first. Times are RFC 3339 with milliseconds, in UTC.
type Incident struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Status          string           `json:"status"`
	CreatedAt       string           `json:"created_at"`
	UpdatedAt       string           `json:"updated_at"`
	MonitoringAt    *string          `json:"monitoring_at"`
	ResolvedAt      *string          `json:"resolved_at"`
	Impact          string           `json:"impact"`
	Shortlink       string           `json:"shortlink"`
	StartedAt       string           `json:"started_at"`
	PageID          string           `json:"page_id"`
	Postmortem      *string          `json:"postmortem_body"`
	IncidentUpdates []IncidentUpdate `json:"incident_updates"`
	Components      []Component      `json:"components"`
	ScheduledFor    *string          `json:"scheduled_for,omitempty"`
	ScheduledUntil  *string          `json:"scheduled_until,omitempty"`
}

// IncidentUpdate is one entry of an incident's timeline.
type IncidentUpdate struct {
	ID                   string              `json:"id"`
	Status               string              `json:"status"`
	Body                 string              `json:"body"` // Markdown
	IncidentID           string              `json:"incident_id"`
	CreatedAt            string              `json:"created_at"`
	UpdatedAt            string              `json:"updated_at"`
	DisplayAt            string              `json:"display_at"`
	AffectedComponents   []AffectedComponent `json:"affected_components"`
	DeliverNotifications bool                `json:"deliver_notifications"`
}

// AffectedComponent is a component change an update recorded.
type AffectedComponent struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

// Component is a component as Statuspage sends it.
type Component struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Status             string  `json:"status"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Position           int     `json:"position"`
	Description        *string `json:"description"`
	Showcase           bool    `json:"showcase"`
	GroupID            *string `json:"group_id"`
	PageID             string  `json:"page_id"`
	Group              bool    `json:"group"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
}

// ComponentUpdate is a component's status change.
type ComponentUpdate struct {
	ID          string `json:"id"`
	CreatedAt   string `json:"created_at"`
	OldStatus   string `json:"old_status"`
	NewStatus   string `json:"new_status"`
	ComponentID string `json:"component_id"`
}
