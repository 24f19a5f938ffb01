package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
)

// The management API shaped like Statuspage's v1 (DESIGN §8, a contract):
// /api/v1/pages/{page_id}/incidents… and /components…, bodies wrapped as
// {"incident": {…}} and {"component": {…}} with Statuspage's field names,
// string ids, {"error": "…"} on failure, so scripts and incident tools
// written for Statuspage work by changing the base URL and the key. Unknown
// fields are ignored, as Statuspage does. {page_id} is the page's id or its
// slug, within the token's organisation.

// v1Time is Statuspage's timestamp format: RFC 3339 with milliseconds, UTC.
const v1Time = "2006-01-02T15:04:05.000Z07:00"

func v1At(t time.Time) string { return t.UTC().Format(v1Time) }

func v1AtPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := v1At(*t)
	return &s
}

func v1ID(id int64) string { return strconv.FormatInt(id, 10) }

// v1Component is Statuspage's v1 component.
type v1Component struct {
	ID                 string  `json:"id"`
	PageID             string  `json:"page_id"`
	GroupID            *string `json:"group_id"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Group              bool    `json:"group"`
	Name               string  `json:"name"`
	Description        *string `json:"description"`
	Position           int     `json:"position"`
	Status             string  `json:"status"`
	Showcase           bool    `json:"showcase"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
	StartDate          *string `json:"start_date"`
}

// v1Incident is Statuspage's v1 incident (a scheduled maintenance is one
// too, with the scheduled_* fields set).
type v1Incident struct {
	ID                            string         `json:"id"`
	Components                    []v1Component  `json:"components"`
	CreatedAt                     string         `json:"created_at"`
	Impact                        string         `json:"impact"`
	ImpactOverride                *string        `json:"impact_override"`
	IncidentUpdates               []v1Update     `json:"incident_updates"`
	Metadata                      map[string]any `json:"metadata"`
	MonitoringAt                  *string        `json:"monitoring_at"`
	Name                          string         `json:"name"`
	PageID                        string         `json:"page_id"`
	PostmortemBody                *string        `json:"postmortem_body"`
	PostmortemBodyLastUpdatedAt   *string        `json:"postmortem_body_last_updated_at"`
	PostmortemIgnored             bool           `json:"postmortem_ignored"`
	PostmortemNotifiedSubscribers bool           `json:"postmortem_notified_subscribers"`
	PostmortemNotifiedTwitter     bool           `json:"postmortem_notified_twitter"`
	PostmortemPublishedAt         *string        `json:"postmortem_published_at"`
	ResolvedAt                    *string        `json:"resolved_at"`
	ScheduledAutoCompleted        bool           `json:"scheduled_auto_completed"`
	ScheduledAutoInProgress       bool           `json:"scheduled_auto_in_progress"`
	ScheduledFor                  *string        `json:"scheduled_for"`
	ScheduledRemindPrior          bool           `json:"scheduled_remind_prior"`
	ScheduledRemindedAt           *string        `json:"scheduled_reminded_at"`
	ScheduledUntil                *string        `json:"scheduled_until"`
	Shortlink                     string         `json:"shortlink"`
	Status                        string         `json:"status"`
	UpdatedAt                     string         `json:"updated_at"`
	StartedAt                     string         `json:"started_at"`
}

// v1Update is one entry of an incident's timeline.
type v1Update struct {
	ID                   string       `json:"id"`
	IncidentID           string       `json:"incident_id"`
	AffectedComponents   []v1Affected `json:"affected_components"`
	Body                 string       `json:"body"`
	CreatedAt            string       `json:"created_at"`
	CustomTweet          *string      `json:"custom_tweet"`
	DeliverNotifications bool         `json:"deliver_notifications"`
	DisplayAt            string       `json:"display_at"`
	Status               string       `json:"status"`
	TweetID              *string      `json:"tweet_id"`
	TwitterUpdatedAt     *string      `json:"twitter_updated_at"`
	UpdatedAt            string       `json:"updated_at"`
	WantsTwitterUpdate   bool         `json:"wants_twitter_update"`
}

type v1Affected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

func toV1Component(c store.Component) v1Component {
	out := v1Component{ID: v1ID(c.ID), PageID: v1ID(c.PageID), CreatedAt: v1At(c.CreatedAt), UpdatedAt: v1At(c.UpdatedAt),
		Name: c.Name, Position: c.Position, Status: c.Status, Showcase: c.Showcase, OnlyShowIfDegraded: c.OnlyShowIfDegraded}
	if c.Description != "" {
		d := c.Description
		out.Description = &d
	}
	if c.GroupID != nil {
		g := "g" + v1ID(*c.GroupID) // as in the v2 documents: group ids never collide with component ids
		out.GroupID = &g
	}
	return out
}

func toV1PublicComponent(c store.PublicComponent) v1Component {
	out := toV1Component(c.Component)
	if c.StartDate != nil {
		d := c.StartDate.Format("2006-01-02")
		out.StartDate = &d
	}
	return out
}

// toV1Incident shapes an incident; root is the page's public root
// (store.Page.PublicRoot) and comps are the page's components by id.
func toV1Incident(root string, pg store.Page, in store.PublicIncident, comps map[int64]store.PublicComponent) v1Incident {
	id := v1ID(in.ID)
	out := v1Incident{ID: id, Components: []v1Component{}, CreatedAt: v1At(in.CreatedAt), Impact: in.Impact,
		IncidentUpdates: make([]v1Update, 0, len(in.Updates)), Metadata: map[string]any{},
		MonitoringAt: v1AtPtr(in.MonitoringAt), Name: in.Name, PageID: v1ID(in.PageID), ResolvedAt: v1AtPtr(in.ResolvedAt),
		Shortlink: root + "/incidents/" + id, Status: in.Status, UpdatedAt: v1At(in.UpdatedAt), StartedAt: v1At(in.StartedAt)}
	if in.Postmortem != "" {
		body, at := in.Postmortem, v1At(in.UpdatedAt)
		out.PostmortemBody, out.PostmortemBodyLastUpdatedAt, out.PostmortemPublishedAt = &body, &at, &at
	}
	for _, u := range in.Updates {
		vu := v1Update{ID: v1ID(u.ID), IncidentID: id, Body: u.Body, CreatedAt: v1At(u.CreatedAt),
			DeliverNotifications: u.DeliverNotifications, DisplayAt: v1At(u.DisplayAt), Status: u.Status, UpdatedAt: v1At(u.UpdatedAt)}
		for _, a := range u.Affected {
			vu.AffectedComponents = append(vu.AffectedComponents, v1Affected{Code: v1ID(a.ComponentID), Name: a.Name,
				OldStatus: a.OldStatus, NewStatus: a.NewStatus})
		}
		out.IncidentUpdates = append(out.IncidentUpdates, vu)
	}
	for _, a := range in.Components {
		if pc, ok := comps[a.ComponentID]; ok {
			out.Components = append(out.Components, toV1PublicComponent(pc))
		}
	}
	return out
}

// v1Page resolves {page_id}, the page's id or slug, within the token's
// organisation: another organisation's page is ErrNotFound.
func (s *API) v1Page(c echo.Context) (*auth.Principal, store.Page, error) {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return nil, store.Page{}, err
	}
	ctx := c.Request().Context()
	ref := c.Param("id")
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		pg, err := s.st.Page(ctx, p.OrgID, id)
		if !errors.Is(err, store.ErrNotFound) {
			return p, pg, err
		}
	}
	pg, err := s.st.PageBySlug(ctx, ref)
	if err != nil {
		return nil, store.Page{}, err
	}
	if pg.OrgID != p.OrgID {
		return nil, store.Page{}, fmt.Errorf("api: page %q: %w", ref, store.ErrNotFound)
	}
	return p, pg, nil
}

// pageComponents returns the page's components by id.
func (s *API) pageComponents(ctx context.Context, orgID, pageID int64) (map[int64]store.PublicComponent, []store.PublicComponent, error) {
	list, err := s.st.PublicComponents(ctx, orgID, pageID)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]store.PublicComponent, len(list))
	for _, c := range list {
		byID[c.ID] = c
	}
	return byID, list, nil
}

// parseID reads a numeric id from the path; anything else names nothing
// that exists.
func parseID(c echo.Context, name string) (int64, error) {
	raw := c.Param(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("api: %s %q: %w", name, raw, store.ErrNotFound)
	}
	return id, nil
}

// decodeWrapped reads a body {"<key>": {…}} into v: malformed JSON or a
// missing wrapper is 400.
func decodeWrapped(c echo.Context, key string, v any) error {
	data, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return fmt.Errorf("api: read body: %w", err)
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(data, &outer); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	inner, ok := outer[key]
	if !ok || string(inner) == "null" {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(`want a JSON body {"%s": {…}}`, key))
	}
	if err := json.Unmarshal(inner, v); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("malformed %s: %v", key, err))
	}
	return nil
}

// asValidation turns the store's and the maintenance rules' refusals into
// 422 answers naming the field; a taken name is 409.
func asValidation(err error) error {
	var ie *store.InvalidError
	var we *incident.WindowError
	switch {
	case errors.As(err, &ie):
		return &respond.ValidationError{Field: ie.Field, Message: ie.Message}
	case errors.As(err, &we):
		return &respond.ValidationError{Field: we.Field, Message: we.Message}
	case errors.Is(err, store.ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, "that name is already taken on this page")
	}
	return err
}
