package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// Subscribers shows the organisation's subscriber counts per page and,
// with ?page=ID, that page's subscribers.
func (s *Console) Subscribers(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pages, err := s.st.Pages(ctx, p.OrgID)
	if err != nil {
		return err
	}
	counts, err := s.st.SubscriberCounts(ctx, p.OrgID)
	if err != nil {
		return err
	}
	d := views.SubscribersData{Nav: adminNav(p), EmailOff: s.emailOff}
	for _, pg := range pages {
		n := counts[pg.ID]
		d.Pages = append(d.Pages, views.SubscriberCountRow{Page: pageOption(pg), Email: n.Email, Webhook: n.Webhook, Pending: n.Pending})
	}
	if raw := c.QueryParam("page"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("console: page %q: %w", raw, store.ErrNotFound)
		}
		pg, err := s.st.Page(ctx, p.OrgID, id)
		if err != nil {
			return err
		}
		if d.Subscribers, err = s.subscriberRows(c, p.OrgID, pg); err != nil {
			return err
		}
		d.Page = pageOption(pg)
	}
	return respond.Render(c, http.StatusOK, views.Subscribers(respond.Layout(c, "Subscribers"), d))
}

func (s *Console) subscriberRows(c echo.Context, orgID int64, pg store.Page) ([]views.SubscriberRow, error) {
	ctx := c.Request().Context()
	subs, err := s.st.Subscribers(ctx, orgID, pg.ID)
	if err != nil {
		return nil, err
	}
	comps, err := s.st.Components(ctx, orgID, pg.ID)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(comps))
	for _, co := range comps {
		names[co.ID] = co.Name
	}
	rows := make([]views.SubscriberRow, 0, len(subs))
	for _, sub := range subs {
		scope := "whole page"
		if len(sub.ComponentIDs) > 0 {
			list := make([]string, 0, len(sub.ComponentIDs))
			for _, id := range sub.ComponentIDs {
				list = append(list, names[id])
			}
			scope = strings.Join(list, ", ")
		}
		rows = append(rows, views.SubscriberRow{ID: sub.ID, Kind: string(sub.Kind), Address: sub.Address,
			State: sub.Status(), Components: scope, Created: formatTime(sub.CreatedAt)})
	}
	return rows, nil
}

// DeleteSubscriber removes a subscriber for good (with an audit row).
func (s *Console) DeleteSubscriber(c echo.Context) error {
	p, id, err := auth.PrincipalAndID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sub, err := s.st.Subscriber(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.DeleteSubscriber(ctx, p.OrgID, sub.PageID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, p.OrgID, p.Actor(), "subscriber.delete", fmt.Sprintf("subscriber %d", id),
			map[string]any{"page_id": sub.PageID, "mode": string(sub.Kind)})
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/subscribers?page=%d", sub.PageID))
}
