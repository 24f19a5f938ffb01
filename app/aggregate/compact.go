package aggregate

import (
	"context"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// Steady results (issue 15): most results repeat the one before — the same
// state, no problems, the same certificates on the nodes. Such a result is
// not a check_results row but a sample of its check × region × hour
// segment (store.AppendSteady): time, state and duration, all that the
// rollups, charts and state history read. Full rows are kept for every
// result with problems, for the first result after any change, and for the
// first result of each clock hour per check × region, so the newest full
// result of a region is never more than an hour old; the latest state of a
// steady result points to it (its detail).

// fullEvery is the grain of the full result kept on a steady run.
const fullEvery = time.Hour

// steadyKey is one check seen from one region.
type steadyKey struct {
	check  int64
	region string
}

// steadyPrev is what the previous result of a check × region said.
type steadyPrev struct {
	at     time.Time
	state  string
	clean  bool   // no problems (a result's problems include its nodes')
	detail string // the id of the full row that tells its detail
}

// judgeSteady returns the results (ordered as prepare orders them) to store
// as steady samples, by id, with the id of the full row that tells each
// one's detail, judged against the latest whole-check state
// per check × region stored before the batch and the certificates last
// observed per node (certs, from noteIssuerChanges: a new node serving
// TLS, or a renewed certificate, is a change), then against the batch's own
// earlier results.
func judgeSteady(latest []store.Latest, results []pipeline.Result, certs map[store.CertKey]store.CertSeen) map[string]string {
	prev := make(map[steadyKey]steadyPrev, len(latest))
	for _, l := range latest {
		if l.Node == "" {
			prev[steadyKey{l.CheckID, l.Region}] = steadyPrev{at: l.CheckedAt, state: l.State, clean: noProblems(l.Problems),
				detail: l.ResultID}
		}
	}
	fingerprints := make(map[store.CertKey]string, len(certs))
	for k, c := range certs {
		fingerprints[k] = c.SHA256
	}
	steady := make(map[string]string, len(results))
	for _, r := range results {
		k := steadyKey{r.CheckID, r.Region}
		at := checkedAt(r)
		p, ok := prev[k]
		if ok && !at.After(p.at) {
			continue // late or repeated: kept whole, and the state stays
		}
		cur := steadyPrev{at: at, state: stateOf(r), clean: len(r.Result.Problems) == 0 && r.Result.Error == "", detail: r.ID}
		sameCerts := true
		for _, n := range r.Result.Nodes {
			if n.Address == "" {
				continue
			}
			cur.clean = cur.clean && len(n.Problems) == 0
			if n.TLS != nil && n.TLS.Leaf.SHA256 != "" {
				ck := store.CertKey{CheckID: r.CheckID, Region: r.Region, Node: n.Address}
				sameCerts = sameCerts && fingerprints[ck] == n.TLS.Leaf.SHA256
				fingerprints[ck] = n.TLS.Leaf.SHA256
			}
		}
		if ok && sameCerts && cur.clean && p.clean && cur.state == p.state && store.SteadyState(cur.state) &&
			at.Truncate(fullEvery).Equal(p.at.Truncate(fullEvery)) {
			steady[r.ID], cur.detail = p.detail, p.detail
		}
		prev[k] = cur
	}
	return steady
}

func stateOf(r pipeline.Result) string { return stateOrUnknown(string(r.Result.State)) }

func stateOrUnknown(s string) string {
	if s == "" {
		return string(probes.StateUnknown)
	}
	return s
}

func noProblems(b []byte) bool { return len(b) == 0 || string(b) == "[]" || string(b) == "null" }

// storeResults stores the results: steady ones (steady, from judgeSteady)
// as samples of their segments, the rest as full rows. It returns the ids
// stored for the first time. A redelivered result is found by its id or
// job (full rows) or, being older than the latest state of its check ×
// region by then and so not judged steady again, by its sample already in
// the segment (store.Tx.SteadyStored).
func storeResults(ctx context.Context, tx *store.Tx, results []pipeline.Result, latest []store.Latest,
	steady map[string]string, received time.Time) (map[string]bool, error) {
	newest := make(map[steadyKey]time.Time, len(latest))
	for _, l := range latest {
		if l.Node == "" {
			newest[steadyKey{l.CheckID, l.Region}] = l.CheckedAt
		}
	}
	samples, sampled := make([]store.SteadySample, 0, len(steady)), make([]string, 0, len(steady))
	var late []store.SteadySample
	var lateIDs []string
	for _, r := range results {
		smp := store.SteadySample{OrgID: r.OrgID, CheckID: r.CheckID, Region: r.Region, State: stateOf(r),
			CheckedAt: checkedAt(r), DurationMS: r.Result.DurationMS}
		switch at, ok := newest[steadyKey{r.CheckID, r.Region}]; {
		case steady[r.ID] != "":
			// Its segment holds nothing later than the latest state, which
			// every sample appended advances: the segment need not be read.
			smp.After = at
			samples, sampled = append(samples, smp), append(sampled, r.ID)
		case ok && !smp.CheckedAt.After(at) && store.SteadyState(smp.State):
			late, lateIDs = append(late, smp), append(lateIDs, r.ID)
		}
	}
	seen, err := tx.SteadyStored(ctx, late)
	if err != nil {
		return nil, err
	}
	redelivered := map[string]bool{}
	for i, id := range lateIDs {
		redelivered[id] = seen[i]
	}
	rows := make([]store.ResultRow, 0, len(results)-len(samples))
	for _, r := range results {
		if steady[r.ID] != "" || redelivered[r.ID] {
			continue
		}
		row, err := resultRow(r, received)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	inserted, err := tx.InsertResults(ctx, rows)
	if err != nil {
		return nil, err
	}
	isNew := make(map[string]bool, len(inserted)+len(samples))
	for _, id := range inserted {
		isNew[id] = true
	}
	appended, err := tx.AppendSteady(ctx, samples)
	if err != nil {
		return nil, err
	}
	for i, ok := range appended {
		isNew[sampled[i]] = ok
	}
	return isNew, nil
}
