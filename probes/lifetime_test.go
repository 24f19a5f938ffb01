package probes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

const day = 24 * time.Hour

// TestDefaultThresholds pins the defaults at the lifetimes of DESIGN §4:
// the README's table of what they do.
func TestDefaultThresholds(t *testing.T) {
	t.Parallel()
	h := time.Hour
	tests := []struct {
		lifetime time.Duration
		want     Thresholds
	}{
		{24 * h, Thresholds{Renew: 12 * h, Overdue: 8 * h, Warn: 6 * h, Critical: 2 * h}},
		{6 * day, Thresholds{Renew: 3 * day, Overdue: 2 * day, Warn: 36 * h, Critical: 12 * h}},
		{160 * h, Thresholds{Renew: 80 * h, Overdue: 160 * h / 3, Warn: 40 * h, Critical: 160 * h / 12}},
		{45 * day, Thresholds{Renew: 15 * day, Overdue: 15 * day, Warn: 11*day + 6*h, Critical: 3*day + 18*h}},
		{90 * day, Thresholds{Renew: 30 * day, Overdue: 30 * day, Warn: 21 * day, Critical: 7 * day}},
		{200 * day, Thresholds{Renew: 200 * day / 3, Overdue: 200 * day / 3, Warn: 21 * day, Critical: 7 * day}},
		{398 * day, Thresholds{Renew: 398 * day / 3, Overdue: 398 * day / 3, Warn: 21 * day, Critical: 7 * day}},
		{0, Thresholds{Warn: 21 * day, Critical: 7 * day}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, DefaultThresholds(tc.lifetime)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.lifetime, diff)
		}
	}
}

// TestThresholdInvariants sweeps every lifetime from 1 to 398 days (and
// 1 to 48 hours) and every age: nothing is flagged before the ACME client's
// renewal point, and renewal-overdue always comes before expiring and
// critical.
func TestThresholdInvariants(t *testing.T) {
	t.Parallel()
	var lifetimes []time.Duration
	for h := 24; h <= 48; h++ {
		lifetimes = append(lifetimes, time.Duration(h)*time.Hour)
	}
	for d := 1; d <= 398; d++ {
		lifetimes = append(lifetimes, time.Duration(d)*day)
	}
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, life := range lifetimes {
		th := DefaultThresholds(life)
		na := nb.Add(life)
		step := life / 400
		var overdueAt, expiringAt, criticalAt time.Duration = -1, -1, -1
		for used := time.Duration(0); used <= life; used += step {
			ex := th.Judge(nb, na, nb.Add(used))
			left := life - used
			if (ex.Expiring || ex.Overdue) && left >= th.Renew {
				t.Fatalf("%s: flagged %+v with %s left, before the client renews at %s left", life, ex, left, th.Renew)
			}
			if ex.Overdue && overdueAt < 0 {
				overdueAt = used
			}
			if ex.Expiring && expiringAt < 0 {
				expiringAt = used
			}
			if ex.Critical && criticalAt < 0 {
				criticalAt = used
			}
		}
		if overdueAt < 0 || criticalAt < 0 || expiringAt < 0 {
			t.Fatalf("%s: overdue at %s, expiring at %s, critical at %s: want all three before expiry", life, overdueAt, expiringAt, criticalAt)
		}
		if overdueAt >= expiringAt || expiringAt >= criticalAt {
			t.Fatalf("%s: overdue at %s, expiring at %s, critical at %s: want that order", life, overdueAt, expiringAt, criticalAt)
		}
	}
}

func TestExplicitThresholdsWin(t *testing.T) {
	t.Parallel()
	got := ExpiryThresholds(6*day, 3, -1)
	want := Thresholds{Renew: 3 * day, Overdue: 2 * day, Warn: 3 * day}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := ExpiryThresholds(90*day, 0, 10).Critical; got != 10*day {
		t.Errorf("critical %s, want 240h", got)
	}
}

// TestLifetimes serves real certificates of the lifetimes public CAs issue
// in 2026–2029 and judges each at several ages through the real prober,
// with the clock moved instead of waiting.
func TestLifetimes(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	t0 := time.Now().Truncate(time.Second)
	lifetimes := []time.Duration{24 * time.Hour, 6 * day, 45 * day, 90 * day, 200 * day, 398 * day}
	ips := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"}
	urls := make([]string, len(lifetimes))
	for i, life := range lifetimes {
		cert := k.leaf(probetest.CertOptions{NotBefore: t0, NotAfter: t0.Add(life)})
		urls[i] = serveNodes(t, "/", node{ip: ips[i], cert: cert})
	}
	frac := func(f float64) func(time.Duration) time.Duration {
		return func(life time.Duration) time.Duration { return time.Duration(f * float64(life)) }
	}
	ages := []struct {
		name string
		age  func(life time.Duration) time.Duration
		want []string
		sev  Severity // of cert_expiring
	}{
		{name: "fresh", age: frac(0.01)},
		{name: "half-way", age: frac(0.5)},
		// The client renews with half left under 10 days, a third otherwise.
		{name: "just before renewal", age: func(life time.Duration) time.Duration { return life - DefaultThresholds(life).Renew - time.Minute }},
		{name: "renewal overdue", age: frac(0.70), want: []string{"cert_renewal_overdue"}},
		{name: "expiring", age: func(life time.Duration) time.Duration { return life - DefaultThresholds(life).Warn + time.Minute },
			want: []string{"cert_expiring", "cert_renewal_overdue"}, sev: SeverityWarning},
		{name: "about to expire", age: func(life time.Duration) time.Duration { return life - DefaultThresholds(life).Critical/2 },
			want: []string{"cert_expiring", "cert_renewal_overdue"}, sev: SeverityCritical},
	}
	for i, life := range lifetimes {
		for _, age := range ages {
			t.Run(fmt.Sprintf("%s/%s", lifetimeText(life), age.name), func(t *testing.T) {
				t.Parallel()
				at := t0.Add(age.age(life))
				pr := k.prober(func() time.Time { return at }, nil)
				res := pr.Run(context.Background(), Spec{URL: urls[i], Nodes: Nodes{Addrs: []string{ips[i]}}})
				got := onlyCodes(res.Problems)
				if len(got) == 0 {
					got = nil
				}
				if diff := cmp.Diff(age.want, got); diff != "" {
					t.Fatalf("codes (-want +got):\n%s\n%v", diff, res.Problems)
				}
				for _, p := range res.Problems {
					if p.Code == CodeCertExpiring && p.Severity != age.sev {
						t.Errorf("cert_expiring %s, want %s", p.Severity, age.sev)
					}
					if p.Code == CodeCertRenewalOverdue {
						wantMessage(t, p, lifetimeText(life)+" lifetime")
					}
				}
			})
		}
	}
	// A 6-day certificate with 20 days' warning configured: explicit wins.
	pr := k.prober(func() time.Time { return t0.Add(time.Hour) }, nil)
	res := pr.Run(context.Background(), Spec{URL: urls[1], Nodes: Nodes{Addrs: []string{ips[1]}}, TLS: TLSSpec{WarnDays: 20, CriticalDays: -1}})
	if diff := cmp.Diff([]string{"cert_expiring"}, onlyCodes(res.Problems)); diff != "" || res.State != StateDegraded {
		t.Errorf("explicit warn_days 20 on a fresh 6-day certificate: %s %v, want degraded [cert_expiring]", res.State, res.Problems)
	}
}
