package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// deliveryLogSize is how many deliveries the log shows.
const deliveryLogSize = 200

// Deliveries is the delivery log: the latest notifications to
// subscribers, with their status, attempts and last answer.
func (s *Console) Deliveries(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	ds, err := s.st.Deliveries(c.Request().Context(), p.OrgID, deliveryLogSize)
	if err != nil {
		return err
	}
	rows := make([]views.DeliveryRow, 0, len(ds))
	for _, d := range ds {
		r := views.DeliveryRow{ID: d.ID, Event: d.EventKind, Channel: d.Channel, Recipient: d.Recipient, Status: d.Status,
			Attempts: d.Attempts, Code: d.ResponseCode, Error: d.LastError, Created: formatTime(d.CreatedAt)}
		if d.Status == "pending" {
			r.Next = formatTime(d.NextAttemptAt)
		}
		rows = append(rows, r)
	}
	return respond.Render(c, http.StatusOK, views.DeliveryLog(respond.Layout(c, "Delivery log"), adminNav(p), rows))
}
