package aggregate

import (
	"context"
	"encoding/json"
	"fmt"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// updateLatest applies the stored results, in order, to the latest state
// per check × region × node (tx.AdvanceLatest counts the streaks with
// incident.NextStreak's rule). An older result arriving after a newer one
// is stored but does not move the latest state back. It returns every
// region's whole-check row (node "") of the touched checks, by check. A
// steady result (steady: its id → the full row that tells its detail)
// points to its detail.
//
// A steady result writes its whole-check row alone. Its nodes have no
// problems, so the probe gave them state up (probes.Worst), as it gave
// the nodes of the clean full result before it: their rows would change
// only in what nothing reads of a node row (when it was checked, its
// streak and duration; the console shows a node's address and state, and
// only once the full result was pruned). That spares two of a
// two-node result's three row writes (BenchmarkTrickle,
// BenchmarkAggregateDrain).
func (a *Aggregator) updateLatest(ctx context.Context, tx *store.Tx, stored []pipeline.Result,
	steady map[string]string) (map[int64][]store.Latest, error) {
	writes := make([]store.LatestWrite, 0, 2*len(stored))
	add := func(r pipeline.Result, node string, state probes.State, problems []probes.Problem, ms int64) error {
		pj, err := problemsJSON(problems)
		if err != nil {
			return fmt.Errorf("aggregate: encode problems of result %s: %w", r.ID, err)
		}
		if state == "" {
			state = probes.StateUnknown
		}
		id := r.ID
		if d := steady[r.ID]; d != "" {
			id = d
		}
		writes = append(writes, store.LatestWrite{OrgID: r.OrgID, CheckID: r.CheckID, Region: r.Region, Node: node,
			State: string(state), ResultID: id, CheckedAt: checkedAt(r), Problems: pj, DurationMS: ms})
		return nil
	}
	for _, r := range stored { // ordered by check, region and time (prepare)
		if err := add(r, "", r.Result.State, r.Result.Problems, r.Result.DurationMS); err != nil {
			return nil, err
		}
		if steady[r.ID] != "" {
			continue
		}
		for _, n := range r.Result.Nodes {
			if n.Address == "" {
				continue
			}
			if err := add(r, n.Address, n.State, n.Problems, n.Timings.Total); err != nil {
				return nil, err
			}
		}
	}
	after, err := tx.AdvanceLatest(ctx, writes)
	if err != nil {
		return nil, err
	}
	return after.Whole, nil
}

// problemsJSON encodes problems as a JSON array; none is "[]".
func problemsJSON(problems []probes.Problem) ([]byte, error) {
	if len(problems) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(problems)
}
