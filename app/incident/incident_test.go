package incident

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEvaluateQuorumAndConfirm(t *testing.T) {
	three := []string{"fra", "iad", "sin"}
	all := func(string) bool { return true }
	tests := []struct {
		name    string
		reports []Report
		regions []string
		healthy func(string) bool
		policy  Policy
		want    State
		down    []string
		prev    State // the check's state before; "" is up
	}{
		{"all up", []Report{{"fra", Up, 5}, {"iad", Up, 5}, {"sin", Up, 5}}, three, all, Policy{}, Up, nil, ""},
		{"no reports", nil, three, all, Policy{}, Unknown, nil, ""},
		{"one region down is degraded", []Report{{"fra", Down, 9}, {"iad", Up, 5}, {"sin", Up, 5}}, three, all, Policy{}, Degraded, []string{"fra"}, ""},
		{"majority down confirmed", []Report{{"fra", Down, 2}, {"iad", Down, 3}, {"sin", Up, 5}}, three, all, Policy{}, Down, []string{"fra", "iad"}, ""},
		{"majority down but not confirmed", []Report{{"fra", Down, 1}, {"iad", Down, 2}, {"sin", Up, 5}}, three, all, Policy{}, Degraded, []string{"iad"}, ""},
		{"confirm 1 takes the first round", []Report{{"fra", Down, 1}, {"iad", Down, 1}}, three, all, Policy{Confirm: 1}, Down, []string{"fra", "iad"}, ""},
		{"explicit quorum 3 needs all", []Report{{"fra", Down, 4}, {"iad", Down, 4}, {"sin", Up, 1}}, three, all, Policy{Quorum: 3}, Degraded, []string{"fra", "iad"}, ""},
		{"explicit quorum 1", []Report{{"fra", Down, 2}, {"iad", Up, 4}, {"sin", Up, 1}}, three, all, Policy{Quorum: 1}, Down, []string{"fra"}, ""},
		{"confirmed warning anywhere is degraded", []Report{{"fra", Degraded, 2}, {"iad", Up, 4}, {"sin", Up, 1}}, three, all, Policy{}, Degraded, nil, ""},
		{"one round of a warning changes nothing", []Report{{"fra", Degraded, 1}, {"iad", Up, 4}, {"sin", Up, 1}}, three, all, Policy{}, Up, nil, ""},
		{"one round down from one region changes nothing", []Report{{"fra", Down, 1}, {"iad", Up, 4}, {"sin", Up, 4}}, three, all, Policy{}, Up, nil, Up},
		{"one round down everywhere changes nothing", []Report{{"fra", Down, 1}, {"iad", Down, 1}, {"sin", Down, 1}}, three, all, Policy{}, Up, nil, Up},
		{
			"a check in trouble stays in trouble while a region's streak restarts",
			[]Report{{"fra", Down, 1}, {"iad", Up, 4}, {"sin", Up, 4}}, three, all, Policy{}, Degraded, nil, Degraded,
		},
		{"a check down goes degraded, not up, while votes restart", []Report{{"fra", Down, 1}, {"iad", Down, 1}}, three, all, Policy{}, Degraded, nil, Down},
		{"a check in trouble is up once no region reports trouble", []Report{{"fra", Up, 1}, {"iad", Up, 1}}, three, all, Policy{}, Up, nil, Down},
		{"single local region", []Report{{"local", Down, 2}}, []string{"local"}, all, Policy{}, Down, []string{"local"}, ""},
		{
			"unhealthy region excluded: its down vote does not count",
			[]Report{{"fra", Down, 9}, {"iad", Up, 4}, {"sin", Up, 4}}, three,
			func(r string) bool { return r != "fra" }, Policy{}, Up, nil, "",
		},
		{
			"two unhealthy regions: the healthy one decides",
			[]Report{{"fra", Down, 9}, {"iad", Down, 9}, {"sin", Down, 2}}, three,
			func(r string) bool { return r == "sin" }, Policy{}, Down, []string{"sin"}, "",
		},
		{"unknown reports ignored", []Report{{"fra", Unknown, 1}, {"iad", Up, 1}}, three, all, Policy{}, Up, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.prev, tt.reports, tt.regions, tt.healthy, tt.policy)
			if got.State != tt.want {
				t.Errorf("state: got %s, want %s (%+v)", got.State, tt.want, got)
			}
			if diff := cmp.Diff(tt.down, got.DownRegions); diff != "" {
				t.Errorf("down regions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextStreak(t *testing.T) {
	if got := NextStreak(Down, 1, Down); got != 2 {
		t.Errorf("repeat: got %d, want 2", got)
	}
	if got := NextStreak(Up, 7, Down); got != 1 {
		t.Errorf("change: got %d, want 1", got)
	}
	if got := NextStreak(Unknown, 0, Unknown); got != 1 {
		t.Errorf("first: got %d, want 1", got)
	}
}

func TestComponentStatus(t *testing.T) {
	tests := []struct {
		checks []State
		maint  bool
		want   string
	}{
		{nil, false, Operational},
		{[]State{Up, Up}, false, Operational},
		{[]State{Up, Degraded}, false, DegradedPerformance},
		{[]State{Up, Down}, false, PartialOutage},
		{[]State{Down, Degraded}, false, PartialOutage},
		{[]State{Down, Down}, false, MajorOutage},
		{[]State{Down, Unknown}, false, MajorOutage},
		{[]State{Down}, true, UnderMaintenance},
		{[]State{Unknown}, false, Operational},
	}
	for _, tt := range tests {
		if got := ComponentStatus(tt.checks, tt.maint); got != tt.want {
			t.Errorf("ComponentStatus(%v, %v) = %s, want %s", tt.checks, tt.maint, got, tt.want)
		}
	}
}

// A component's status depends on which states its checks are in, not on
// how many are in each: the store hands ComponentStatus each state once
// (store.Tx.ComponentCheckStates), however many checks share it.
func TestComponentStatusOfDistinctStates(t *testing.T) {
	all := []State{Unknown, Up, Degraded, Down, Misconfigured}
	// Every multiset of up to three checks' states.
	var sets [][]State
	var grow func(prefix []State, from int)
	grow = func(prefix []State, from int) {
		sets = append(sets, slices.Clone(prefix))
		if len(prefix) == 3 {
			return
		}
		for i := from; i < len(all); i++ {
			grow(append(prefix, all[i]), i)
		}
	}
	grow(nil, 0)
	for _, checks := range sets {
		distinct := slices.Compact(slices.Sorted(slices.Values(checks)))
		for _, maint := range []bool{false, true} {
			if got, want := ComponentStatus(distinct, maint), ComponentStatus(checks, maint); got != want {
				t.Errorf("ComponentStatus(%v, %v) = %s, but %s for %v", distinct, maint, got, want, checks)
			}
		}
	}
}

func TestPageIndicator(t *testing.T) {
	tests := []struct {
		in   []string
		want Indicator
	}{
		{[]string{Operational, Operational}, Indicator{"none", "All Systems Operational"}},
		{[]string{Operational, DegradedPerformance}, Indicator{"minor", "Minor Service Outage"}},
		{[]string{PartialOutage, DegradedPerformance}, Indicator{"major", "Partial System Outage"}},
		{[]string{MajorOutage, UnderMaintenance}, Indicator{"critical", "Major System Outage"}},
		{[]string{Operational, UnderMaintenance}, Indicator{"maintenance", "Service Under Maintenance"}},
		{nil, Indicator{"none", "All Systems Operational"}},
	}
	for _, tt := range tests {
		if got := PageIndicator(tt.in); got != tt.want {
			t.Errorf("PageIndicator(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestMaintenanceWindowAcrossDST(t *testing.T) {
	w, err := ParseWindow("0 8 * * THU", 2*time.Hour, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		at     string
		start  string
		active bool
	}{
		{"winter: 08:00 Berlin is 07:00 UTC", "2026-11-19T07:30:00Z", "2026-11-19T07:00:00Z", true},
		{"winter: just before", "2026-11-19T06:59:59Z", "2026-11-19T07:00:00Z", false},
		{"winter: end is exclusive", "2026-11-19T09:00:00Z", "2026-11-26T07:00:00Z", false},
		{"summer: 08:00 Berlin is 06:00 UTC", "2026-07-16T06:00:00Z", "2026-07-16T06:00:00Z", true},
		{"summer: 07:30 UTC still inside", "2026-07-16T07:59:00Z", "2026-07-16T06:00:00Z", true},
		{"summer: 08:00 UTC is outside", "2026-07-16T08:00:00Z", "2026-07-23T06:00:00Z", false},
		// The week of the spring change (29 March 2026): the Thursday after is summer time.
		{"week after spring change", "2026-04-02T06:30:00Z", "2026-04-02T06:00:00Z", true},
		{"week before autumn change", "2026-10-22T06:30:00Z", "2026-10-22T06:00:00Z", true},
		{"week after autumn change", "2026-10-29T06:30:00Z", "2026-10-29T07:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, active := w.Active(utc(tt.at))
			if active != tt.active {
				t.Errorf("active = %v, want %v", active, tt.active)
			}
			if !start.Equal(utc(tt.start)) {
				t.Errorf("start = %s, want %s", start, tt.start)
			}
			if end.Sub(start) != 2*time.Hour {
				t.Errorf("window lasts %s, want 2h", end.Sub(start))
			}
		})
	}
}

func TestParseWindowRefusesBadInput(t *testing.T) {
	for _, tt := range []struct {
		sched, tz string
		d         time.Duration
	}{
		{"0 8 * * FRIDAYS", "UTC", time.Hour},
		{"0 25 * * *", "UTC", time.Hour},
		{"0 8 * * THU", "Mars/Olympus", time.Hour},
		{"0 8 * * THU", "UTC", 0},
	} {
		if _, err := ParseWindow(tt.sched, tt.d, tt.tz); err == nil {
			t.Errorf("ParseWindow(%q, %s, %q): got no error", tt.sched, tt.d, tt.tz)
		}
	}
	if _, err := ParseWindow("@weekly", time.Hour, ""); err != nil {
		t.Errorf("descriptor: %v", err)
	}
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    Situation
		want Action
	}{
		{"goes down: open", Situation{Prev: Up, Now: Down}, Open},
		{"goes degraded: open", Situation{Prev: Up, Now: Degraded}, Open},
		{"first evaluation down: open", Situation{Prev: Unknown, Now: Down}, Open},
		{"down in maintenance: nothing", Situation{Prev: Up, Now: Down, InMaintenance: true}, None},
		{"stays up", Situation{Prev: Up, Now: Up}, None},
		{"recovers: resolve", Situation{Prev: Down, Now: Up, IncidentOpen: true}, Resolve},
		{"recovers in maintenance: still resolve", Situation{Prev: Down, Now: Up, IncidentOpen: true, InMaintenance: true}, Resolve},
		{"worsens", Situation{Prev: Degraded, Now: Down, IncidentOpen: true}, Worsen},
		{"improves", Situation{Prev: Down, Now: Degraded, IncidentOpen: true}, Improve},
		{"still down, repeat not due", Situation{Prev: Down, Now: Down, IncidentOpen: true, LastAlert: t0, RepeatEvery: time.Hour, At: t0.Add(59 * time.Minute)}, None},
		{"still down, repeat due", Situation{Prev: Down, Now: Down, IncidentOpen: true, LastAlert: t0, RepeatEvery: time.Hour, At: t0.Add(time.Hour)}, Repeat},
		{"acknowledged: no repeat", Situation{Prev: Down, Now: Down, IncidentOpen: true, Acknowledged: true, LastAlert: t0, RepeatEvery: time.Hour, At: t0.Add(5 * time.Hour)}, None},
		{"no repeat schedule", Situation{Prev: Down, Now: Down, IncidentOpen: true, LastAlert: t0, At: t0.Add(48 * time.Hour)}, None},
		{"unknown with incident open: wait", Situation{Prev: Down, Now: Unknown, IncidentOpen: true}, None},
		{"other problems, as bad: change", Situation{Prev: Down, Now: Down, IncidentOpen: true, Changed: true}, Change},
		{"other problems and worse: worsen", Situation{Prev: Degraded, Now: Down, IncidentOpen: true, Changed: true}, Worsen},
		{"other problems in maintenance: nothing", Situation{Prev: Down, Now: Down, IncidentOpen: true, Changed: true, InMaintenance: true}, None},
		{"changed but recovered: resolve", Situation{Prev: Down, Now: Up, IncidentOpen: true, Changed: true}, Resolve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.s); got != tt.want {
				t.Errorf("Decide = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWorseStatus(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{Operational, DegradedPerformance, DegradedPerformance},
		{PartialOutage, DegradedPerformance, PartialOutage},
		{PartialOutage, MajorOutage, MajorOutage},
		{Operational, UnderMaintenance, UnderMaintenance},
		{UnderMaintenance, DegradedPerformance, DegradedPerformance},
		{DegradedPerformance, UnderMaintenance, DegradedPerformance},
		{UnderMaintenance, Operational, UnderMaintenance},
	}
	for _, tt := range tests {
		if got := WorseStatus(tt.a, tt.b); got != tt.want {
			t.Errorf("WorseStatus(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestImpactStateInvertsImpact(t *testing.T) {
	for _, s := range []State{Up, Degraded, Down} {
		if got := ImpactState(Impact(s)); got != s {
			t.Errorf("ImpactState(Impact(%s)) = %s", s, got)
		}
	}
	if got := ImpactState("critical"); got != Down {
		t.Errorf("critical: got %s, want down", got)
	}
}
