package incident

import "sort"

// Observation is one region's latest result for one target (a check) in the
// current window.
type Observation struct {
	Region string
	Target int64
	Failed bool // the probe reported down
}

// RegionHealthPolicy tunes when a region is judged unhealthy.
type RegionHealthPolicy struct {
	// MinTargets is how many distinct targets a region must have probed in
	// the window before it can be judged (default 3): with fewer, a real
	// outage of one site would look like a broken region.
	MinTargets int
	// FailFraction is the share of its targets a region must see failing
	// (default 0.5, i.e. more than half).
	FailFraction float64
}

// RegionHealth returns the unhealthy regions, sorted (DESIGN §4): a region
// is unhealthy when it sees most of its distinct targets fail in the window
// while other regions see most of those same targets up. If every region
// sees the targets fail, the targets are down, not the regions.
func RegionHealth(obs []Observation, p RegionHealthPolicy) []string {
	if p.MinTargets <= 0 {
		p.MinTargets = 3
	}
	if p.FailFraction <= 0 {
		p.FailFraction = 0.5
	}
	type key struct {
		region string
		target int64
	}
	failed := map[key]bool{}
	byRegion := map[string][]int64{}
	upElsewhere := map[int64]map[string]bool{} // target -> regions that see it up
	for _, o := range obs {
		k := key{o.Region, o.Target}
		if _, seen := failed[k]; !seen {
			byRegion[o.Region] = append(byRegion[o.Region], o.Target)
		}
		failed[k] = o.Failed
		if !o.Failed {
			if upElsewhere[o.Target] == nil {
				upElsewhere[o.Target] = map[string]bool{}
			}
			upElsewhere[o.Target][o.Region] = true
		}
	}
	var unhealthy []string
	for region, targets := range byRegion {
		if len(targets) < p.MinTargets {
			continue
		}
		var nFailed, contradicted int
		for _, t := range targets {
			if !failed[key{region, t}] {
				continue
			}
			nFailed++
			for other := range upElsewhere[t] {
				if other != region {
					contradicted++
					break
				}
			}
		}
		if float64(nFailed) <= p.FailFraction*float64(len(targets)) {
			continue
		}
		// Most of the failures must be contradicted by another region.
		if float64(contradicted) > 0.5*float64(nFailed) {
			unhealthy = append(unhealthy, region)
		}
	}
	sort.Strings(unhealthy)
	return unhealthy
}
