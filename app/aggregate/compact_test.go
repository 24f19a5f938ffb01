package aggregate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestSteadyResultsStoredCompactly runs one check from three regions
// through steady rounds, an outage, a recovery, a new node, a renewed
// certificate and an hour boundary, and checks which results keep their
// full JSON.
func TestSteadyResultsStoredCompactly(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		f.base = time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour) // round 0 opens an hour
		a := f.aggregator(Options{})
		up, down := all(probes.StateUp), all(probes.StateDown)
		var batches [][]pipeline.Result
		for r := range 4 { // 0 full (nothing before), 1–3 steady
			batches = append(batches, f.round(r, up, 0))
		}
		// Two rounds in one batch: the batch's own earlier result counts.
		batches = append(batches, append(f.round(4, up, 0), f.round(5, up, 0)...))
		batches = append(batches, f.round(6, down, 0), f.round(7, down, 0)) // problems: full
		batches = append(batches, f.round(8, up, 0), f.round(9, up, 0))     // 8 changed: full; 9 steady
		moved := f.round(10, up, 0)                                         // another node: full
		for i := range moved {
			moved[i].Result.Nodes[0].Address = "203.0.113.8:443"
		}
		renewed := f.round(11, up, 0) // same node, new certificate: full
		for i := range renewed {
			renewed[i].Result.Nodes[0].Address = "203.0.113.8:443"
			renewed[i].Result.Nodes[0].TLS.Leaf.SHA256 = "sha-renewed"
		}
		steady := f.round(12, up, 0)
		for i := range steady {
			steady[i].Result.Nodes[0].Address = "203.0.113.8:443"
			steady[i].Result.Nodes[0].TLS.Leaf.SHA256 = "sha-renewed"
		}
		batches = append(batches, moved, renewed, steady)
		batches = append(batches, f.round(60, up, 0), f.round(61, up, 0)) // 60: a new hour, full
		for _, b := range batches {
			process(t, a, b)
		}
		// Out of order and redelivered: round 2 again changes nothing.
		process(t, a, f.round(2, up, 0))

		wantFull := map[int]bool{0: true, 6: true, 7: true, 8: true, 10: true, 11: true, 60: true}
		got, want := map[string]bool{}, map[string]bool{}
		for _, b := range batches {
			for _, r := range b {
				want[r.ID] = wantFull[int(r.Round)]
			}
		}
		rows, err := s.DB().QueryContext(context.Background(), `SELECT id, result FROM check_results`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, result string
			if err := rows.Scan(&id, &result); err != nil {
				t.Fatal(err)
			}
			got[id] = result != ""
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("results stored whole (-want +got):\n%s", diff)
		}
		if n := f.count(`SELECT COUNT(*) FROM check_results WHERE result = '' AND (state <> 'up' OR problems <> '[]' OR duration_ms = 0)`); n != 0 {
			t.Errorf("compact rows without their state or duration, or with problems: got %d, want 0", n)
		}
		// The detail shown is the newest full result of each region.
		latest, err := s.CheckLatestResults(context.Background(), f.org, f.checks[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range latest {
			if !contains(string(l.Result), fmt.Sprintf(`"duration_ms":%d`, 100+60)) {
				t.Errorf("%s: latest detail %s, want round 60's", l.Region, l.Result)
			}
		}
		if f.checkState(0) != "up" {
			t.Errorf("check state: got %s, want up", f.checkState(0))
		}
	})
}

// TestJudgeSteadyWithoutHistory: with nothing stored before, the first
// result of each check × region is kept whole, and a later one with
// problems too.
func TestJudgeSteadyWithoutHistory(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	res := func(id string, min int, problems ...probes.Problem) pipeline.Result {
		return pipeline.Result{ID: id, CheckID: 1, Region: "fra", Result: probes.Result{State: probes.StateUp,
			CheckedAt: at.Add(time.Duration(min) * time.Minute), Problems: problems}}
	}
	warn := probes.Problem{Code: probes.CodeCertIssuerChanged, Severity: probes.SeverityWarning}
	got := judgeSteady(nil, []pipeline.Result{res("a", 0), res("b", 1), res("c", 2, warn), res("d", 3), res("e", 4)}, nil)
	if diff := cmp.Diff(map[string]bool{"b": true, "e": true}, got); diff != "" {
		t.Errorf("steady (-want +got):\n%s", diff)
	}
}
