package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
)

// Certificates is GET /api/v1/certificates: the organisation's certificate
// inventory, narrowed by ?expiring=N (days) and ?filter=nodes_disagree|
// renewal_overdue|issuer_changed — the console's JSON export.
func (s *API) Certificates(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	f, err := store.ParseCertFilter(c.QueryParam("expiring"), c.QueryParam("filter"))
	if fe := (*store.CertFilterError)(nil); errors.As(err, &fe) {
		return &respond.ValidationError{Field: fe.Field, Message: fe.Message}
	} else if err != nil {
		return err
	}
	all, err := s.st.CertInventory(c.Request().Context(), p.OrgID)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return c.JSON(http.StatusOK, store.ExportCerts(store.FilterCerts(all, f, now), now))
}
