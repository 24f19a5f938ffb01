package housekeep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"pharos/app/pipeline"
)

// The maintenance job moves every maintenance window on, every
// MaintenanceTick: announcements of upcoming runs, in_progress when a run
// begins (its components go under maintenance), completed when it ends
// (they get back the status their checks give them), each step one
// public update (store.AdvanceMaintenance, incident.PlanMaintenance). Each
// step is written once per deployment: the database refuses a second copy
// of an update, and only the writer of an update changes components, so
// several housekeepers may run. After a page changed, a page event goes on
// the bus so open pages refresh.

// Defaults of the maintenance options.
const (
	// DefaultMaintenanceTick is how often windows move on: a run begins and
	// ends on the page within about this long.
	DefaultMaintenanceTick = 15 * time.Second
	// DefaultMaintenanceLookback is how far back a tick catches up on runs
	// it missed while no housekeeper ran.
	DefaultMaintenanceLookback = 24 * time.Hour
)

// Events is the bus's live-event side (bus.Events' publishing half).
type Events interface {
	PublishEvent(ctx context.Context, channel string, payload []byte) error
}

func (o *Options) maintenanceDefaults() {
	if o.MaintenanceTick <= 0 {
		o.MaintenanceTick = DefaultMaintenanceTick
	}
	if o.MaintenanceLookback <= 0 {
		o.MaintenanceLookback = DefaultMaintenanceLookback
	}
}

// pageEvent is the live event of a page maintenance changed, shaped like the
// aggregator's: browsers refetch what they need.
type pageEvent struct {
	Type       string           `json:"type"` // always "status"
	Page       string           `json:"page"`
	Components []componentEvent `json:"components,omitempty"`
}

type componentEvent struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// maintenanceJob runs Maintenance, quietly when nothing happened.
func (h *Housekeeper) maintenanceJob(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if err := h.Maintenance(ctx); err != nil {
		h.runs.WithLabelValues("maintenance", "error").Inc()
		h.log.Error("housekeeping job failed", slog.String("job", "maintenance"), slog.Any("error", err))
		return
	}
	h.runs.WithLabelValues("maintenance", "ok").Inc()
}

// Maintenance moves every window on at the current time and publishes an
// event for each page it changed (after the changes committed).
func (h *Housekeeper) Maintenance(ctx context.Context) error {
	changes, err := h.store.AdvanceMaintenance(ctx, h.opts.Now(), h.opts.MaintenanceLookback)
	// Windows that advanced committed even when another failed: tell their pages.
	events := map[string]*pageEvent{}
	for _, c := range changes {
		e, ok := events[c.PageSlug]
		if !ok {
			e = &pageEvent{Type: "status", Page: c.PageSlug}
			events[c.PageSlug] = e
		}
		for _, sc := range c.Components {
			e.Components = append(e.Components, componentEvent{ID: sc.ID, Status: sc.State})
		}
		h.log.Info("maintenance advanced", slog.String("page", c.PageSlug), slog.Int64("window_id", c.WindowID),
			slog.Int("updates", c.Updates), slog.Int("components", len(c.Components)))
	}
	h.publish(ctx, events)
	if err != nil {
		return fmt.Errorf("housekeep: maintenance: %w", err)
	}
	return nil
}

// publish sends the pages' events. Live events are fire-and-forget: a lost
// one costs a browser a refresh (the page cache's TTL covers it).
func (h *Housekeeper) publish(ctx context.Context, events map[string]*pageEvent) {
	if h.opts.Events == nil {
		return
	}
	slugs := make([]string, 0, len(events))
	for slug := range events {
		slugs = append(slugs, slug)
	}
	sort.Strings(slugs)
	for _, slug := range slugs {
		b, err := json.Marshal(events[slug])
		if err != nil {
			h.log.Error("encode page event", slog.String("page", slug), slog.Any("error", err))
			continue
		}
		if err := h.opts.Events.PublishEvent(ctx, pipeline.EventsChannel(slug), b); err != nil {
			h.log.Warn("publish page event", slog.String("page", slug), slog.Any("error", err))
		}
	}
}
