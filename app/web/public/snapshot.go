package public

import (
	"context"
	"sort"
	"time"
	_ "time/tzdata" // page time zones resolve where the OS has no zoneinfo (static images)

	"pharos/app/store"
)

// barDays is the length of the uptime bars.
const barDays = 90

// recentIncidents is how many incidents incidents.json and the feeds list,
// as on Statuspage.
const recentIncidents = 50

// snapshot is everything the status page, its API, feeds and badge show,
// read in one go. It is immutable once loaded.
type snapshot struct {
	page        store.Page
	groups      []store.PublicGroup
	components  []store.PublicComponent
	days        map[int64][]store.ComponentDay
	unjudged    map[int64]bool         // components with checks none of which was judged yet
	incidents   []store.PublicIncident // unresolved, recent and those touching the bars' days; newest first
	maintenance []store.MaintenanceWindow
	loadedAt    time.Time
	// today is the last day of the bars (UTC midnight).
	today time.Time
	// loc is the page's time zone: the HTML shows times in it.
	loc *time.Location
	// maintenanceUpdates are the recent steps of maintenance runs, newest first.
	maintenanceUpdates []store.MaintenanceUpdate
}

// pageLocation is the page's time zone, UTC when it does not resolve
// (apply refuses such a zone; an older row may still hold one).
func pageLocation(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" && name != "Local" {
		return loc
	}
	return time.UTC
}

// loadSnapshot reads a page's public data. An event published during the
// read marks the page dirty again (pageState clears the flag first).
func (s *Site) loadSnapshot(ctx context.Context, slug string) (*snapshot, error) {
	page, err := s.st.PageBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	from := today.AddDate(0, 0, -(barDays - 1))
	snap := &snapshot{page: page, loadedAt: now, today: today, loc: pageLocation(page.TimeZone)}
	if snap.groups, err = s.st.PublicGroups(ctx, page.OrgID, page.ID); err != nil {
		return nil, err
	}
	if snap.components, err = s.st.PublicComponents(ctx, page.OrgID, page.ID); err != nil {
		return nil, err
	}
	if snap.days, err = s.st.ComponentDays(ctx, page.OrgID, page.ID, from, today); err != nil {
		return nil, err
	}
	if snap.unjudged, err = s.st.UnjudgedComponents(ctx, page.OrgID, page.ID); err != nil {
		return nil, err
	}
	recent, err := s.st.PublicIncidents(ctx, page.OrgID, page.ID, store.IncidentFilter{Limit: recentIncidents})
	if err != nil {
		return nil, err
	}
	open, err := s.st.PublicIncidents(ctx, page.OrgID, page.ID, store.IncidentFilter{OpenSince: from})
	if err != nil {
		return nil, err
	}
	snap.incidents = mergeIncidents(recent, open)
	if snap.maintenance, err = s.st.PublicMaintenance(ctx, page.OrgID, page.ID); err != nil {
		return nil, err
	}
	if snap.maintenanceUpdates, err = s.st.MaintenanceUpdates(ctx, page.OrgID, page.ID, 0, recentMaintenanceUpdates); err != nil {
		return nil, err
	}
	return snap, nil
}

// mergeIncidents unions incident lists by id, newest first.
func mergeIncidents(lists ...[]store.PublicIncident) []store.PublicIncident {
	seen := map[int64]bool{}
	var out []store.PublicIncident
	for _, l := range lists {
		for _, in := range l {
			if !seen[in.ID] {
				seen[in.ID] = true
				out = append(out, in)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].StartedAt.Equal(out[j].StartedAt) {
			return out[i].StartedAt.After(out[j].StartedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// unresolved returns the snapshot's unresolved incidents, newest first.
func (sn *snapshot) unresolved() []store.PublicIncident {
	var out []store.PublicIncident
	for _, in := range sn.incidents {
		if in.ResolvedAt == nil && in.Status != store.IncidentResolved && in.Status != store.IncidentPostmortem {
			out = append(out, in)
		}
	}
	return out
}

// recent returns the most recent incidents, newest first.
func (sn *snapshot) recent() []store.PublicIncident {
	return sn.incidents[:min(len(sn.incidents), recentIncidents)]
}

// updatedAt is the newest change the snapshot shows.
func (sn *snapshot) updatedAt() time.Time {
	t := sn.page.UpdatedAt
	for _, c := range sn.components {
		t = later(t, c.UpdatedAt)
	}
	for _, g := range sn.groups {
		t = later(t, g.UpdatedAt)
	}
	for _, in := range sn.incidents {
		t = later(t, in.UpdatedAt)
	}
	for _, m := range sn.maintenance {
		t = later(t, m.UpdatedAt)
	}
	return t
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
