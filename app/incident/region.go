package incident

import (
	"fmt"
	"slices"
	"sort"
)

// Observation is one region's latest result for one target (a check) in the
// current window.
type Observation struct {
	Region string
	Target int64
	Failed bool // the probe reported down
}

// Beacon is what one probe worker last said about itself in the window: it
// is alive in Region and, when a canary is configured, whether it reached
// the canary (CanaryProbed false: no canary was probed).
type Beacon struct {
	Region       string
	CanaryProbed bool
	CanaryOK     bool
}

// RegionHealthPolicy tunes when a region is judged unhealthy.
type RegionHealthPolicy struct {
	// MinTargets is how many distinct targets a region must have probed in
	// the window before its results alone can judge it (default 3): with
	// fewer, a real outage of one site would look like a broken region.
	MinTargets int
	// FailFraction is the share of its targets a region must see failing
	// (default 0.5, i.e. more than half).
	FailFraction float64
}

// Health is the verdict on a probe region.
type Health string

// The verdicts. An unjudged region's reports are not yet a vote: they count
// for nothing until the region is judged healthy (DESIGN §4).
const (
	Healthy   Health = "healthy"
	Unhealthy Health = "unhealthy"
	Unjudged  Health = "unjudged"
)

// RegionJudgement is one region's verdict and why, for operators.
type RegionJudgement struct {
	Health Health
	Reason string
}

// JudgeRegions judges every region seen in obs or beacons (DESIGN §4). A
// region's network is shared by every organisation, so obs are the latest
// results of all of them; beacons add each worker's canary, a control-plane
// URL every worker probes each round.
//
// A region is unhealthy when it cannot reach the canary another region
// reaches, or when it sees most of its targets fail while other regions
// reach most of those same targets. It is healthy when it reaches the
// canary, when most of its targets are up, when the regions that share its
// failing targets see them fail too (the targets are down), or when it is
// the only region there is. Otherwise — at start-up, before the others have
// reported what it failed on — it is unjudged, and its word does not count.
//
// known are regions the checks are configured for: one without any word
// yet is unjudged, and keeps a region that reports first from passing for
// the only one.
//
// Without a canary (none configured, or two or more regions probe it and
// none reaches it) and with fewer than MinTargets targets in all, no region
// could ever be judged from results: each is then healthy, as a deployment
// that small cannot be protected without a working canary.
func JudgeRegions(obs []Observation, beacons []Beacon, known []string, p RegionHealthPolicy) map[string]RegionJudgement {
	if p.MinTargets <= 0 {
		p.MinTargets = 3
	}
	if p.FailFraction <= 0 {
		p.FailFraction = 0.5
	}
	regions := map[string]bool{}
	for _, r := range known {
		regions[r] = true
	}
	canary := map[string]bool{} // region → reached the canary (present: probed)
	for _, b := range beacons {
		regions[b.Region] = true
		if b.CanaryProbed {
			canary[b.Region] = canary[b.Region] || b.CanaryOK
		}
	}
	byRegion, targets := latestByRegion(obs)
	for r := range byRegion {
		regions[r] = true
	}
	out := make(map[string]RegionJudgement, len(regions))
	for region := range regions {
		c := canaryVerdict(region, canary)
		r := resultsVerdict(region, byRegion, p)
		switch {
		case c.Health == Unhealthy:
			out[region] = c
		case r.Health == Unhealthy:
			out[region] = r
		case c.Health == Healthy:
			out[region] = c
		case r.Health == Healthy:
			out[region] = r
		case len(regions) == 1:
			out[region] = RegionJudgement{Healthy, "the only probe region: nothing to compare it with"}
		case len(targets) < p.MinTargets && !canaryUsable(canary):
			out[region] = RegionJudgement{Healthy, fmt.Sprintf("fewer than %d targets and no canary: cannot be judged", p.MinTargets)}
		case byRegion[region] == nil && !hasBeacon(beacons, region):
			out[region] = RegionJudgement{Unjudged, "no word from this region lately (no results, no worker beacons): is a probe worker running there?"}
		default:
			out[region] = RegionJudgement{Unjudged, "not judged yet: waiting for other regions or the canary"}
		}
	}
	return out
}

// hasBeacon reports whether a worker of region sent a beacon.
func hasBeacon(beacons []Beacon, region string) bool {
	return slices.ContainsFunc(beacons, func(b Beacon) bool { return b.Region == region })
}

// canaryUsable reports whether the canary can judge anyone yet: a region
// reaches it, or only one region has probed it so far (the others' word
// is awaited). Two or more regions failing it and none reaching it means
// the canary itself is down.
func canaryUsable(canary map[string]bool) bool {
	for _, ok := range canary {
		if ok {
			return true
		}
	}
	return len(canary) == 1
}

// UnhealthyRegions lists the unhealthy regions of a judgement, sorted.
func UnhealthyRegions(j map[string]RegionJudgement) []string {
	var out []string
	for r, v := range j {
		if v.Health == Unhealthy {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// canaryVerdict judges a region by the canary alone; Unjudged when the
// canary says nothing (not probed, or unreachable from every region).
func canaryVerdict(region string, canary map[string]bool) RegionJudgement {
	ok, probed := canary[region]
	switch {
	case !probed:
		return RegionJudgement{Health: Unjudged}
	case ok:
		return RegionJudgement{Healthy, "reaches the canary"}
	}
	var others []string
	for r, rok := range canary {
		if r != region && rok {
			others = append(others, r)
		}
	}
	if len(others) == 0 {
		return RegionJudgement{Health: Unjudged}
	}
	sort.Strings(others)
	return RegionJudgement{Unhealthy, fmt.Sprintf("cannot reach the canary, which %s reaches", others[0])}
}

// latestByRegion keeps each region's latest observation per target, and
// returns the distinct targets.
func latestByRegion(obs []Observation) (map[string]map[int64]bool, map[int64]bool) {
	byRegion := map[string]map[int64]bool{} // region → target → failed
	targets := map[int64]bool{}
	for _, o := range obs {
		m := byRegion[o.Region]
		if m == nil {
			m = map[int64]bool{}
			byRegion[o.Region] = m
		}
		m[o.Target] = o.Failed
		targets[o.Target] = true
	}
	return byRegion, targets
}

// resultsVerdict judges a region by its results compared with the other
// regions' on the same targets; Unjudged when they cannot tell.
func resultsVerdict(region string, byRegion map[string]map[int64]bool, p RegionHealthPolicy) RegionJudgement {
	mine := byRegion[region]
	if len(mine) < p.MinTargets {
		return RegionJudgement{Health: Unjudged}
	}
	var failed, contradicted, comparable int
	for t, f := range mine {
		if !f {
			continue
		}
		failed++
		seen, up := false, false
		for other, theirs := range byRegion {
			if other == region {
				continue
			}
			if of, ok := theirs[t]; ok {
				seen = true
				up = up || !of
			}
		}
		if seen {
			comparable++
		}
		if up {
			contradicted++
		}
	}
	switch {
	case float64(failed) <= p.FailFraction*float64(len(mine)):
		return RegionJudgement{Healthy, fmt.Sprintf("%d of %d targets up", len(mine)-failed, len(mine))}
	case 2*contradicted > failed:
		return RegionJudgement{Unhealthy, fmt.Sprintf("%d of %d targets fail that other regions reach", contradicted, len(mine))}
	case 2*comparable > failed:
		return RegionJudgement{Healthy, "its failing targets fail from other regions too"}
	}
	return RegionJudgement{Health: Unjudged}
}
