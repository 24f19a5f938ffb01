package store

import (
	"context"
	"time"

	"pharos/app/incident"
)

// Uptime in time (DESIGN §5): a day's rollup records how long each check
// was monitored and how much of that it was degraded or down, replayed from
// the raw results by incident.Timeline. Rollups written before migration
// 0011 have no seconds and fall back to their result counts.

// maxLookback bounds how far before a day the replay reads results to
// learn the reports and confirm streaks the day starts with.
const maxLookback = 48 * time.Hour

// replayWindow is how far before a day the replay reads results, to learn
// the reports and confirm streaks the day starts with, and how far after
// it, as a result stands until the next one within two intervals.
func replayWindow(checks []Check) (before, after time.Duration) {
	for _, c := range checks {
		before = max(before, time.Duration(max(c.ConfirmRounds, incident.DefaultConfirm)+1)*c.Interval)
		after = max(after, 2*c.Interval)
	}
	return min(before, maxLookback), min(after, maxLookback)
}

// daySpan replays a check's results (oldest first, from around the day)
// for the time it was monitored, degraded and down during [from, to).
func daySpan(c Check, points []ResultPoint, from, to time.Time) incident.Span {
	samples := make([]incident.Sample, len(points))
	for i, p := range points {
		samples[i] = incident.Sample{Region: p.Region, State: incident.State(p.State), At: p.CheckedAt}
	}
	policy := incident.Policy{Quorum: c.Quorum, Confirm: c.ConfirmRounds}
	return incident.Timeline(samples, c.Regions, policy, c.Interval, from, to)
}

// seconds rounds a duration to whole seconds, as the rollups store it.
func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

// spanOf reads the nullable seconds columns of a rollup: nil for a row
// rolled up before they existed.
func spanOf(monitored, degraded, down *int64) *incident.Span {
	if monitored == nil {
		return nil
	}
	sp := incident.Span{Monitored: time.Duration(*monitored) * time.Second}
	if degraded != nil {
		sp.Degraded = time.Duration(*degraded) * time.Second
	}
	if down != nil {
		sp.Down = time.Duration(*down) * time.Second
	}
	return &sp
}

// nullSeconds is a span's column values, NULL for none.
func nullSeconds(sp *incident.Span) (monitored, degraded, down any) {
	if sp == nil {
		return nil, nil, nil
	}
	return seconds(sp.Monitored), seconds(sp.Degraded), seconds(sp.Down)
}

// DaysWithoutTime returns the days from since on (UTC) for which some of the
// organisation's rollups have no time, oldest first: days rolled up before
// migration 0011, which the housekeeper rolls up again while their raw
// results are kept.
func (s *Store) DaysWithoutTime(ctx context.Context, orgID int64, since time.Time) ([]time.Time, error) {
	dayCol := "day"
	if s.dialect == Postgres {
		dayCol = "to_char(day, 'YYYY-MM-DD')"
	}
	return collect(ctx, s.db, "days without time", func(row rowScanner) (time.Time, error) {
		var day any
		if err := row.Scan(&day); err != nil {
			return time.Time{}, err
		}
		return parseDay(day)
	}, s.q(`SELECT DISTINCT `+dayCol+` FROM daily_rollups WHERE org_id = ? AND day >= ? AND monitored_seconds IS NULL ORDER BY 1`),
		orgID, since.UTC().Format(dayLayout))
}
