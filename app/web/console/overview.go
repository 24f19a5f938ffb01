package console

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"pharos/app/store"
	"pharos/probes"
	"pharos/views"
)

// The overview at the top of the console's start page: open incidents,
// checks failing now, certificates expiring soonest and the probe regions.

const (
	// regionWindow is how far back the region tiles count results.
	regionWindow = 5 * time.Minute
	// expiringShown is how many certificates the overview lists.
	expiringShown = 10
)

// overview reads what needs attention in the organisation now. The reads
// are independent and run together: the page takes as long as the slowest
// (the certificates expiring soonest), not as long as all of them.
func (s *Console) overview(ctx context.Context, orgID int64, now time.Time) (views.Overview, error) {
	var (
		incs    []store.OpenIncidentBrief
		failing []store.FailingCheck
		certs   []store.InventoryCert
		regions []store.RegionStatus
		missed  map[string]int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { incs, err = s.st.OpenIncidentsBrief(gctx, orgID); return err })
	g.Go(func() (err error) { failing, err = s.st.FailingChecks(gctx, orgID); return err })
	g.Go(func() (err error) { certs, err = s.st.ExpiringCerts(gctx, orgID, expiringShown); return err })
	g.Go(func() (err error) {
		if regions, err = s.st.RegionStatuses(gctx, orgID, now.Add(-regionWindow)); err != nil {
			return err
		}
		missed, err = s.st.MissedRoundsSince(gctx, orgID, now.Add(-24*time.Hour))
		return err
	})
	o := views.Overview{RecentWindow: "5 minutes"}
	if err := g.Wait(); err != nil {
		return o, err
	}
	for _, in := range incs {
		o.OpenIncidents = append(o.OpenIncidents, views.IncidentRow{ID: in.ID, PageTitle: in.PageTitle, Name: in.Name,
			Status: in.Status, Impact: in.Impact, Started: formatTime(in.StartedAt), Automatic: in.Automatic})
	}
	for _, c := range failing {
		row := views.FailingCheckRow{ID: c.ID, Name: c.Name, Page: c.PageTitle, Component: c.ComponentName, State: c.State,
			Paused: !c.Enabled, Problems: regionProblems(c.Problems)}
		if c.Since != nil {
			row.Since = formatTime(*c.Since)
		}
		o.Failing = append(o.Failing, row)
	}
	for _, c := range certs {
		o.Expiring = append(o.Expiring, certRow(c, now))
	}
	for _, r := range regions {
		row := regionRow(r, now)
		row.Missed = missed[r.Region]
		o.Regions = append(o.Regions, row)
	}
	return o, nil
}

// unreported lists the enabled checks of pages that no probe has reported
// on yet (state unknown: just added, or no worker serves their regions),
// and counts the enabled checks. A paused check is not waiting to report.
func unreported(pages []views.AdminPage) (rows []views.CheckRef, enabled int) {
	for _, pg := range pages {
		for _, c := range pg.Checks {
			if !c.Enabled {
				continue
			}
			enabled++
			if c.State == string(probes.StateUnknown) {
				rows = append(rows, views.CheckRef{ID: c.ID, Name: c.Name, Page: c.PageTitle, Component: c.ComponentName})
			}
		}
	}
	return rows, enabled
}

// regionRow is a probe region as the overview shows it.
func regionRow(r store.RegionStatus, now time.Time) views.RegionHealthRow {
	row := views.RegionHealthRow{Region: r.Region, Health: r.OrgHealth(), Reason: r.Reason, Recent: r.Org.Recent,
		LastResult: "never", Workers: len(r.Workers)}
	if r.Org.LastResult != nil {
		row.LastResult = ago(now, *r.Org.LastResult)
	}
	if r.Org.Changed != nil {
		row.Changed = formatTime(*r.Org.Changed)
	}
	switch state, errText, _ := r.Canary(); {
	case state == "":
	case state == string(probes.StateDown) || state == string(probes.StateUnknown):
		row.Canary = "unreachable"
		if errText != "" {
			row.Canary += ": " + errText
		}
	default:
		row.Canary = "reached"
	}
	return row
}

// regionProblems words each region's problem codes: "fra: cert_expired,
// nodes_disagree; nyc: timeout".
func regionProblems(byRegion map[string][]byte) string {
	regions := make([]string, 0, len(byRegion))
	for r := range byRegion {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	var parts []string
	for _, r := range regions {
		var problems []probes.Problem
		if json.Unmarshal(byRegion[r], &problems) != nil || len(problems) == 0 {
			continue
		}
		parts = append(parts, r+": "+problemCodes(byRegion[r]))
	}
	return strings.Join(parts, "; ")
}

// ago words how long before now t was, coarsely.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return formatCount(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return formatCount(int(d/time.Hour), "hour") + " ago"
	}
	return formatTime(t) + " UTC"
}

func formatCount(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// certRow is a certificate of the inventory as the console shows it.
func certRow(c store.InventoryCert, now time.Time) views.CertRow {
	r := views.CertRow{SHA256: c.SHA256, Subject: c.Subject, DNSNames: strings.Join(c.DNSNames, ", "), Issuer: c.Issuer,
		Serial: c.Serial, NotBefore: formatTime(c.NotBefore), NotAfter: formatTime(c.NotAfter), DaysLeft: c.DaysLeft(now),
		UsedPercent: int(c.LifetimeUsed(now)*100 + 0.5), Nodes: c.Nodes, Regions: c.Regions,
		FirstSeen: formatTime(c.FirstSeen), LastSeen: formatTime(c.LastSeen), Current: c.Current,
		NodesDisagree: c.NodesDisagree, RenewalOverdue: c.RenewalOverdue(now), IssuerChanged: c.IssuerChanged}
	for _, ch := range c.Checks {
		r.Checks = append(r.Checks, views.CertCheckLink{ID: ch.ID, Name: ch.Name})
	}
	return r
}
