package incident

import (
	"slices"
	"time"
)

// Uptime is measured in time, not in results (DESIGN §5): a check's raw
// results are replayed through Evaluate to recover the state the public
// saw at every moment, and only the moments with a verdict count.

// Sample is one region's result of a check, replayed for uptime.
type Sample struct {
	Region string
	State  State
	At     time.Time
}

// Span is how long a check was monitored in a period, and how much of that
// it spent degraded or down; the rest of Monitored it was up. Time without
// a live result is in none of them.
type Span struct {
	Monitored time.Duration
	Degraded  time.Duration
	Down      time.Duration
}

// Add returns the sum of two spans.
func (s Span) Add(o Span) Span {
	return Span{Monitored: s.Monitored + o.Monitored, Degraded: s.Degraded + o.Degraded, Down: s.Down + o.Down}
}

// Uptime is the share of monitored time that was not down, in percent, and
// false when nothing was monitored (no data, which is neither up nor down).
func (s Span) Uptime() (float64, bool) {
	if s.Monitored <= 0 {
		return 0, false
	}
	return 100 * float64(s.Monitored-s.Down) / float64(s.Monitored), true
}

// Timeline returns how the check fared during [from, to), from its
// samples sorted by time. Samples before from only set the scene: the
// reports and confirm streaks the period starts with.
//
// A sample stands for its region until the region's next sample when that
// comes within two intervals (one lost round leaves no gap), otherwise for
// one interval: a region that went quiet stops counting as monitored. At
// every moment the standing samples are judged with Evaluate under the
// check's regions and policy, as the aggregator judges them (so a single
// down round is degraded, and down begins when the confirm rounds are
// met); a moment with no standing sample is unmonitored. Region health is
// not replayed: every region counts as healthy. Samples from regions
// outside a non-empty regions list are ignored, as the aggregator ignores
// them.
func Timeline(samples []Sample, regions []string, p Policy, interval time.Duration, from, to time.Time) Span {
	if interval <= 0 {
		interval = time.Minute
	}
	kept := make([]Sample, 0, len(samples))
	for _, s := range samples {
		if len(regions) == 0 || slices.Contains(regions, s.Region) {
			kept = append(kept, s)
		}
	}
	ends := standUntil(kept, interval)

	type standing struct {
		report Report
		end    time.Time
	}
	latest := map[string]standing{}
	var span Span
	var reports []Report
	var seen []string
	i := 0
	before := Unknown // the state judged over the previous span
	for cur := from; cur.Before(to); {
		for ; i < len(kept) && !kept[i].At.After(cur); i++ {
			s, prev := kept[i], latest[kept[i].Region].report
			latest[s.Region] = standing{end: ends[i],
				report: Report{Region: s.Region, State: s.State, Streak: NextStreak(prev.State, prev.Streak, s.State)}}
		}
		next := to
		if i < len(kept) && kept[i].At.Before(next) {
			next = kept[i].At
		}
		reports, seen = reports[:0], seen[:0]
		for _, l := range latest {
			if !l.end.After(cur) {
				continue
			}
			reports, seen = append(reports, l.report), append(seen, l.report.Region)
			if l.end.Before(next) {
				next = l.end
			}
		}
		judged := regions
		if len(judged) == 0 {
			judged = seen
		}
		d := next.Sub(cur)
		state := Evaluate(before, reports, judged, nil, p).State
		before = state
		switch state {
		case Up:
			span.Monitored += d
		case Degraded:
			span.Monitored += d
			span.Degraded += d
		case Down:
			span.Monitored += d
			span.Down += d
		}
		cur = next
	}
	return span
}

// standUntil returns when each sample stops standing for its region: at
// the region's next sample if that comes within two intervals, else one
// interval after it.
func standUntil(samples []Sample, interval time.Duration) []time.Time {
	ends := make([]time.Time, len(samples))
	last := map[string]int{}
	for i, s := range samples {
		ends[i] = s.At.Add(interval)
		if j, ok := last[s.Region]; ok && s.At.Sub(samples[j].At) <= 2*interval {
			ends[j] = s.At
		}
		last[s.Region] = i
	}
	return ends
}
