package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"pharos/app/incident"
)

// Incidents people write, from the console and the management API. Each
// write is one transaction holding the incident rows, what every update did
// to each component (linkComponent, kept for ever), the components' new
// statuses, an audit row naming the actor and an outbox event for the
// notifier, so a change and its consequences commit together or not at all.

// Outbox event kinds of written incidents and hand-set component statuses.
// The payload always carries deliver_notifications: false means the event
// is recorded but subscribers are not told (a backfilled incident, a quiet
// fix).
const (
	EventIncidentCreated    = "incident.created"
	EventIncidentUpdated    = "incident.updated"
	EventIncidentResolved   = "incident.resolved"
	EventIncidentPostmortem = "incident.postmortem"
	EventComponentUpdated   = "component.updated"
)

// InvalidError is a value the store refuses: an unknown status or impact, a
// component of another page, an empty name. The web layer answers it with
// 422 naming Field.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return "store: " + e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ComponentStatusChange sets one component's status.
type ComponentStatusChange struct {
	ComponentID int64
	Status      string // incident.Operational, …
}

// NewIncident is an incident someone writes.
type NewIncident struct {
	PageID int64
	Name   string
	// Status is investigating, identified, monitoring or resolved.
	Status string
	// Impact is none, minor, major or critical; "" derives it from the worst
	// status among Components (DerivedImpact).
	Impact               string
	Body                 string // the first update's text (Markdown)
	Components           []ComponentStatusChange
	DeliverNotifications bool
	// StartedAt backdates the incident; zero is now.
	StartedAt time.Time
	// Backfilled records a past incident: created resolved at StartedAt
	// (its whole timeline one update then), no notifications.
	Backfilled bool
}

// IncidentChangeInput is what an update changes; zero fields change
// nothing. A status, a body or component statuses add an update to the
// timeline; Name and Impact alone only edit the incident.
type IncidentChangeInput struct {
	Status               string
	Body                 string
	Components           []ComponentStatusChange
	DeliverNotifications bool
	Name                 string
	// Impact overrides the impact; "" keeps it, raised to what the
	// components' new statuses derive (an incident's impact is the worst it
	// reached, so a resolve does not lower it).
	Impact string
}

// IncidentWritten names what a write touched: the handlers publish the
// page's live event (PageSlug) after commit.
type IncidentWritten struct {
	IncidentID int64
	UpdateID   int64 // 0 when no update was added
	PageID     int64
	PageSlug   string
}

// DerivedImpact is the impact of an incident whose components are in the
// given statuses: major outage → critical, partial outage → major,
// degraded performance → minor, anything else → none.
func DerivedImpact(statuses []string) string {
	worst := incident.Operational
	for _, s := range statuses {
		worst = incident.WorseStatus(worst, s)
	}
	switch worst {
	case incident.MajorOutage:
		return "critical"
	case incident.PartialOutage:
		return "major"
	case incident.DegradedPerformance:
		return "minor"
	}
	return "none"
}

func impactRank(impact string) int {
	switch impact {
	case "minor":
		return 1
	case "major":
		return 2
	case "critical":
		return 3
	}
	return 0
}

func validImpact(s string) bool { return s == "none" || impactRank(s) > 0 }

// validWrittenStatus reports whether s is a status a person may give an
// update (postmortem is set through SetPostmortem).
func validWrittenStatus(s string) bool {
	switch s {
	case IncidentInvestigating, IncidentIdentified, IncidentMonitoring, IncidentResolved:
		return true
	}
	return false
}

// ValidComponentStatus reports whether s is a component status.
func ValidComponentStatus(s string) bool {
	switch s {
	case incident.Operational, incident.DegradedPerformance, incident.PartialOutage, incident.MajorOutage, incident.UnderMaintenance:
		return true
	}
	return false
}

func validateComponents(cs []ComponentStatusChange) error {
	seen := map[int64]bool{}
	for _, c := range cs {
		if !ValidComponentStatus(c.Status) {
			return invalid("components", "component %d: unknown status %q (want operational, degraded_performance, partial_outage, major_outage or under_maintenance)", c.ComponentID, c.Status)
		}
		if seen[c.ComponentID] {
			return invalid("components", "component %d is given twice", c.ComponentID)
		}
		seen[c.ComponentID] = true
	}
	return nil
}

func statusError(s string) error {
	return invalid("status", "unknown status %q (want investigating, identified, monitoring or resolved)", s)
}

func impactError(s string) error {
	return invalid("impact", "unknown impact %q (want none, minor, major or critical)", s)
}

// CreateIncident writes an incident with its first update, sets the
// affected components' statuses and records both, audits and queues
// incident.created (or incident.resolved for one created resolved) and one
// component.updated per component that changed.
func (s *Store) CreateIncident(ctx context.Context, orgID int64, actor Actor, n NewIncident) (IncidentWritten, error) {
	if n.Name == "" {
		return IncidentWritten{}, invalid("name", "an incident needs a name")
	}
	if n.Backfilled {
		n.Status, n.DeliverNotifications = IncidentResolved, false
	}
	if !validWrittenStatus(n.Status) {
		return IncidentWritten{}, statusError(n.Status)
	}
	if n.Impact != "" && !validImpact(n.Impact) {
		return IncidentWritten{}, impactError(n.Impact)
	}
	if err := validateComponents(n.Components); err != nil {
		return IncidentWritten{}, err
	}
	at := now()
	started := at
	if !n.StartedAt.IsZero() {
		if n.StartedAt.After(at.Add(time.Minute)) {
			return IncidentWritten{}, invalid("started_at", "an incident cannot start in the future")
		}
		started = n.StartedAt.UTC()
	}
	if n.Impact == "" {
		statuses := make([]string, len(n.Components))
		for i, c := range n.Components {
			statuses[i] = c.Status
		}
		n.Impact = DerivedImpact(statuses)
	}
	var w IncidentWritten
	err := s.InTx(ctx, func(tx *Tx) error {
		slug, err := tx.pageSlug(ctx, orgID, n.PageID)
		if err != nil {
			return err
		}
		w.PageID, w.PageSlug = n.PageID, slug
		var monitoring, resolved sql.NullTime
		if n.Status == IncidentMonitoring {
			monitoring = sql.NullTime{Time: at, Valid: true}
		}
		if n.Status == IncidentResolved {
			resolved = sql.NullTime{Time: at, Valid: true}
			if n.Backfilled {
				resolved.Time = started
			}
		}
		err = tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO incidents (org_id, page_id, name, status, impact,
			started_at, monitoring_at, resolved_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			orgID, n.PageID, n.Name, n.Status, n.Impact, started, monitoring, resolved, at, at).Scan(&w.IncidentID)
		if err != nil {
			return fmt.Errorf("store: create incident: %w", err)
		}
		u := writtenUpdate{status: n.Status, body: n.Body, deliver: n.DeliverNotifications, displayAt: started,
			components: n.Components, actor: actor, at: at}
		affected, err := tx.addWrittenUpdate(ctx, orgID, n.PageID, w.IncidentID, &u)
		if err != nil {
			return err
		}
		w.UpdateID = u.id
		kind := EventIncidentCreated
		if n.Status == IncidentResolved {
			kind = EventIncidentResolved
		}
		if err := tx.Audit(ctx, orgID, actor, "incident.create", incidentTarget(w.IncidentID), map[string]any{
			"name": n.Name, "status": n.Status, "impact": n.Impact, "backfilled": n.Backfilled}); err != nil {
			return err
		}
		return tx.queueIncidentEvents(ctx, orgID, kind, w, incidentEvent{name: n.Name, status: n.Status, impact: n.Impact,
			body: n.Body, deliver: n.DeliverNotifications, affected: affected, at: at})
	})
	if err != nil {
		return IncidentWritten{}, err
	}
	return w, nil
}

// writtenUpdate is an update row to add; id is set once written.
type writtenUpdate struct {
	id         int64
	status     string
	body       string
	deliver    bool
	displayAt  time.Time
	components []ComponentStatusChange
	actor      Actor
	at         time.Time
}

// addWrittenUpdate inserts an update, records old → new for each of its
// components (the old being the component's status now) and sets the new
// statuses. It returns what changed, with the components' names.
func (tx *Tx) addWrittenUpdate(ctx context.Context, orgID, pageID, incidentID int64, u *writtenUpdate) ([]AffectedComponent, error) {
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`INSERT INTO incident_updates (org_id, incident_id, status, body, author_user_id,
		deliver_notifications, display_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		orgID, incidentID, u.status, u.body, nullID(u.actor.UserID), u.deliver, u.displayAt.UTC(), u.at, u.at).Scan(&u.id)
	if err != nil {
		return nil, fmt.Errorf("store: add update to incident %d: %w", incidentID, err)
	}
	affected, err := tx.setComponents(ctx, orgID, pageID, u.components, u.at)
	if err != nil {
		return nil, err
	}
	for _, a := range affected {
		if err := tx.linkComponent(ctx, orgID, incidentID, u.id, a); err != nil {
			return nil, err
		}
	}
	return affected, nil
}

// setComponents reads each component's current status (ErrNotFound unless
// it is on the organisation's page), then writes the new ones, returning
// old → new for each.
func (tx *Tx) setComponents(ctx context.Context, orgID, pageID int64, cs []ComponentStatusChange, at time.Time) ([]AffectedComponent, error) {
	affected := make([]AffectedComponent, 0, len(cs))
	changes := make([]StateChange, 0, len(cs))
	for _, c := range cs {
		a := AffectedComponent{ComponentID: c.ComponentID, NewStatus: c.Status}
		err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT name, status FROM components WHERE org_id = ? AND page_id = ? AND id = ?`),
			orgID, pageID, c.ComponentID).Scan(&a.Name, &a.OldStatus)
		if err != nil {
			return nil, notFound(err, "component", c.ComponentID)
		}
		affected = append(affected, a)
		changes = append(changes, StateChange{OrgID: orgID, ID: c.ComponentID, State: c.Status, At: at})
	}
	if _, err := tx.SetComponentStatuses(ctx, changes); err != nil {
		return nil, err
	}
	return affected, nil
}

// pageSlug returns the slug of the organisation's page, or ErrNotFound.
func (tx *Tx) pageSlug(ctx context.Context, orgID, pageID int64) (string, error) {
	var slug string
	err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT slug FROM pages WHERE org_id = ? AND id = ?`), orgID, pageID).Scan(&slug)
	return slug, notFound(err, "page", pageID)
}

func incidentTarget(id int64) string { return fmt.Sprintf("incident %d", id) }

// incidentEvent is what the notifier needs to tell subscribers about a
// written incident.
type incidentEvent struct {
	name, status, impact, body string
	deliver                    bool
	affected                   []AffectedComponent
	// componentsAlreadyTold lists the components without queueing
	// component.updated (their change was queued when it happened).
	componentsAlreadyTold bool
	at                    time.Time
}

// queueIncidentEvents writes the incident's event and a component.updated
// event per component whose status really changed. Keys name the kind, the
// ids and the time: SQLite may hand a deleted incident's ids to the next
// one, whose events must not be taken for replays.
func (tx *Tx) queueIncidentEvents(ctx context.Context, orgID int64, kind string, w IncidentWritten, e incidentEvent) error {
	components := make([]map[string]any, 0, len(e.affected))
	for _, a := range e.affected {
		components = append(components, map[string]any{"component_id": a.ComponentID, "name": a.Name,
			"old_status": a.OldStatus, "new_status": a.NewStatus})
	}
	events := []OutboxEvent{{OrgID: orgID, Kind: kind, At: e.at,
		IdempotencyKey: fmt.Sprintf("%s:%d:%d:%d", kind, w.IncidentID, w.UpdateID, e.at.UnixNano()),
		Payload: map[string]any{
			"incident_id": w.IncidentID, "update_id": w.UpdateID, "page_id": w.PageID, "page_slug": w.PageSlug,
			"name": e.name, "status": e.status, "impact": e.impact, "body": e.body, "components": components,
			"deliver_notifications": e.deliver, "automatic": false, "at": e.at,
		}}}
	for _, a := range e.affected {
		if a.OldStatus == a.NewStatus || e.componentsAlreadyTold {
			continue
		}
		events = append(events, componentEvent(orgID, w, a, e.deliver, e.at))
	}
	_, err := tx.AddOutbox(ctx, events)
	return err
}

// componentEvent is a component.updated event, keyed by the component, the
// update that made the change (0 for none) and the time.
func componentEvent(orgID int64, w IncidentWritten, a AffectedComponent, deliver bool, at time.Time) OutboxEvent {
	key := fmt.Sprintf("%s:%d:%d:%d", EventComponentUpdated, a.ComponentID, w.UpdateID, at.UnixNano())
	return OutboxEvent{OrgID: orgID, Kind: EventComponentUpdated, IdempotencyKey: key, At: at,
		Payload: map[string]any{
			"component_id": a.ComponentID, "name": a.Name, "old_status": a.OldStatus, "new_status": a.NewStatus,
			"incident_id": w.IncidentID, "update_id": w.UpdateID, "page_id": w.PageID, "page_slug": w.PageSlug,
			"deliver_notifications": deliver, "at": at,
		}}
}
