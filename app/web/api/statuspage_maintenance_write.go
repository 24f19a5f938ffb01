package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
)

// maintenanceComponents are the ids of components and component_ids (the
// statuses are ignored: a window puts its components under maintenance by
// the clock).
func maintenanceComponents(in v1IncidentIn, comps map[int64]store.PublicComponent) ([]int64, error) {
	seen := map[int64]bool{}
	raws := append([]string{}, in.ComponentIDs...)
	for raw := range in.Components {
		raws = append(raws, raw)
	}
	var ids []int64
	for _, raw := range raws {
		id, err := componentID(raw, comps)
		if err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// scheduledTime reads scheduled_for or scheduled_until (RFC 3339).
func scheduledTime(field string, v *string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return nil, &respond.ValidationError{Field: field, Message: "want an RFC 3339 time, e.g. 2026-12-01T08:00:00Z"}
	}
	return &t, nil
}

// createMaintenance creates a one-off window from a POSTed incident.
func (s *API) createMaintenance(c echo.Context, p *auth.Principal, pg store.Page, in v1IncidentIn, comps map[int64]store.PublicComponent) error {
	ids, err := maintenanceComponents(in, comps)
	if err != nil {
		return err
	}
	w := store.MaintenanceWindow{PageID: pg.ID, Name: deref(in.Name), Body: deref(in.Body), TimeZone: pg.TimeZone,
		Status: deref(in.Status), ComponentIDs: ids}
	if w.StartsAt, err = scheduledTime("scheduled_for", in.ScheduledFor); err != nil {
		return err
	}
	if w.EndsAt, err = scheduledTime("scheduled_until", in.ScheduledUntil); err != nil {
		return err
	}
	if w.StartsAt == nil || w.EndsAt == nil {
		return &respond.ValidationError{Field: "scheduled_for", Message: "a scheduled maintenance needs scheduled_for and scheduled_until"}
	}
	ctx := c.Request().Context()
	created, err := s.st.CreateMaintenance(ctx, p.OrgID, p.Actor(), w)
	if err != nil {
		return asValidation(err)
	}
	s.pageChanged(ctx, pg.Slug)
	m, _ := toV1Maintenance(pg.PublicRoot(s.baseURL), pg, created, comps, time.Now())
	return c.JSON(http.StatusCreated, m)
}

// v1Maintenance answers one window.
func (s *API) v1Maintenance(c echo.Context, p *auth.Principal, pg store.Page) error {
	id, err := maintenanceParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.st.MaintenanceWindow(ctx, p.OrgID, pg.ID, id)
	if err != nil {
		return err
	}
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	m, _ := toV1Maintenance(pg.PublicRoot(s.baseURL), pg, w, comps, time.Now())
	return c.JSON(http.StatusOK, m)
}

// updateMaintenance changes a window's name, body, status, times (one-off
// windows only) or components.
func (s *API) updateMaintenance(c echo.Context, p *auth.Principal, pg store.Page) error {
	id, err := maintenanceParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.st.MaintenanceWindow(ctx, p.OrgID, pg.ID, id)
	if err != nil {
		return err
	}
	var in v1IncidentIn
	if err := decodeWrapped(c, "incident", &in); err != nil {
		return err
	}
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	if in.Name != nil {
		w.Name = *in.Name
	}
	if in.Body != nil {
		w.Body = *in.Body
	}
	if in.Status != nil {
		if !maintenanceStatus(*in.Status) {
			return &respond.ValidationError{Field: "status", Message: "a maintenance's status is scheduled, in_progress, verifying or completed"}
		}
		w.Status = *in.Status
	}
	if in.Components != nil || in.ComponentIDs != nil {
		if w.ComponentIDs, err = maintenanceComponents(in, comps); err != nil {
			return err
		}
	}
	if in.ScheduledFor != nil || in.ScheduledUntil != nil {
		if w.Schedule != "" {
			return &respond.ValidationError{Field: "scheduled_for", Message: "a recurring window's runs follow its schedule; change it in the console or the configuration"}
		}
		if t, err := scheduledTime("scheduled_for", in.ScheduledFor); err != nil {
			return err
		} else if t != nil {
			w.StartsAt = t
		}
		if t, err := scheduledTime("scheduled_until", in.ScheduledUntil); err != nil {
			return err
		} else if t != nil {
			w.EndsAt = t
		}
	}
	updated, err := s.st.UpdateMaintenance(ctx, p.OrgID, p.Actor(), w)
	if err != nil {
		return asValidation(err)
	}
	s.pageChanged(ctx, pg.Slug)
	m, _ := toV1Maintenance(pg.PublicRoot(s.baseURL), pg, updated, comps, time.Now())
	return c.JSON(http.StatusOK, m)
}

// deleteMaintenance deletes a window and answers with what was deleted.
func (s *API) deleteMaintenance(c echo.Context, p *auth.Principal, pg store.Page) error {
	id, err := maintenanceParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.st.MaintenanceWindow(ctx, p.OrgID, pg.ID, id)
	if err != nil {
		return err
	}
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	gone, _ := toV1Maintenance(pg.PublicRoot(s.baseURL), pg, w, comps, time.Now())
	if err := s.st.DeleteMaintenance(ctx, p.OrgID, p.Actor(), pg.ID, id); err != nil {
		return err
	}
	s.pageChanged(ctx, pg.Slug)
	return c.JSON(http.StatusOK, gone)
}
