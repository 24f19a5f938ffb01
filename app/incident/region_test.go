package incident

import (
	"strings"
	"testing"
)

func TestJudgeRegions(t *testing.T) {
	obs := func(region string, failed bool, targets ...int64) []Observation {
		var out []Observation
		for _, tg := range targets {
			out = append(out, Observation{region, tg, failed})
		}
		return out
	}
	join := func(parts ...[]Observation) []Observation {
		var out []Observation
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	canary := func(region string, ok bool) Beacon { return Beacon{Region: region, CanaryProbed: true, CanaryOK: ok} }
	alive := func(region string) Beacon { return Beacon{Region: region} }
	tests := []struct {
		name    string
		obs     []Observation
		beacons []Beacon
		known   []string
		want    map[string]Health
	}{
		{
			name: "one region sees everything fail, others see it up",
			obs:  join(obs("fra", true, 1, 2, 3, 4), obs("iad", false, 1, 2, 3, 4), obs("sin", false, 1, 2, 3, 4)),
			want: map[string]Health{"fra": Unhealthy, "iad": Healthy, "sin": Healthy},
		},
		{
			name: "everything fails everywhere: targets are down, regions fine",
			obs:  join(obs("fra", true, 1, 2, 3), obs("iad", true, 1, 2, 3)),
			want: map[string]Health{"fra": Healthy, "iad": Healthy},
		},
		{
			name: "one target down everywhere, regions fine",
			obs:  join(obs("fra", true, 1), obs("fra", false, 2, 3, 4), obs("iad", true, 1), obs("iad", false, 2, 3, 4)),
			want: map[string]Health{"fra": Healthy, "iad": Healthy},
		},
		{
			name: "half failing is not most",
			obs:  join(obs("fra", true, 1, 2), obs("fra", false, 3, 4), obs("iad", false, 1, 2, 3, 4)),
			want: map[string]Health{"fra": Healthy, "iad": Healthy},
		},
		{
			name: "the latest observation of a target wins",
			obs:  join(obs("fra", true, 1, 2, 3), obs("fra", false, 1, 2, 3), obs("iad", false, 1, 2, 3)),
			want: map[string]Health{"fra": Healthy, "iad": Healthy},
		},
		{
			name:    "start-up: a region's failures nobody else has reported yet are no verdict",
			obs:     obs("sin", true, 1, 2, 3, 4),
			beacons: []Beacon{alive("fra"), alive("iad"), alive("sin")},
			want:    map[string]Health{"fra": Unjudged, "iad": Unjudged, "sin": Unjudged},
		},
		{
			name:    "one check: the canary judges the blind region",
			obs:     join(obs("sin", true, 1), obs("fra", false, 1), obs("iad", false, 1)),
			beacons: []Beacon{canary("fra", true), canary("iad", true), canary("sin", false)},
			want:    map[string]Health{"fra": Healthy, "iad": Healthy, "sin": Unhealthy},
		},
		{
			name:    "one check, the blind region's canary first: no verdict until another region reaches it",
			obs:     obs("sin", true, 1),
			beacons: []Beacon{canary("sin", false), alive("fra")},
			want:    map[string]Health{"fra": Unjudged, "sin": Unjudged},
		},
		{
			name:    "a region with one worker blind of two still reaches the canary",
			beacons: []Beacon{canary("fra", false), canary("fra", true), canary("iad", true)},
			want:    map[string]Health{"fra": Healthy, "iad": Healthy},
		},
		{
			name:    "the canary reached but the region's results contradicted: unhealthy",
			obs:     join(obs("fra", true, 1, 2, 3), obs("iad", false, 1, 2, 3)),
			beacons: []Beacon{canary("fra", true), canary("iad", true)},
			want:    map[string]Health{"fra": Unhealthy, "iad": Healthy},
		},
		{
			name:    "the canary down everywhere says nothing; results still judge",
			obs:     join(obs("fra", true, 1, 2, 3), obs("iad", false, 1, 2, 3)),
			beacons: []Beacon{canary("fra", false), canary("iad", false)},
			want:    map[string]Health{"fra": Unhealthy, "iad": Healthy},
		},
		{
			name:    "too few targets and the canary down everywhere: the canary says nothing",
			obs:     join(obs("fra", true, 1), obs("iad", false, 1)),
			beacons: []Beacon{canary("fra", false), canary("iad", false)},
			want:    map[string]Health{"fra": Healthy, "iad": Healthy},
		},
		{
			name: "the only region is healthy",
			obs:  obs("local", true, 1),
			want: map[string]Health{"local": Healthy},
		},
		{
			name:  "the first region to report is not the only one when checks name others",
			obs:   obs("sin", true, 1, 2, 3, 4),
			known: []string{"fra", "iad", "sin"},
			want:  map[string]Health{"fra": Unjudged, "iad": Unjudged, "sin": Unjudged},
		},
		{
			name: "too few targets and no canary: healthy, as it cannot be judged",
			obs:  join(obs("fra", true, 1, 2), obs("iad", false, 1, 2)),
			want: map[string]Health{"fra": Healthy, "iad": Healthy},
		},
		{
			name:    "too few targets with a canary probed somewhere: wait for it",
			obs:     join(obs("fra", true, 1), obs("iad", false, 1)),
			beacons: []Beacon{canary("iad", true), alive("fra")},
			want:    map[string]Health{"fra": Unjudged, "iad": Healthy},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JudgeRegions(tt.obs, tt.beacons, tt.known, RegionHealthPolicy{})
			if len(got) != len(tt.want) {
				t.Errorf("judged %v, want %v", got, tt.want)
			}
			for region, want := range tt.want {
				if j := got[region]; j.Health != want {
					t.Errorf("%s: got %s (%q), want %s", region, j.Health, j.Reason, want)
				} else if j.Health != Unjudged && j.Reason == "" {
					t.Errorf("%s: %s without a reason", region, j.Health)
				}
			}
		})
	}
}

// TestSilentRegionSaysSo: a region the checks name that sent neither a
// result nor a beacon in the window is unjudged with a reason that points
// at its missing worker; one that reported is only waiting.
func TestSilentRegionSaysSo(t *testing.T) {
	var sin []Observation
	for tg := range int64(4) {
		sin = append(sin, Observation{"sin", tg, true})
	}
	got := JudgeRegions(sin, []Beacon{{Region: "iad"}}, []string{"fra", "iad", "sin"}, RegionHealthPolicy{})
	if j := got["fra"]; j.Health != Unjudged || !strings.Contains(j.Reason, "is a probe worker running there?") {
		t.Errorf("fra (silent): %s %q, want unjudged asking for a worker", j.Health, j.Reason)
	}
	for _, region := range []string{"iad", "sin"} {
		if j := got[region]; strings.Contains(j.Reason, "probe worker running") {
			t.Errorf("%s reported, yet its reason %q asks for a worker", region, j.Reason)
		}
	}
}
