package aggregate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// hourFixture is one check whose round 0 opens a clock hour (three hours
// ago), with its aggregator.
func hourFixture(t *testing.T, s *store.Store) (*fixture, *Aggregator) {
	f := newFixture(t, s, 1)
	f.base = time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	return f, f.aggregator(Options{})
}

// TestSteadyResultsStoredCompactly runs one check from three regions
// through steady rounds, an outage, a recovery, a new node, a renewed
// certificate and an hour boundary, and checks which results keep their
// full JSON.
func TestSteadyResultsStoredCompactly(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f, a := hourFixture(t, s)
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
		type point struct {
			region, state string
			at            time.Time
			ms            int64
		}
		var wantPoints []point
		for _, b := range batches {
			for _, r := range b {
				if wantFull[int(r.Round)] {
					want[r.ID] = true
				}
				wantPoints = append(wantPoints, point{r.Region, string(r.Result.State), r.Result.CheckedAt, r.Result.DurationMS})
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
			t.Errorf("results stored as rows, whole (-want +got):\n%s", diff)
		}
		// Every result reads back once (the redelivered round 2 too), the
		// steady ones from their segments.
		points, err := s.ResultsBetween(context.Background(), f.org, f.checks[0].ID, f.base, f.base.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var gotPoints []point
		for _, p := range points {
			gotPoints = append(gotPoints, point{p.Region, p.State, p.CheckedAt, p.DurationMS})
		}
		byTime := func(a, b point) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return strings.Compare(a.region, b.region)
		}
		slices.SortFunc(wantPoints, byTime)
		slices.SortFunc(gotPoints, byTime)
		if diff := cmp.Diff(wantPoints, gotPoints, cmp.AllowUnexported(point{})); diff != "" {
			t.Errorf("results read back (-want +got):\n%s", diff)
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

// TestSteadyResultsLeaveNodeRows: a steady result advances its
// whole-check row alone; node rows are written by full results, so a
// node's row still follows every change of state.
func TestSteadyResultsLeaveNodeRows(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f, a := hourFixture(t, s)
		type row struct {
			Node, State, Result string
			Streak, Minute      int
		}
		rows := func() []row {
			t.Helper()
			var out []row
			err := s.InTx(context.Background(), func(tx *store.Tx) error {
				ls, err := tx.LatestForChecks(context.Background(), map[int64][]int64{f.org: {f.checks[0].ID}})
				for _, l := range ls {
					if l.Region == "fra" {
						out = append(out, row{l.Node, l.State, l.ResultID, l.Streak, int(l.CheckedAt.Sub(f.base) / time.Minute)})
					}
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(out, func(a, b row) int { return strings.Compare(a.Node, b.Node) })
			return out
		}
		id := func(round int) string { return fmt.Sprintf("r-%d-fra-%d", f.checks[0].ID, round) }
		const node = "203.0.113.7:443"
		for r := range 4 { // 0 full, 1–3 steady
			process(t, a, f.round(r, all(probes.StateUp), 0))
		}
		want := []row{{"", "up", id(0), 4, 3}, {node, "up", id(0), 1, 0}}
		if diff := cmp.Diff(want, rows()); diff != "" {
			t.Errorf("after steady rounds (-want +got):\n%s", diff)
		}
		process(t, a, f.round(4, all(probes.StateDown), 0)) // problems: full
		want = []row{{"", "down", id(4), 1, 4}, {node, "down", id(4), 1, 4}}
		if diff := cmp.Diff(want, rows()); diff != "" {
			t.Errorf("after the outage (-want +got):\n%s", diff)
		}
		process(t, a, f.round(5, all(probes.StateUp), 0)) // changed: full
		process(t, a, f.round(6, all(probes.StateUp), 0)) // steady
		want = []row{{"", "up", id(5), 2, 6}, {node, "up", id(5), 1, 5}}
		if diff := cmp.Diff(want, rows()); diff != "" {
			t.Errorf("after the recovery (-want +got):\n%s", diff)
		}
	})
}

// TestJudgeSteadyWithoutHistory: with nothing stored before, the first
// result of each check × region is kept whole, and a later one with
// problems too.
func TestJudgeSteadyWithoutHistory(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	res := func(id string, min int, problems ...probes.Problem) pipeline.Result {
		return pipeline.Result{ID: id, CheckID: 1, Region: "fra", Result: probes.Result{State: probes.StateUp,
			CheckedAt: at.Add(time.Duration(min) * time.Minute), Problems: problems}}
	}
	warn := probes.Problem{Code: probes.CodeCertIssuerChanged, Severity: probes.SeverityWarning}
	got := judgeSteady(nil, []pipeline.Result{res("a", 0), res("b", 1), res("c", 2, warn), res("d", 3), res("e", 4)}, nil)
	if diff := cmp.Diff(map[string]string{"b": "a", "e": "d"}, got); diff != "" {
		t.Errorf("steady (-want +got):\n%s", diff)
	}
}

// TestRollupsIntactWithSegments: the same results, once stored as rows
// only (as before segments) and once through ProcessBatch (steady ones as
// segment samples), roll up to the same day: counts, percentiles, time.
func TestRollupsIntactWithSegments(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
		rows, steady := newOrgFixture(t, s, "rows", 1), newOrgFixture(t, s, "steady", 1)
		a := steady.aggregator(Options{})
		state := func(round int) func(int, string) probes.State {
			return func(_ int, region string) probes.State {
				switch {
				case round%45 >= 40: // an outage every 45 minutes, long enough to confirm
					return probes.StateDown
				case round%45 == 20 && region == "fra":
					return probes.StateDegraded
				}
				return probes.StateUp
			}
		}
		for _, f := range []*fixture{rows, steady} {
			f.base = day.Add(-10 * time.Minute)
		}
		for round := range 24*60 + 20 {
			batch := steady.round(round, state(round), 0)
			for i := range batch { // durations that vary within the hour
				batch[i].Result.DurationMS = int64(40 + (round*7+i)%50)
			}
			process(t, a, batch)
			var whole []store.ResultRow
			for _, r := range rows.round(round, state(round), 0) {
				r.Result.DurationMS = batch[len(whole)].Result.DurationMS
				row, err := resultRow(r, r.Produced)
				if err != nil {
					t.Fatal(err)
				}
				whole = append(whole, row)
			}
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.InsertResults(ctx, whole)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if n := steady.count(`SELECT COUNT(*) FROM check_results WHERE org_id = ?`, steady.org); n > (24*60+20)*3/4 {
			t.Errorf("rows of the steady organisation: got %d, want most of the %d results in segments", n, (24*60+20)*3)
		}
		var all [][]store.Rollup
		for _, f := range []*fixture{rows, steady} {
			if _, err := s.RollupDay(ctx, f.org, day); err != nil {
				t.Fatal(err)
			}
			r, err := s.Rollups(ctx, f.org, f.checks[0].ID, day, day)
			if err != nil {
				t.Fatal(err)
			}
			for i := range r {
				r[i].OrgID, r[i].CheckID = 0, 0
			}
			all = append(all, r)
			if len(r) != 1 || r[0].Down == 0 || r[0].Degraded == 0 || r[0].Time == nil || r[0].Time.Down == 0 {
				t.Fatalf("rollup: got %+v, want one day with down and degraded results and time", r)
			}
		}
		if diff := cmp.Diff(all[0], all[1]); diff != "" {
			t.Errorf("rollups differ between rows and segments:\n%s", diff)
		}
	})
}
