package aggregate

import (
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// Compact steady results (issue 15): most results repeat the one before —
// the same state, no problems, the same certificates on the nodes. Such a result is stored without its full JSON
// (store.ResultRow.Compact): check, region, time, state and duration are
// all the rollups, charts and state history read. Full detail is kept for
// every result with problems, for the first result after any change, and
// for the first result of each clock hour per check × region, so the
// newest full result of a region is never more than an hour old.

// fullEvery is the grain of the full result kept on a steady run.
const fullEvery = time.Hour

// steadyKey is one check seen from one region.
type steadyKey struct {
	check  int64
	region string
}

// steadyPrev is what the previous result of a check × region said.
type steadyPrev struct {
	at    time.Time
	state string
	clean bool // no problems (a result's problems include its nodes')
}

// judgeSteady returns the ids of the results (ordered as prepare orders
// them) to store compactly, judged against the latest whole-check state
// per check × region stored before the batch and the certificates last
// observed per node (certs, from noteIssuerChanges: a new node serving
// TLS, or a renewed certificate, is a change), then against the batch's own
// earlier results.
func judgeSteady(latest []store.Latest, results []pipeline.Result, certs map[store.CertKey]store.CertSeen) map[string]bool {
	prev := make(map[steadyKey]steadyPrev, len(latest))
	for _, l := range latest {
		if l.Node == "" {
			prev[steadyKey{l.CheckID, l.Region}] = steadyPrev{at: l.CheckedAt, state: l.State, clean: noProblems(l.Problems)}
		}
	}
	fingerprints := make(map[store.CertKey]string, len(certs))
	for k, c := range certs {
		fingerprints[k] = c.SHA256
	}
	steady := map[string]bool{}
	for _, r := range results {
		k := steadyKey{r.CheckID, r.Region}
		at := checkedAt(r)
		p, ok := prev[k]
		if ok && !at.After(p.at) {
			continue // late or repeated: kept whole, and the state stays
		}
		cur := steadyPrev{at: at, state: stateOf(r), clean: len(r.Result.Problems) == 0 && r.Result.Error == ""}
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
		if ok && sameCerts && cur.clean && p.clean && cur.state == p.state &&
			at.Truncate(fullEvery).Equal(p.at.Truncate(fullEvery)) {
			steady[r.ID] = true
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
