package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
)

// v1ComponentIn is the body of PATCH …/components/{id}. Only the status
// is written; the other fields Statuspage accepts (name, description,
// group_id, showcase, …) belong to the page's configuration (`pharos
// apply`) and are ignored here.
type v1ComponentIn struct {
	Status *string `json:"status"`
}

// V1Components lists the page's components in display order.
func (s *API) V1Components(c echo.Context) error {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return err
	}
	_, list, err := s.pageComponents(c.Request().Context(), p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	out := make([]v1Component, 0, len(list))
	for _, pc := range list {
		out = append(out, toV1PublicComponent(pc))
	}
	return c.JSON(http.StatusOK, out)
}

// componentOnPage reads {component_id} of the page: another page's or
// another organisation's component is ErrNotFound.
func (s *API) componentOnPage(c echo.Context) (*auth.Principal, store.Page, store.PublicComponent, error) {
	p, pg, err := s.v1Page(c)
	if err != nil {
		return nil, store.Page{}, store.PublicComponent{}, err
	}
	id, err := parseID(c, "component_id")
	if err != nil {
		return nil, store.Page{}, store.PublicComponent{}, err
	}
	comps, _, err := s.pageComponents(c.Request().Context(), p.OrgID, pg.ID)
	if err != nil {
		return nil, store.Page{}, store.PublicComponent{}, err
	}
	pc, ok := comps[id]
	if !ok {
		return nil, store.Page{}, store.PublicComponent{}, &notOnPage{what: "component", id: c.Param("component_id")}
	}
	return p, pg, pc, nil
}

// V1Component answers one component.
func (s *API) V1Component(c echo.Context) error {
	_, _, pc, err := s.componentOnPage(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toV1PublicComponent(pc))
}

// V1UpdateComponent sets a component's status by hand (PATCH or PUT),
// audited and told to subscribers.
func (s *API) V1UpdateComponent(c echo.Context) error {
	p, pg, pc, err := s.componentOnPage(c)
	if err != nil {
		return err
	}
	var in v1ComponentIn
	if err := decodeWrapped(c, "component", &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if in.Status != nil {
		if *in.Status == "" {
			return &respond.ValidationError{Field: "status", Message: "want operational, degraded_performance, partial_outage, major_outage or under_maintenance"}
		}
		w, err := s.st.SetComponentStatusBy(ctx, p.OrgID, p.Actor(), pc.ID, *in.Status, 0, true)
		if err != nil {
			return asValidation(err)
		}
		s.pageChanged(ctx, w.PageSlug)
	}
	comps, _, err := s.pageComponents(ctx, p.OrgID, pg.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toV1PublicComponent(comps[pc.ID]))
}
