package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestCheckRegionStates reads every organisation's enabled checks' latest
// state per region, with the newest result's duration (a steady sample's,
// newer than the full row it points to) and the expiry of the certificates
// their nodes serve now.
func TestCheckRegionStates(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgA, _, checkA := seedOrgCheck(t, s, "a")
		orgB, _, checkB := seedOrgCheck(t, s, "b")
		orgC, _, checkC := seedOrgCheck(t, s, "c") // disabled below: absent
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		day := 24 * time.Hour

		type latest struct {
			org, check    int64
			region, state string
			ms            int64
			stored        bool  // false: the result was pruned
			latestMS      int64 // the newest result's, a steady sample's, not the row's
		}
		var rows []store.ResultRow
		var writes []store.LatestWrite
		for i, l := range []latest{
			{orgA, checkA, "fra", "up", 120, true, 125},
			{orgA, checkA, "nyc", "down", 10000, true, 10000},
			{orgA, checkA, "sin", "degraded", 0, false, 30},
			{orgB, checkB, "fra", "up", 80, true, 80},
			{orgC, checkC, "fra", "up", 50, true, 50},
		} {
			id := fmt.Sprintf("r%d", i)
			if l.stored {
				rows = append(rows, store.ResultRow{ID: id, OrgID: l.org, CheckID: l.check, Region: l.region, State: l.state,
					CheckedAt: now, DurationMS: l.ms, Problems: []byte(`[]`), Result: []byte(`{}`), ReceivedAt: now})
			}
			for _, node := range []string{"", "192.0.2.1:443"} {
				writes = append(writes, store.LatestWrite{OrgID: l.org, CheckID: l.check, Region: l.region, Node: node,
					State: l.state, ResultID: id, CheckedAt: now, Problems: []byte(`[]`), DurationMS: l.latestMS})
			}
		}
		cert := func(org, check int64, region, node, sha string, notAfter, seen time.Time) store.CertSighting {
			return store.CertSighting{OrgID: org, CheckID: check, Region: region, Node: node, SHA256: sha, Subject: "CN=api.example",
				Issuer: "CN=R11", Serial: "01" + sha, DNSNames: []string{"api.example"}, NotBefore: notAfter.Add(-90 * day),
				NotAfter: notAfter, Seen: seen}
		}
		sightings := []store.CertSighting{
			// fra: n1 replaced its certificate (the old one expired
			// sooner and no longer counts); n2 serves a third.
			cert(orgA, checkA, "fra", "n1:443", "old", now.Add(2*day), now.Add(-10*day)),
			cert(orgA, checkA, "fra", "n1:443", "new", now.Add(80*day), now),
			cert(orgA, checkA, "fra", "n2:443", "mid", now.Add(40*day), now),
			// nyc: n3 left DNS two days ago; its certificate no longer counts.
			cert(orgA, checkA, "nyc", "n1:443", "new", now.Add(80*day), now),
			cert(orgA, checkA, "nyc", "n3:443", "gone", now.Add(1*day), now.Add(-2*day)),
			// Organisation b stores the same fingerprint with its own record.
			cert(orgB, checkB, "fra", "n1:443", "mid", now.Add(40*day), now),
			cert(orgC, checkC, "fra", "n1:443", "ccc", now.Add(5*day), now),
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.InsertResults(ctx, rows); err != nil {
				return err
			}
			if _, err := tx.AdvanceLatest(ctx, writes); err != nil {
				return err
			}
			if err := tx.RecordCertificates(ctx, sightings); err != nil {
				return err
			}
			_, err := tx.SetCheckEnabled(ctx, orgC, checkC, false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		got, err := s.CheckRegionStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.CheckRegionState{
			{OrgID: orgA, CheckID: checkA, Check: "a api", Component: "API", Page: "a", Region: "fra", State: "up", CheckedAt: now,
				Duration: 125 * time.Millisecond, HasDuration: true, CertNotAfter: now.Add(40 * day)},
			{OrgID: orgA, CheckID: checkA, Check: "a api", Component: "API", Page: "a", Region: "nyc", State: "down", CheckedAt: now,
				Duration: 10 * time.Second, HasDuration: true, CertNotAfter: now.Add(80 * day)},
			{OrgID: orgA, CheckID: checkA, Check: "a api", Component: "API", Page: "a", Region: "sin", State: "degraded", CheckedAt: now,
				Duration: 30 * time.Millisecond, HasDuration: true},
			{OrgID: orgB, CheckID: checkB, Check: "b api", Component: "API", Page: "b", Region: "fra", State: "up", CheckedAt: now,
				Duration: 80 * time.Millisecond, HasDuration: true, CertNotAfter: now.Add(40 * day)},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("check region states (-want +got):\n%s", diff)
		}
	})
}

func TestCheckRegionStatesEmpty(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		got, err := s.CheckRegionStates(context.Background())
		if err != nil || len(got) != 0 {
			t.Errorf("empty store: got %v, %v; want nothing", got, err)
		}
	})
}
