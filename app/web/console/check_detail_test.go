package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
	"pharos/probes"
)

// failingNodes are the three nodes of the seeded check; the third serves
// another certificate.
var failingNodes = []string{"192.0.2.10:443", "192.0.2.11:443", "192.0.2.12:443"}

// seedFailingCheck stores, through the store as the aggregator does, a
// day of results of tn's check from two regions — the newest from fra
// down with a certificate problem — and the certificates its three nodes
// served: the third node another one than the first two.
func seedFailingCheck(t *testing.T, st *store.Store, tn webtest.Tenant, now time.Time) {
	t.Helper()
	ctx := context.Background()
	good := probes.CertInfo{Subject: "CN=api.a.example", Issuer: "CN=R11,O=Let's Encrypt,C=US", Serial: "04ab",
		SHA256: "9f" + strings.Repeat("1", 62), DNSNames: []string{"api.a.example"},
		NotBefore: now.AddDate(0, 0, -80), NotAfter: now.AddDate(0, 0, 10), DaysLeft: 10}
	odd := good
	odd.SHA256, odd.Serial, odd.Issuer = "7c"+strings.Repeat("2", 62), "05cd", "CN=Old Internal CA"
	odd.NotBefore, odd.NotAfter, odd.DaysLeft = now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1), -1
	var rows []store.ResultRow
	var writes []store.LatestWrite
	var sightings []store.CertSighting
	start := now.Add(-24 * time.Hour).Truncate(time.Hour)
	for at := start; !at.After(now); at = at.Add(20 * time.Minute) {
		last := now.Sub(at) < 20*time.Minute
		for ri, region := range []string{"fra", "nyc"} {
			res := probes.Result{URL: "https://api.a.example/health", State: probes.StateUp, CheckedAt: at}
			for ni, addr := range failingNodes {
				leaf := good
				if ni == 2 {
					leaf = odd
				}
				total := int64(80 + 40*ri + (at.Hour()%6)*15 + ni*5)
				n := probes.NodeResult{Address: addr, State: probes.StateUp, StatusCode: 200,
					Timings: probes.Timings{DNS: 2, Connect: 10, TLS: 30, TTFB: total - 10, Total: total},
					TLS:     &probes.TLSInfo{Version: "TLS 1.3", ChainTrusted: ni != 2, Leaf: leaf}}
				if last && region == "fra" && ni == 2 {
					n.State = probes.StateDown
					n.Problems = []probes.Problem{{Code: probes.CodeCertExpired, Severity: probes.SeverityCritical, Node: addr,
						Message: "certificate for api.a.example expired " + odd.NotAfter.Format(time.RFC3339) + " (1 day ago)"}}
				}
				res.Nodes = append(res.Nodes, n)
				res.Problems = append(res.Problems, n.Problems...)
				res.DurationMS = max(res.DurationMS, total)
				sightings = append(sightings, store.CertSighting{OrgID: tn.Org.ID, CheckID: tn.CheckID, Region: region, Node: addr,
					SHA256: leaf.SHA256, Subject: leaf.Subject, Issuer: leaf.Issuer, Serial: leaf.Serial, DNSNames: leaf.DNSNames,
					NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, Seen: at})
			}
			if len(res.Problems) > 0 {
				res.State = probes.StateDown
				res.Problems = append(res.Problems, probes.Problem{Code: probes.CodeNodesDisagree, Severity: probes.SeverityWarning,
					Message: "nodes of api.a.example serve 2 different certificates"})
			}
			body, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			problems, err := json.Marshal(res.Problems)
			if err != nil {
				t.Fatal(err)
			}
			id := fmt.Sprintf("%s-%d", region, at.Unix())
			rows = append(rows, store.ResultRow{ID: id, OrgID: tn.Org.ID, CheckID: tn.CheckID, Region: region, State: string(res.State),
				CheckedAt: at, DurationMS: res.DurationMS, Problems: problems, Result: body, ReceivedAt: at})
			writes = append(writes, store.LatestWrite{OrgID: tn.Org.ID, CheckID: tn.CheckID, Region: region, State: string(res.State),
				ResultID: id, CheckedAt: at, Problems: problems})
			for _, n := range res.Nodes {
				np, err := json.Marshal(n.Problems)
				if err != nil {
					t.Fatal(err)
				}
				writes = append(writes, store.LatestWrite{OrgID: tn.Org.ID, CheckID: tn.CheckID, Region: region, Node: n.Address,
					State: string(n.State), ResultID: id, CheckedAt: at, Problems: np})
			}
		}
	}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.InsertResults(ctx, rows); err != nil {
			return err
		}
		if _, err := tx.AdvanceLatest(ctx, writes); err != nil {
			return err
		}
		if err := tx.RecordCertificates(ctx, sightings); err != nil {
			return err
		}
		return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: tn.Org.ID, ID: tn.CheckID, State: "down", At: now}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 3; d++ {
		if _, err := st.RollupDay(ctx, tn.Org.ID, now.AddDate(0, 0, -d)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckDetail: a viewer opens a failing check and reads its problem
// per node and region, the TLS version, both charts with their tables, the
// recent results, the state change and the certificate each node served;
// another organisation's check is not found.
func TestCheckDetail(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		seedFailingCheck(t, st, a, time.Now().UTC())
		h := webtest.NewServer(t, st, nil).Handler()
		viewer := webtest.NewBrowser(t, h)
		viewer.Login(a.Viewer, webtest.TestPassword)

		res := viewer.Get(fmt.Sprintf("/admin/checks/%d", a.CheckID))
		if res.Code != http.StatusOK {
			t.Fatalf("check detail: got %d\n%s", res.Code, res.Body)
		}
		for _, want := range []string{
			`data-testid="problem"`, "cert_expired", "critical", "expired", "192.0.2.12:443", "nodes_disagree",
			`data-testid="tls-version">TLS 1.3`,
			`role="img"`, `<title id="chart-day-title">`, `<desc id="chart-day-desc">`, `data-testid="chart-chart-week"`,
			`data-testid="chart-table"`, `class="line series-1 p50"`,
			`data-testid="recent-result"`, `data-testid="state-change"`,
			`data-testid="cert-sighting"`, "CN=Old Internal CA", "served now",
		} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("check detail lacks %q", want)
			}
		}
		if n := strings.Count(res.Body, `data-testid="recent-result"`); n != 20 {
			t.Errorf("recent results: %d rows, want 20", n)
		}
		if n := strings.Count(res.Body, `data-testid="node"`); n != 6 {
			t.Errorf("nodes: %d rows, want 3 per region × 2", n)
		}
		if n := strings.Count(res.Body, `data-testid="cert-sighting"`); n != 6 {
			t.Errorf("certificate history: %d rows, want one per region × node", n)
		}
		if strings.Contains(res.Body, `data-testid="run-now"`) {
			t.Error("a viewer is offered Run now")
		}
		if res := viewer.Get(fmt.Sprintf("/admin/checks/%d", b.CheckID)); res.Code != http.StatusNotFound {
			t.Errorf("another organisation's check: got %d, want 404", res.Code)
		}

		// Past retention the full results are gone: each node keeps its
		// latest state from its own row, without made-up timings or TLS.
		if _, err := st.DB().ExecContext(context.Background(), webtest.Rebind(st, `DELETE FROM check_results WHERE org_id = ?`), a.Org.ID); err != nil {
			t.Fatal(err)
		}
		res = viewer.Get(fmt.Sprintf("/admin/checks/%d", a.CheckID))
		if res.Code != http.StatusOK {
			t.Fatalf("check detail past retention: got %d\n%s", res.Code, res.Body)
		}
		if n := strings.Count(res.Body, "The full result is past retention"); n != 2 {
			t.Errorf("past retention: said so %d times, want once per region", n)
		}
		if n := strings.Count(res.Body, `data-testid="node-pruned"`); n != 6 {
			t.Errorf("past retention: %d nodes without timings, want 3 per region × 2", n)
		}
		for _, bad := range []string{"total 0", "no TLS"} {
			if strings.Contains(res.Body, bad) {
				t.Errorf("past retention: the nodes say %q", bad)
			}
		}
		if n := strings.Count(res.Body, `data-label="State">down</td>`); n != 1 {
			t.Errorf("past retention: %d nodes down, want fra's third", n)
		}

		// A check without any result still renders.
		other := webtest.NewBrowser(t, h)
		other.Login(b.Viewer, webtest.TestPassword)
		if res := other.Get(fmt.Sprintf("/admin/checks/%d", b.CheckID)); res.Code != http.StatusOK || !strings.Contains(res.Body, "No results yet.") {
			t.Errorf("a check without results: got %d", res.Code)
		}
	})
}
