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
	page       store.Page
	groups     []store.PublicGroup
	components []store.PublicComponent
	days       map[int64][]store.ComponentDay
	// daysReadAt is when days were last read whole; a reload on the TTL
	// alone reads only the days a rollup still changes (reuseDays).
	daysReadAt  time.Time
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

// daysReread bounds how long a page's older uptime days are reused
// across reloads before they are read whole again.
const daysReread = 10 * time.Minute

// loadSnapshot reads a page's public data. An event published during the
// read marks the page dirty again (pageState clears the flag first). prev,
// when not nil, is the state a reload on the TTL alone replaces: its
// uptime days before yesterday are reused (reuseDays).
func (s *Site) loadSnapshot(ctx context.Context, slug string, prev *snapshot) (*snapshot, error) {
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
	if err := s.loadDays(ctx, snap, prev, from); err != nil {
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

// loadDays reads the uptime bars' days. The daily rollup rewrites only
// today and yesterday, so a reload on the TTL alone (prev set: no event
// since prev was read) of the same page, bars and components reads those
// two days and keeps prev's older ones: for a page of 1,000 components
// that is 2,000 rows instead of 90,000 every publicTTL. Anything else, and
// every daysReread, reads them whole.
func (s *Site) loadDays(ctx context.Context, snap, prev *snapshot, from time.Time) error {
	if reuseDays(prev, snap) {
		yesterday := snap.today.AddDate(0, 0, -1)
		recent, err := s.st.ComponentDays(ctx, snap.page.OrgID, snap.page.ID, yesterday, snap.today)
		if err != nil {
			return err
		}
		snap.days, snap.daysReadAt = mergeDays(prev.days, recent, yesterday), prev.daysReadAt
		return nil
	}
	days, err := s.st.ComponentDays(ctx, snap.page.OrgID, snap.page.ID, from, snap.today)
	if err != nil {
		return err
	}
	snap.days, snap.daysReadAt = days, snap.loadedAt
	return nil
}

// reuseDays reports whether next may keep prev's older days: same page,
// same last day, same components, and read whole recently enough.
func reuseDays(prev, next *snapshot) bool {
	if prev == nil || prev.page.ID != next.page.ID || !prev.today.Equal(next.today) ||
		next.loadedAt.Sub(prev.daysReadAt) >= daysReread || len(prev.components) != len(next.components) {
		return false
	}
	for i := range prev.components {
		if prev.components[i].ID != next.components[i].ID {
			return false
		}
	}
	return true
}

// mergeDays is old's days before since, then recent's days, per component.
func mergeDays(old, recent map[int64][]store.ComponentDay, since time.Time) map[int64][]store.ComponentDay {
	out := make(map[int64][]store.ComponentDay, max(len(old), len(recent)))
	for id, days := range old {
		keep := days[:0:0]
		for _, d := range days {
			if d.Day.Before(since) {
				keep = append(keep, d)
			}
		}
		out[id] = append(keep, recent[id]...)
	}
	for id, days := range recent {
		if _, ok := old[id]; !ok {
			out[id] = days
		}
	}
	return out
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
