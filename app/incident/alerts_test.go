package incident

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFiringAlerts(t *testing.T) {
	tests := []struct {
		name  string
		state State
		kinds []Kind
		want  []AlertKind
	}{
		{"up fires nothing", Up, []Kind{KindCertExpiring}, nil},
		{"unknown fires nothing", Unknown, nil, nil},
		{"misconfigured is not an outage", Misconfigured, nil, nil},
		{"down", Down, []Kind{KindUnreachable}, []AlertKind{AlertCheckDown}},
		{"degraded with expiring cert", Degraded, []Kind{KindCertExpiring}, []AlertKind{AlertCheckDegraded, AlertCertExpiring}},
		{
			"every certificate kind once", Degraded,
			[]Kind{KindCertRenewal, KindCertIssuerChanged, KindNodesDisagree, KindCertRenewal, KindSlow},
			[]AlertKind{AlertCheckDegraded, AlertRenewalOverdue, AlertIssuerChanged, AlertNodesDisagree},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FiringAlerts(tt.state, tt.kinds)); diff != "" {
				t.Errorf("FiringAlerts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanAlerts(t *testing.T) {
	open := func(kinds ...AlertKind) []OpenAlert {
		var out []OpenAlert
		for _, k := range kinds {
			out = append(out, OpenAlert{Kind: k})
		}
		return out
	}
	tests := []struct {
		name   string
		open   []OpenAlert
		firing []AlertKind
		maint  bool
		want   []AlertChange
	}{
		{"nothing", nil, nil, false, nil},
		{"a failing check triggers one alert", nil, []AlertKind{AlertCheckDown}, false,
			[]AlertChange{{Kind: AlertCheckDown, Step: AlertTrigger}}},
		{"still failing: no new alert per probe round", open(AlertCheckDown), []AlertKind{AlertCheckDown}, false, nil},
		{"recovered: one resolve", open(AlertCheckDown, AlertCertExpiring), nil, false,
			[]AlertChange{{Kind: AlertCheckDown, Step: AlertResolve}, {Kind: AlertCertExpiring, Step: AlertResolve}}},
		{"in maintenance nothing triggers", nil, []AlertKind{AlertCheckDown}, true, nil},
		{"in maintenance an open alert still resolves", open(AlertCheckDown), nil, true,
			[]AlertChange{{Kind: AlertCheckDown, Step: AlertResolve}}},
		{"degraded to down escalates", open(AlertCheckDegraded), []AlertKind{AlertCheckDown}, false,
			[]AlertChange{{Kind: AlertCheckDown, From: AlertCheckDegraded, Step: AlertEscalate}}},
		{"down to degraded relabels silently", open(AlertCheckDown), []AlertKind{AlertCheckDegraded}, false,
			[]AlertChange{{Kind: AlertCheckDegraded, From: AlertCheckDown, Step: AlertRelabel}}},
		{"no escalation in maintenance", open(AlertCheckDegraded), []AlertKind{AlertCheckDown}, true, nil},
		{
			"cert alert ends while the check stays degraded", open(AlertCheckDegraded, AlertRenewalOverdue),
			[]AlertKind{AlertCheckDegraded, AlertNodesDisagree}, false,
			[]AlertChange{{Kind: AlertRenewalOverdue, Step: AlertResolve}, {Kind: AlertNodesDisagree, Step: AlertTrigger}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PlanAlerts(tt.open, tt.firing, tt.maint)); diff != "" {
				t.Errorf("PlanAlerts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShouldRepeat(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	hour := time.Hour
	tests := []struct {
		name string
		s    RepeatSituation
		want bool
		next time.Time
	}{
		{"before the interval", RepeatSituation{LastSent: t0, Every: hour, At: t0.Add(59 * time.Minute)}, false, t0.Add(hour)},
		{"at the interval", RepeatSituation{LastSent: t0, Every: hour, At: t0.Add(hour)}, true, t0.Add(hour)},
		{"long after", RepeatSituation{LastSent: t0, Every: hour, At: t0.Add(5 * hour)}, true, t0.Add(hour)},
		{"acknowledged stops repeats", RepeatSituation{Acknowledged: true, LastSent: t0, Every: hour, At: t0.Add(5 * hour)}, false, time.Time{}},
		{"maintenance suppresses", RepeatSituation{InMaintenance: true, LastSent: t0, Every: hour, At: t0.Add(5 * hour)}, false, t0.Add(hour)},
		{"no interval never repeats", RepeatSituation{LastSent: t0, At: t0.Add(5 * hour)}, false, time.Time{}},
		{"never sent: not a repeat", RepeatSituation{Every: hour, At: t0}, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShouldRepeat(tt.s); got != tt.want {
				t.Errorf("ShouldRepeat = %v, want %v", got, tt.want)
			}
			if got := NextRepeat(tt.s); !got.Equal(tt.next) {
				t.Errorf("NextRepeat = %v, want %v", got, tt.next)
			}
		})
	}
}

func TestAlertKindTitles(t *testing.T) {
	for _, k := range AlertKinds() {
		if k.Title() == string(k) {
			t.Errorf("kind %s has no title", k)
		}
	}
	if !AlertCheckDown.Critical() || AlertCertExpiring.Critical() {
		t.Errorf("only check_down is critical")
	}
}
