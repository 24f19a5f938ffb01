package aggregate

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"

	"pharos/app/pipeline"
)

// pageEvent is the live event a page's browsers get after a batch changed
// something on it: small, so the page refetches what it needs.
type pageEvent struct {
	Type       string           `json:"type"` // always "status"
	Page       string           `json:"page"`
	Components []componentEvent `json:"components,omitempty"`
	Incidents  []incidentEvent  `json:"incidents,omitempty"`
}

type componentEvent struct {
	ID     int64  `json:"id,string"` // a string, as in the JSON API
	Status string `json:"status"`
}

type incidentEvent struct {
	ID     int64  `json:"id,string"` // a string, as in the JSON API
	Status string `json:"status"`
	Impact string `json:"impact"`
}

// event returns the page's pending event, creating it.
func (o *outcome) event(slug string) *pageEvent {
	e, ok := o.events[slug]
	if !ok {
		e = &pageEvent{Type: "status", Page: slug}
		o.events[slug] = e
	}
	return e
}

func (e *pageEvent) addComponent(id int64, status string) {
	e.Components = append(e.Components, componentEvent{ID: id, Status: status})
}

func (e *pageEvent) addIncident(id int64, status, impact string) {
	e.Incidents = append(e.Incidents, incidentEvent{ID: id, Status: status, Impact: impact})
}

// publish sends the pages' events. Live events are fire-and-forget: a lost
// one costs a browser a refresh, so failures are logged, not returned.
func (a *Aggregator) publish(ctx context.Context, events map[string]*pageEvent) {
	if a.bus == nil || len(events) == 0 {
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
			a.log.Error("encode page event", slog.String("page", slug), slog.Any("error", err))
			continue
		}
		if err := a.bus.PublishEvent(ctx, pipeline.EventsChannel(slug), b); err != nil {
			a.log.Warn("publish page event", slog.String("page", slug), slog.Any("error", err))
		}
	}
}
