package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
)

// Changes to an existing incident from its console page.

// PostUpdate adds an update to an incident's timeline (or previews it).
func (s *Console) PostUpdate(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := s.incidentData(ctx, p, id)
	if err != nil {
		return err
	}
	comps, err := s.st.Components(ctx, p.OrgID, d.Page.ID)
	if err != nil {
		return err
	}
	form := readIncidentForm(c)
	chosen, changes := formComponents(c, comps)
	d.Form, d.Components = form, componentChoices(comps, chosen)
	if c.FormValue("action") == "preview" {
		d.PreviewHTML = previewOf(s.md, form.Body)
		return s.renderIncident(c, http.StatusOK, d)
	}
	if msg := checkIncidentForm(form, false); msg != "" {
		d.Error = msg
		return s.renderIncident(c, http.StatusUnprocessableEntity, d)
	}
	w, err := s.st.AddIncidentUpdate(ctx, p.OrgID, p.Actor(), id, store.IncidentChangeInput{
		Status: form.Status, Body: form.Body, Components: changes, DeliverNotifications: form.Notify,
	})
	if msg, ok := invalidMessage(err); ok {
		d.Error = msg
		return s.renderIncident(c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	s.pageChanged(ctx, w.PageSlug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/incidents/%d", id))
}

// EditUpdate corrects an update's text; the page shows it as edited.
func (s *Console) EditUpdate(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	updateID, err := strconv.ParseInt(c.Param("update"), 10, 64)
	if err != nil {
		return fmt.Errorf("console: update %q: %w", c.Param("update"), store.ErrNotFound)
	}
	body := strings.TrimSpace(c.FormValue("body"))
	return s.incidentWrite(c, id, func() (store.IncidentWritten, error) {
		if body == "" || len(body) > maxBodyLen {
			return store.IncidentWritten{}, &store.InvalidError{Field: "body",
				Message: fmt.Sprintf("An update needs a text of at most %d characters.", maxBodyLen)}
		}
		return s.st.EditUpdateBody(c.Request().Context(), p.OrgID, p.Actor(), id, updateID, body)
	})
}

// Postmortem publishes a resolved incident's postmortem.
func (s *Console) Postmortem(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	body := strings.TrimSpace(c.FormValue("body"))
	return s.incidentWrite(c, id, func() (store.IncidentWritten, error) {
		return s.st.SetPostmortem(c.Request().Context(), p.OrgID, p.Actor(), id, body, c.FormValue("deliver_notifications") == "1")
	})
}

// PublishDraft makes an automatic draft public.
func (s *Console) PublishDraft(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	return s.incidentWrite(c, id, func() (store.IncidentWritten, error) {
		return s.st.PublishDraft(c.Request().Context(), p.OrgID, p.Actor(), id)
	})
}

// DiscardDraft deletes an automatic draft nobody published.
func (s *Console) DiscardDraft(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	if _, err := s.st.DiscardDraft(c.Request().Context(), p.OrgID, p.Actor(), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/incidents")
}

// DeleteIncident removes an incident everywhere (owners; the form asks for
// a confirmation).
func (s *Console) DeleteIncident(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "1" {
		return s.incidentWrite(c, id, func() (store.IncidentWritten, error) {
			return store.IncidentWritten{}, &store.InvalidError{Field: "confirm", Message: "Tick the box to confirm the deletion."}
		})
	}
	w, err := s.st.DeleteIncident(c.Request().Context(), p.OrgID, p.Actor(), id)
	if err != nil {
		return err
	}
	s.pageChanged(c.Request().Context(), w.PageSlug)
	return c.Redirect(http.StatusSeeOther, "/admin/incidents")
}

// incidentWrite runs one write of incident id: on success it refreshes the
// page and returns to the incident; a refused value shows the incident
// with the message.
func (s *Console) incidentWrite(c echo.Context, id int64, write func() (store.IncidentWritten, error)) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	w, err := write()
	if msg, ok := invalidMessage(err); ok {
		d, err := s.incidentData(c.Request().Context(), p, id)
		if err != nil {
			return err
		}
		d.Error = msg
		return s.renderIncident(c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	s.pageChanged(c.Request().Context(), w.PageSlug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/incidents/%d", id))
}

// SetComponentStatus sets a component's status by hand, on its own or as
// part of one of the page's open incidents.
func (s *Console) SetComponentStatus(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	var incidentID int64
	if v := c.FormValue("incident_id"); v != "" {
		if incidentID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("console: incident %q: %w", v, store.ErrNotFound)
		}
	}
	w, err := s.st.SetComponentStatusBy(c.Request().Context(), p.OrgID, p.Actor(), id, c.FormValue("status"), incidentID, false)
	if err != nil {
		return err
	}
	s.pageChanged(c.Request().Context(), w.PageSlug)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/components/%d", id))
}
