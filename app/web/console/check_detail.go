package console

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"pharos/app/store"
	"pharos/probes"
	"pharos/views"
)

// The check detail's evidence: what each region and node saw last and why,
// how response times moved, the recent results, state changes, incidents
// and which certificate each node served when.

const (
	recentResults   = 20
	changesWindow   = 7 * 24 * time.Hour
	changesLimit    = 50
	incidentsLimit  = 20
	chartDayBuckets = time.Hour
)

// checkDetail reads the evidence of one check of the organisation.
func (s *Console) checkDetail(ctx context.Context, orgID int64, ch store.Check, now time.Time) (views.CheckDetail, error) {
	var x views.CheckDetail
	since, err := s.st.CheckStateSince(ctx, orgID, ch.ID)
	if err != nil {
		return x, err
	}
	if since != nil {
		x.StateSince = formatTime(*since)
	}
	latest, err := s.st.CheckLatestResults(ctx, orgID, ch.ID)
	if err != nil {
		return x, err
	}
	for _, l := range latest {
		r, problems, err := regionResult(l)
		if err != nil {
			return x, fmt.Errorf("console: check %d: %w", ch.ID, err)
		}
		x.Regions = append(x.Regions, r)
		x.Problems = append(x.Problems, problems...)
	}
	recent, err := s.st.RecentResults(ctx, orgID, ch.ID, recentResults)
	if err != nil {
		return x, err
	}
	for _, r := range recent {
		x.Recent = append(x.Recent, views.ResultRow{When: r.CheckedAt.Format("2006-01-02 15:04:05"), Region: r.Region,
			State: r.State, DurationMS: r.DurationMS, Problems: problemCodes(r.Problems)})
	}
	if x.Day, err = s.dayChart(ctx, orgID, ch.ID, now); err != nil {
		return x, err
	}
	if x.Week, err = s.weekChart(ctx, orgID, ch.ID, now); err != nil {
		return x, err
	}
	changes, err := s.st.RegionStateChanges(ctx, orgID, ch.ID, now.Add(-changesWindow), changesLimit)
	if err != nil {
		return x, err
	}
	for _, c := range changes {
		from := c.From
		if from == "" {
			from = "(first result in the window)"
		}
		x.Changes = append(x.Changes, views.StateChangeRow{When: c.At.Format("2006-01-02 15:04:05"), Region: c.Region, From: from, To: c.To})
	}
	incs, err := s.st.CheckIncidents(ctx, orgID, ch.ID, ch.ComponentID, incidentsLimit)
	if err != nil {
		return x, err
	}
	for _, in := range incs {
		row := views.CheckIncidentRow{ID: in.ID, Name: in.Name, Status: in.Status, Impact: in.Impact,
			Started: formatTime(in.StartedAt), Automatic: in.Automatic, Draft: in.Draft, Resolved: "open"}
		if in.ResolvedAt != nil {
			row.Resolved = formatTime(*in.ResolvedAt)
		}
		x.Incidents = append(x.Incidents, row)
	}
	certs, err := s.st.CheckCertHistory(ctx, orgID, ch.ID)
	if err != nil {
		return x, err
	}
	for _, c := range certs {
		x.Certs = append(x.Certs, views.CertHistoryRow{Region: c.Region, Node: c.Node, Subject: c.Subject, Issuer: c.Issuer,
			Serial: c.Serial, SHA256: c.SHA256, NotAfter: formatTime(c.NotAfter), FirstSeen: formatTime(c.FirstSeen),
			LastSeen: formatTime(c.LastSeen), Current: c.Current})
	}
	return x, nil
}

// regionResult turns a region's latest rows and stored result into its
// view and its problems.
func regionResult(l store.RegionLatest) (views.RegionResult, []views.ProblemRow, error) {
	r := views.RegionResult{Region: l.Region, State: l.State, CheckedAt: formatTime(l.CheckedAt)}
	var problems []probes.Problem
	if len(l.Problems) > 0 {
		if err := json.Unmarshal(l.Problems, &problems); err != nil {
			return r, nil, fmt.Errorf("problems from %s: %w", l.Region, err)
		}
	}
	var rows []views.ProblemRow
	for _, p := range problems {
		rows = append(rows, views.ProblemRow{Region: l.Region, Node: p.Node, Code: string(p.Code), Severity: string(p.Severity), Message: p.Message})
	}
	if l.Result == nil {
		r.Pruned = true
		for _, n := range l.Nodes {
			r.Nodes = append(r.Nodes, views.NodeResult{Address: n.Node, State: n.State})
		}
		return r, rows, nil
	}
	var res probes.Result
	if err := json.Unmarshal(l.Result, &res); err != nil {
		return r, nil, fmt.Errorf("result from %s: %w", l.Region, err)
	}
	r.Error = res.Error
	for _, n := range res.Nodes {
		v := views.NodeResult{Address: n.Address, State: string(n.State), StatusCode: n.StatusCode, DNS: n.Timings.DNS,
			Connect: n.Timings.Connect, TLS: n.Timings.TLS, TTFB: n.Timings.TTFB, Total: n.Timings.Total, Problems: len(n.Problems)}
		if t := n.TLS; t != nil {
			v.HasTLS, v.TLSVersion, v.Trusted = true, t.Version, t.ChainTrusted
			v.Subject, v.Issuer, v.SHA256 = t.Leaf.Subject, t.Leaf.Issuer, t.Leaf.SHA256
			v.NotAfter, v.DaysLeft = formatTime(t.Leaf.NotAfter), t.Leaf.DaysLeft
		}
		r.Nodes = append(r.Nodes, v)
	}
	return r, rows, nil
}

// problemCodes lists a result's problem codes, each once.
func problemCodes(raw []byte) string {
	var problems []probes.Problem
	if json.Unmarshal(raw, &problems) != nil {
		return ""
	}
	seen := map[probes.Code]bool{}
	var codes []string
	for _, p := range problems {
		if !seen[p.Code] {
			seen[p.Code] = true
			codes = append(codes, string(p.Code))
		}
	}
	return strings.Join(codes, ", ")
}

// dayChart is the last 24 hours per region, hour by hour, from results.
func (s *Console) dayChart(ctx context.Context, orgID, checkID int64, now time.Time) (views.LatencyChart, error) {
	from := now.Add(-24 * time.Hour).Truncate(chartDayBuckets)
	points, err := s.st.LatencyBuckets(ctx, orgID, checkID, from, chartDayBuckets)
	if err != nil {
		return views.LatencyChart{}, err
	}
	c := views.LatencyChart{ID: "chart-day", Title: "Last 24 hours, per region (hourly p50 and p95)", From: from, To: now}
	for _, p := range points {
		if len(c.Series) == 0 || c.Series[len(c.Series)-1].Name != p.Region {
			c.Series = append(c.Series, views.LatencySeries{Name: p.Region})
		}
		sr := &c.Series[len(c.Series)-1]
		sr.Points = append(sr.Points, views.LatencyPoint{Start: p.Start.Add(chartDayBuckets / 2), Label: p.Start.Format("Jan 2 15:04"),
			Count: p.Count, P50MS: p.P50MS, P95MS: p.P95MS})
	}
	return c, nil
}

// weekChart is the last 7 days, day by day, from daily rollups (all
// regions together: rollups are per check).
func (s *Console) weekChart(ctx context.Context, orgID, checkID int64, now time.Time) (views.LatencyChart, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -6)
	rollups, err := s.st.Rollups(ctx, orgID, checkID, from, today)
	if err != nil {
		return views.LatencyChart{}, err
	}
	c := views.LatencyChart{ID: "chart-week", Title: "Last 7 days, all regions (daily p50 and p95, from rollups)", From: from, To: today.Add(24 * time.Hour)}
	all := views.LatencySeries{Name: "all regions"}
	sort.Slice(rollups, func(i, j int) bool { return rollups[i].Day.Before(rollups[j].Day) })
	for _, r := range rollups {
		if r.Total-r.Down <= 0 {
			continue
		}
		all.Points = append(all.Points, views.LatencyPoint{Start: r.Day.Add(12 * time.Hour), Label: r.Day.Format("Mon Jan 2"),
			Count: r.Total - r.Down, P50MS: r.P50MS, P95MS: r.P95MS})
	}
	if len(all.Points) > 0 {
		c.Series = []views.LatencySeries{all}
	}
	return c, nil
}
