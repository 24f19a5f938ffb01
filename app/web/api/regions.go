package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
)

// regionWindow is how far back GET /api/v1/regions counts workers and
// results.
const regionWindow = 5 * time.Minute

// regionJSON is one probe region in GET /api/v1/regions.
type regionJSON struct {
	Region string `json:"region"`
	// Health is healthy, unhealthy or unjudged (not judged yet: its
	// reports do not count); Reason says why.
	Health    string     `json:"health"`
	Reason    string     `json:"reason"`
	ChangedAt *time.Time `json:"changed_at"`
	JudgedAt  *time.Time `json:"judged_at"`
	// Canary is the newest canary probe of the region's workers: state
	// up, degraded or down, "" when no canary is configured.
	Canary struct {
		State     string     `json:"state"`
		Error     string     `json:"error"`
		CheckedAt *time.Time `json:"checked_at"`
	} `json:"canary"`
	Workers []workerJSON `json:"workers"`
	// Results counts the organisation's results from the region in the
	// last five minutes; LastResultAt is its newest.
	Results      int        `json:"results_5m"`
	LastResultAt *time.Time `json:"last_result_at"`
	// MissedRounds counts the organisation's check rounds from the region
	// that never reported in the last 24 hours (a bus that lost its data,
	// jobs dropped late).
	MissedRounds int `json:"missed_rounds_24h"`
}

type workerJSON struct {
	Name   string    `json:"name"`
	SeenAt time.Time `json:"seen_at"`
}

// Regions is GET /api/v1/regions: every probe region's health — judged
// across all organisations from their results and the workers' canary —
// its workers seen in the last five minutes, and the organisation's
// results from it and rounds it missed.
func (s *API) Regions(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	ctx := c.Request().Context()
	regions, err := s.st.RegionStatuses(ctx, p.OrgID, now.Add(-regionWindow))
	if err != nil {
		return err
	}
	missed, err := s.st.MissedRoundsSince(ctx, p.OrgID, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	out := make([]regionJSON, 0, len(regions))
	for _, r := range regions {
		j := regionOut(r)
		j.MissedRounds = missed[r.Region]
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{"regions": out})
}

func regionOut(r store.RegionStatus) regionJSON {
	j := regionJSON{Region: r.Region, Health: r.OrgHealth(), Reason: r.Reason, Results: r.Org.Recent,
		LastResultAt: r.Org.LastResult, Workers: []workerJSON{}}
	if !r.JudgedAt.IsZero() {
		j.ChangedAt, j.JudgedAt = timePtr(r.ChangedAt), timePtr(r.JudgedAt)
	}
	if r.Org.Changed != nil && (j.ChangedAt == nil || r.Org.Changed.After(*j.ChangedAt)) && j.Health != r.RegionVerdict.Health {
		j.ChangedAt = r.Org.Changed // the organisation's record decides the health shown
	}
	state, errText, at := r.Canary()
	j.Canary.State, j.Canary.Error = state, errText
	if state != "" {
		j.Canary.CheckedAt = timePtr(at)
	}
	for _, w := range r.Workers {
		j.Workers = append(j.Workers, workerJSON{Name: w.Worker, SeenAt: w.SeenAt})
	}
	return j
}

func timePtr(t time.Time) *time.Time { return &t }
