package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// RunNowFunc queues an immediate probe of a check in each of its regions,
// ahead of scheduled jobs. It returns store.ErrNotFound for a check outside
// the organisation.
type RunNowFunc func(ctx context.Context, orgID, checkID int64) error

// adminRunCheck is the console's "Run now" button.
func (s *Server) adminRunCheck(c echo.Context) error {
	id, err := s.runCheck(c)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/checks/%d?queued=1", id))
}

// apiRunCheck answers 202: the probe runs within seconds, its result
// arrives through the pipeline like any other.
func (s *Server) apiRunCheck(c echo.Context) error {
	id, err := s.runCheck(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"queued": true, "check_id": id})
}

func (s *Server) runCheck(c echo.Context) (int64, error) {
	p, id, err := principalAndID(c)
	if err != nil {
		return 0, err
	}
	if s.opts.RunNow == nil {
		return 0, echo.NewHTTPError(http.StatusServiceUnavailable, "this process cannot queue probes (no bus)")
	}
	ctx := c.Request().Context()
	if _, err := s.st.Check(ctx, p.OrgID, id); err != nil {
		return 0, err
	}
	if err := s.opts.RunNow(ctx, p.OrgID, id); err != nil {
		return 0, fmt.Errorf("web: run check %d now: %w", id, err)
	}
	if err := s.st.Audit(ctx, p.OrgID, p.actor(), "check.run_now", fmt.Sprintf("check %d", id), nil); err != nil {
		return 0, err
	}
	return id, nil
}
