package aggregate

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

func TestIdempotentBatch(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		a := f.aggregator(Options{})
		batch := append(f.round(1, all(probes.StateDown), 0), f.round(2, all(probes.StateDown), 0)...)
		process(t, a, batch)
		process(t, a, batch) // redelivered
		process(t, a, append(batch[:2:2], batch...))
		if n := f.count(`SELECT COUNT(*) FROM check_results`); n != len(batch) {
			t.Errorf("stored results: got %d, want %d", n, len(batch))
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE org_id = ?`, f.org); n != 1 {
			t.Errorf("incidents: got %d, want 1", n)
		}
		if n := f.outbox("incident.opened"); n != 1 {
			t.Errorf("incident.opened events: got %d, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM outbox`); n != 1 {
			t.Errorf("outbox rows: got %d, want 1", n)
		}
		if n := f.count(`SELECT streak FROM check_latest WHERE check_id = ? AND region = 'fra' AND node = ''`, f.checks[0].ID); n != 2 {
			t.Errorf("streak: got %d, want 2", n)
		}
	})
}

// TestUnknownChecksDropped: results of a check that does not exist, or
// that belongs to another organisation than the result says, are dropped
// and counted; the batch's other results are stored and judged.
func TestUnknownChecksDropped(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		other := newOrgFixture(t, s, "other", 1)
		a := f.aggregator(Options{})
		batch := f.round(1, all(probes.StateDown), 0, 1)
		gone := f.result(1, "fra", 2, probes.StateDown)
		gone.ID, gone.CheckID = "r-gone", f.checks[1].ID+1000
		stolen := f.result(1, "fra", 2, probes.StateDown)
		stolen.ID, stolen.CheckID = "r-stolen", other.checks[0].ID
		batch = append([]pipeline.Result{gone, stolen}, batch...)
		process(t, a, batch)
		process(t, a, f.round(2, all(probes.StateDown), 0, 1))
		if n := f.count(`SELECT COUNT(*) FROM check_results`); n != 12 {
			t.Errorf("stored results: got %d, want 12 (two rounds of two checks × three regions)", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM check_results WHERE id IN ('r-gone', 'r-stolen')`); n != 0 {
			t.Errorf("results of unknown checks stored: %d", n)
		}
		if got := testutil.ToFloat64(a.metrics.results.WithLabelValues("unknown_check")); got != 2 {
			t.Errorf("unknown_check results counted: got %v, want 2", got)
		}
		if got := f.checkState(0); got != "down" {
			t.Errorf("check 0 after two rounds down: got %s, want down", got)
		}
	})
}

func TestQuorumAndConfirmRounds(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		a := f.aggregator(Options{})
		// Check 0: down from every region. Check 1: down from fra only.
		state := func(check int, region string) probes.State {
			if check == 0 || region == "fra" {
				return probes.StateDown
			}
			return probes.StateUp
		}
		process(t, a, f.round(1, state, 0, 1))
		if got := f.checkState(0); got == "down" {
			t.Errorf("check 0 after one round: got down, want not down before the confirm rounds")
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 0 {
			t.Errorf("incidents after one round: got %d, want 0", n)
		}
		process(t, a, f.round(2, state, 0, 1))
		process(t, a, f.round(3, state, 0, 1))
		if got := f.checkState(0); got != "down" {
			t.Errorf("check 0: got %s, want down", got)
		}
		if got := f.checkState(1); got != "degraded" {
			t.Errorf("check 1 (one region down): got %s, want degraded", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE check_id = ?`, f.checks[0].ID); n != 1 {
			t.Errorf("incidents of check 0: got %d, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE check_id = ?`, f.checks[1].ID); n != 0 {
			t.Errorf("incidents of check 1: got %d, want 0", n)
		}
		if got := f.componentStatus(); got != "partial_outage" {
			t.Errorf("component: got %s, want partial_outage", got)
		}
		var body, technical string
		if err := s.DB().QueryRow(`SELECT body, technical FROM incident_updates`).Scan(&body, &technical); err != nil {
			t.Fatal(err)
		}
		if want := "t0.example cannot be reached; seen from Frankfurt, Virginia and Singapore."; body != want {
			t.Errorf("incident update: got %q, want %q", body, want)
		}
		for _, want := range []string{"check-0", "fra, iad, sin", "connection_failed"} {
			if !contains(technical, want) {
				t.Errorf("incident update's technical detail %q does not name %q", technical, want)
			}
		}
	})
}

func TestRegionOutage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 4)
		a := f.aggregator(Options{})
		state := func(_ int, region string) probes.State {
			if region == "sin" {
				return probes.StateDown
			}
			return probes.StateUp
		}
		for round := 1; round <= 3; round++ {
			process(t, a, f.round(round, state, 0, 1, 2, 3))
		}
		for i := range f.checks {
			if got := f.checkState(i); got != "up" {
				t.Errorf("check %d: got %s, want up (sin excluded)", i, got)
			}
		}
		if n := f.count(`SELECT COUNT(*) FROM region_health WHERE org_id = ? AND region = 'sin' AND NOT healthy`, f.org); n != 1 {
			t.Errorf("sin unhealthy records: got %d, want 1", n)
		}
		if n := f.outbox("region.unhealthy"); n != 1 {
			t.Errorf("region.unhealthy events: got %d, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 0 {
			t.Errorf("incidents: got %d, want 0", n)
		}
		// sin recovers: one region.healthy event.
		process(t, a, f.round(4, all(probes.StateUp), 0, 1, 2, 3))
		if n := f.outbox("region.healthy"); n != 1 {
			t.Errorf("region.healthy events: got %d, want 1", n)
		}
	})
}

func TestMaintenanceOpensNoIncident(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		w    func(f *fixture) store.MaintenanceWindow
	}{
		{"one-off", func(f *fixture) store.MaintenanceWindow {
			from, to := f.base.Add(-time.Hour), f.base.Add(time.Hour)
			return store.MaintenanceWindow{Name: "upgrade", StartsAt: &from, EndsAt: &to}
		}},
		{"recurring", func(f *fixture) store.MaintenanceWindow {
			return store.MaintenanceWindow{Name: "hourly", Schedule: "0 * * * *", Duration: 2 * time.Hour, TimeZone: "Europe/Berlin"}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Backends(t, func(t *testing.T, s *store.Store) {
				f := newFixture(t, s, 1)
				w := tt.w(f)
				w.OrgID, w.PageID, w.ComponentIDs = f.org, f.page.ID, []int64{f.comp.ID}
				if err := s.InTx(t.Context(), func(tx *store.Tx) error {
					_, err := tx.CreateMaintenanceWindow(t.Context(), w)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				a := f.aggregator(Options{})
				for round := 1; round <= 3; round++ {
					process(t, a, f.round(round, all(probes.StateDown), 0))
				}
				if got := f.componentStatus(); got != "under_maintenance" {
					t.Errorf("component: got %s, want under_maintenance", got)
				}
				if got := f.checkState(0); got != "down" {
					t.Errorf("check: got %s, want down (checks keep running)", got)
				}
				if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 0 {
					t.Errorf("incidents: got %d, want 0", n)
				}
				if n := f.count(`SELECT COUNT(*) FROM outbox`); n != 0 {
					t.Errorf("outbox: got %d, want 0", n)
				}
			})
		})
	}
}

func TestRecoveryResolvesIncident(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		a := f.aggregator(Options{})
		process(t, a, f.round(1, all(probes.StateDown), 0))
		process(t, a, f.round(2, all(probes.StateDown), 0))
		if got := f.componentStatus(); got != "major_outage" {
			t.Errorf("component while down: got %s, want major_outage", got)
		}
		process(t, a, f.round(3, all(probes.StateUp), 0))
		if got := f.checkState(0); got != "up" {
			t.Errorf("check: got %s, want up", got)
		}
		if got := f.componentStatus(); got != "operational" {
			t.Errorf("component: got %s, want operational", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE status = 'resolved' AND resolved_at IS NOT NULL`); n != 1 {
			t.Errorf("resolved incidents: got %d, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM incident_updates`); n != 2 {
			t.Errorf("incident updates: got %d, want 2 (opened, resolved)", n)
		}
		if n := f.outbox("incident.resolved"); n != 1 {
			t.Errorf("incident.resolved events: got %d, want 1", n)
		}
		var newStatus string
		if err := s.DB().QueryRow(`SELECT new_status FROM incident_components`).Scan(&newStatus); err != nil {
			t.Fatal(err)
		}
		if newStatus != "operational" {
			t.Errorf("incident component after resolution: got %s, want operational", newStatus)
		}
		// Down again: a new incident.
		process(t, a, f.round(4, all(probes.StateDown), 0))
		process(t, a, f.round(5, all(probes.StateDown), 0))
		if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 2 {
			t.Errorf("incidents after a second outage: got %d, want 2", n)
		}
	})
}

func TestCertIssuerChanged(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		a := f.aggregator(Options{})
		process(t, a, f.round(1, all(probes.StateUp), 0))
		next := f.round(2, all(probes.StateUp), 0)
		for i := range next {
			leaf := &next[i].Result.Nodes[0].TLS.Leaf
			leaf.Issuer, leaf.SHA256 = "CN=Internal CA", "sha-internal"
		}
		process(t, a, next)
		process(t, a, f.round(3, all(probes.StateUp), 0)) // back to the original issuer
		if n := f.count(`SELECT COUNT(*) FROM check_results WHERE problems LIKE '%cert_issuer_changed%'`); n != 6 {
			t.Errorf("results with cert_issuer_changed: got %d, want 6 (rounds 2 and 3, three regions)", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM check_results WHERE problems LIKE '%cert_issuer_changed%' AND state = 'degraded'`); n != 6 {
			t.Errorf("degraded results with cert_issuer_changed: got %d, want 6", n)
		}
		if n := f.outbox("cert.issuer_changed"); n != 6 {
			t.Errorf("cert.issuer_changed events: got %d, want 6", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM certificates WHERE org_id = ?`, f.org); n != 2 {
			t.Errorf("certificates: got %d, want 2", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM cert_observations WHERE org_id = ?`, f.org); n != 6 {
			t.Errorf("observations: got %d, want 6", n)
		}
		process(t, a, f.round(4, all(probes.StateUp), 0))
		if n := f.outbox("cert.issuer_changed"); n != 6 {
			t.Errorf("cert.issuer_changed after a steady round: got %d, want still 6", n)
		}
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
