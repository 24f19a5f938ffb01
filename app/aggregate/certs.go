package aggregate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

// lastSeenGrain is how stale an observation's last_seen may get before a
// sighting of the same certificate is written again: steady rounds then
// cost no certificate writes at all.
const lastSeenGrain = 10 * time.Minute

// noteIssuerChanges compares the issuer of each node's leaf certificate
// with the one last observed on that node of the check (from that region)
// and, when it differs, adds a cert_issuer_changed warning to the result
// before it is stored, and prepares an operator event written if the result
// turns out to be new. Results are modified in place (their slices copied).
//
// It returns the certificates observed before the batch, for sightings.
func (a *Aggregator) noteIssuerChanges(ctx context.Context, tx *store.Tx, results []pipeline.Result, checks map[int64]store.CheckInfo, out *outcome) (map[store.CertKey]store.CertSeen, error) {
	places := map[int64][]store.CheckRegion{}
	seen := map[store.CheckRegion]bool{}
	for i := range results {
		r := &results[i]
		if !slices.ContainsFunc(r.Result.Nodes, func(n probes.NodeResult) bool { return n.TLS != nil && n.TLS.Leaf.SHA256 != "" }) {
			continue
		}
		p := store.CheckRegion{CheckID: r.CheckID, Region: r.Region}
		if !seen[p] {
			seen[p] = true
			places[r.OrgID] = append(places[r.OrgID], p)
		}
	}
	if len(places) == 0 {
		return nil, nil
	}
	before, missing := a.owned.getCerts(places, a.opts.Now())
	out.certsRead = missing
	read, err := tx.LastCertificates(ctx, missing)
	if err != nil {
		return nil, err
	}
	maps.Copy(before, read)
	last := make(map[store.CertKey]string, len(before))
	for k, c := range before {
		last[k] = c.Issuer
	}
	for i := range results {
		r := &results[i]
		for j, n := range r.Result.Nodes {
			if n.TLS == nil || n.TLS.Leaf.SHA256 == "" {
				continue
			}
			key := store.CertKey{CheckID: r.CheckID, Region: r.Region, Node: n.Address}
			prev, seen := last[key]
			last[key] = n.TLS.Leaf.Issuer
			if !seen || prev == n.TLS.Leaf.Issuer {
				continue
			}
			p := probes.Problem{
				Code:     probes.CodeCertIssuerChanged,
				Severity: probes.DefaultSeverity(probes.CodeCertIssuerChanged),
				Node:     n.Address,
				Message: fmt.Sprintf("certificate issuer on %s changed from %q to %q (now serving %s)",
					n.Address, prev, n.TLS.Leaf.Issuer, n.TLS.Leaf.Subject),
			}
			addProblem(r, j, p)
			out.issuerNotes[r.ID] = append(out.issuerNotes[r.ID], store.OutboxEvent{
				OrgID:          r.OrgID,
				Kind:           "cert.issuer_changed",
				IdempotencyKey: "cert.issuer_changed:" + r.ID + ":" + n.Address,
				At:             checkedAt(*r),
				Payload: map[string]any{
					"check_id": r.CheckID, "check_name": checks[r.CheckID].Name, "region": r.Region,
					"node": n.Address, "previous_issuer": prev, "issuer": n.TLS.Leaf.Issuer,
					"sha256": n.TLS.Leaf.SHA256, "result_id": r.ID, "message": p.Message,
				},
			})
		}
	}
	return before, nil
}

// addProblem adds p to node j of r and to the result, worsening an up state
// to degraded, without touching slices the caller still shares.
func addProblem(r *pipeline.Result, j int, p probes.Problem) {
	r.Result.Nodes = slices.Clone(r.Result.Nodes)
	n := &r.Result.Nodes[j]
	n.Problems = append(slices.Clip(n.Problems), p)
	if n.State == probes.StateUp {
		n.State = probes.StateDegraded
	}
	r.Result.Problems = append(slices.Clip(r.Result.Problems), p)
	if r.Result.State == probes.StateUp {
		r.Result.State = probes.StateDegraded
	}
}

// sightings lists the leaf certificates the results saw, for the inventory,
// leaving out those already recorded at the same place within
// lastSeenGrain.
func sightings(results []pipeline.Result, before map[store.CertKey]store.CertSeen) []store.CertSighting {
	var out []store.CertSighting
	for _, r := range results {
		for _, n := range r.Result.Nodes {
			if n.TLS == nil || n.TLS.Leaf.SHA256 == "" {
				continue
			}
			l := n.TLS.Leaf
			prev, ok := before[store.CertKey{CheckID: r.CheckID, Region: r.Region, Node: n.Address}]
			if ok && prev.SHA256 == l.SHA256 && checkedAt(r).Sub(prev.LastSeen) < lastSeenGrain {
				continue
			}
			out = append(out, store.CertSighting{
				OrgID: r.OrgID, CheckID: r.CheckID, Region: r.Region, Node: n.Address,
				SHA256: l.SHA256, Subject: l.Subject, Issuer: l.Issuer, Serial: l.Serial, DNSNames: l.DNSNames,
				NotBefore: l.NotBefore, NotAfter: l.NotAfter, Seen: checkedAt(r),
			})
		}
	}
	return out
}
