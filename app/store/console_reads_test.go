package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// seedOrgCheck creates an organisation named slug with a page, a component
// and a check, and returns their ids.
func seedOrgCheck(t *testing.T, s *store.Store, slug string) (org, comp, check int64) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.CreateOrg(ctx, slug, slug)
		if err != nil {
			return err
		}
		p, err := tx.CreatePage(ctx, store.Page{OrgID: o.ID, Slug: slug, Title: slug, TimeZone: "UTC"})
		if err != nil {
			return err
		}
		c, err := tx.CreateComponent(ctx, store.Component{OrgID: o.ID, PageID: p.ID, Name: "API"})
		if err != nil {
			return err
		}
		ch, err := tx.CreateCheck(ctx, store.Check{OrgID: o.ID, PageID: p.ID, ComponentID: c.ID, Name: slug + " api",
			URL: "https://api.example/", Spec: []byte(`{}`), Interval: time.Minute})
		org, comp, check = o.ID, c.ID, ch.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return org, comp, check
}

// TestCheckDetailReads stores results, latest rows and an incident, and
// reads them back as the check detail does; another organisation reads
// nothing of them.
func TestCheckDetailReads(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, comp, check := seedOrgCheck(t, s, "a")
		other, _, _ := seedOrgCheck(t, s, "b")
		t0 := time.Date(2026, 3, 1, 10, 5, 0, 0, time.UTC)
		type res struct {
			region, state string
			minute, ms    int
		}
		results := []res{{"fra", "up", 0, 100}, {"fra", "down", 1, 10000}, {"fra", "up", 2, 200}, {"nyc", "up", 0, 50}}
		var rows []store.ResultRow
		var writes []store.LatestWrite
		for i, r := range results {
			id := fmt.Sprintf("r%d", i)
			at := t0.Add(time.Duration(r.minute) * time.Minute)
			problems := `[]`
			if r.state == "down" {
				problems = `[{"code":"timeout","severity":"critical","node":"192.0.2.1:443","message":"no answer"}]`
			}
			rows = append(rows, store.ResultRow{ID: id, OrgID: org, CheckID: check, Region: r.region, State: r.state, CheckedAt: at,
				DurationMS: int64(r.ms), Problems: []byte(problems), Result: []byte(`{"state":"` + r.state + `"}`), ReceivedAt: at})
			for _, node := range []string{"", "192.0.2.1:443"} {
				writes = append(writes, store.LatestWrite{OrgID: org, CheckID: check, Region: r.region, Node: node, State: r.state,
					ResultID: id, CheckedAt: at, Problems: []byte(problems)})
			}
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.InsertResults(ctx, rows); err != nil {
				return err
			}
			_, err := tx.AdvanceLatest(ctx, writes)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		latest, err := s.CheckLatestResults(ctx, org, check)
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 2 || latest[0].Region != "fra" || latest[0].State != "up" || string(latest[0].Result) != `{"state":"up"}` ||
			len(latest[0].Nodes) != 1 || latest[0].Nodes[0].Node != "192.0.2.1:443" || latest[1].Region != "nyc" {
			t.Errorf("latest: got %+v, want fra (up, its result, one node) and nyc", latest)
		}

		recent, err := s.RecentResults(ctx, org, check, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(recent) != 2 || recent[0].ID != "r2" || recent[1].ID != "r1" || recent[1].State != "down" {
			t.Errorf("recent: got %+v, want r2 then r1", recent)
		}

		lat, err := s.LatencyBuckets(ctx, org, check, t0.Add(-time.Hour), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		hour := t0.Truncate(time.Hour)
		want := []store.LatencyPoint{{Region: "fra", Start: hour, Count: 2, P50MS: 100, P95MS: 200}, {Region: "nyc", Start: hour, Count: 1, P50MS: 50, P95MS: 50}}
		if diff := cmp.Diff(want, lat); diff != "" {
			t.Errorf("latency (-want +got):\n%s", diff)
		}

		changes, err := s.RegionStateChanges(ctx, org, check, t0.Add(-time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range changes {
			got = append(got, fmt.Sprintf("%s %s→%s %s", c.Region, c.From, c.To, c.At.Format("15:04")))
		}
		wantChanges := []string{"fra down→up 10:07", "fra up→down 10:06", "fra →up 10:05", "nyc →up 10:05"}
		if len(got) == 4 && got[2] == wantChanges[3] { // same instant: either order
			got[2], got[3] = got[3], got[2]
		}
		if diff := cmp.Diff(wantChanges, got); diff != "" {
			t.Errorf("state changes (-want +got):\n%s", diff)
		}

		if _, err := s.DB().ExecContext(ctx, rebind(s, `INSERT INTO incidents (org_id, page_id, component_id, name, status, automatic)
			SELECT org_id, page_id, component_id, 'API down', 'investigating', TRUE FROM checks WHERE id = ?`), check); err != nil {
			t.Fatal(err)
		}
		incs, err := s.CheckIncidents(ctx, org, check, comp, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(incs) != 1 || incs[0].Name != "API down" || incs[0].ResolvedAt != nil || !incs[0].Automatic {
			t.Errorf("incidents: got %+v, want the open automatic one", incs)
		}
		if since, err := s.CheckStateSince(ctx, org, check); err != nil || since != nil {
			t.Errorf("state since: got %v, %v; want nil (never changed)", since, err)
		}

		// Another organisation sees none of it.
		if l, err := s.CheckLatestResults(ctx, other, check); err != nil || len(l) != 0 {
			t.Errorf("other org latest: got %d rows, %v", len(l), err)
		}
		if r, err := s.RecentResults(ctx, other, check, 20); err != nil || len(r) != 0 {
			t.Errorf("other org results: got %d rows, %v", len(r), err)
		}
		if l, err := s.LatencyBuckets(ctx, other, check, t0.Add(-time.Hour), time.Hour); err != nil || len(l) != 0 {
			t.Errorf("other org latency: got %d points, %v", len(l), err)
		}
		if c, err := s.RegionStateChanges(ctx, other, check, t0.Add(-time.Hour), 10); err != nil || len(c) != 0 {
			t.Errorf("other org changes: got %d, %v", len(c), err)
		}
		if i, err := s.CheckIncidents(ctx, other, check, comp, 10); err != nil || len(i) != 0 {
			t.Errorf("other org incidents: got %d, %v", len(i), err)
		}
	})
}

// TestRegionStateChangesPaging stores thousands of results of two regions,
// more than one page of the backward walk, and reads the newest changes
// with several limits and windows: each time those of comparing every
// result with the one before it in its region.
func TestRegionStateChangesPaging(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, _, check := seedOrgCheck(t, s, "a")
		t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		var rows []store.ResultRow
		for i := range 1500 {
			for r, region := range []string{"fra", "nyc"} {
				state := "up"
				if region == "fra" && (i >= 300 && i < 310 || i == 1200) || region == "nyc" && (i/97)%2 == 1 {
					state = "down"
				}
				rows = append(rows, store.ResultRow{ID: fmt.Sprintf("%s-%04d", region, i), OrgID: org, CheckID: check, Region: region,
					State: state, CheckedAt: t0.Add(time.Duration(i)*time.Minute + time.Duration(r)*time.Second), Problems: []byte(`[]`),
					Result: []byte(`{}`), ReceivedAt: t0})
			}
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.InsertResults(ctx, rows); return err }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			sinceMinute, limit int
		}{{0, 1}, {0, 5}, {0, 50}, {0, 10000}, {1100, 3}, {1199, 10000}, {1499, 10}, {1600, 10}} {
			since := t0.Add(time.Duration(tc.sinceMinute) * time.Minute)
			var want []string
			prev := map[string]string{}
			for _, r := range rows {
				if r.CheckedAt.Before(since) {
					continue
				}
				if from, seen := prev[r.Region]; !seen || from != r.State {
					want = append(want, fmt.Sprintf("%s %s→%s %s", r.Region, from, r.State, r.CheckedAt.Format("02 15:04:05")))
				}
				prev[r.Region] = r.State
			}
			slices.Reverse(want)
			want = want[:min(len(want), tc.limit)]
			changes, err := s.RegionStateChanges(ctx, org, check, since, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, fmt.Sprintf("%s %s→%s %s", c.Region, c.From, c.To, c.At.Format("02 15:04:05")))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("since minute %d, limit %d (-want +got):\n%s", tc.sinceMinute, tc.limit, diff)
			}
		}
	})
}

// TestCertInventory records a check whose three nodes (seen from one
// region) serve two certificates, one of which replaced a certificate of
// another issuer, and reads the inventory and the check's history.
func TestCertInventory(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, _, check := seedOrgCheck(t, s, "a")
		other, _, _ := seedOrgCheck(t, s, "b")
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		cert := func(sha, issuer string, notBefore time.Time, life time.Duration) store.CertSighting {
			return store.CertSighting{OrgID: org, CheckID: check, Region: "fra", SHA256: sha, Subject: "CN=api.example",
				Issuer: issuer, Serial: "01" + sha, DNSNames: []string{"api.example"}, NotBefore: notBefore, NotAfter: notBefore.Add(life)}
		}
		at := func(c store.CertSighting, node string, seen time.Time) store.CertSighting {
			c.Node, c.Seen = node, seen
			return c
		}
		old := cert("aaa", "CN=Old CA", now.AddDate(0, -3, 0), 90*24*time.Hour)
		cur := cert("bbb", "CN=R11", now.AddDate(0, 0, -70), 90*24*time.Hour) // 78 % used: overdue
		odd := cert("ccc", "CN=R11", now.AddDate(0, 0, -5), 90*24*time.Hour)
		sightings := []store.CertSighting{
			at(old, "n1:443", now.Add(-80*24*time.Hour)), at(old, "n1:443", now.Add(-70*24*time.Hour)),
			at(cur, "n1:443", now.Add(-69*24*time.Hour)), at(cur, "n1:443", now),
			at(cur, "n2:443", now), at(odd, "n3:443", now),
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.RecordCertificates(ctx, sightings) }); err != nil {
			t.Fatal(err)
		}
		inv, err := s.CertInventory(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			SHA                                     string
			Current, Disagree, IssuerChanged, Overd bool
			Nodes                                   []string
		}
		var got []row
		for _, c := range inv {
			got = append(got, row{c.SHA256, c.Current, c.NodesDisagree, c.IssuerChanged, c.RenewalOverdue(now), c.Nodes})
		}
		want := []row{
			{"aaa", false, false, false, false, []string{"n1:443"}},
			{"bbb", true, true, true, true, []string{"n1:443", "n2:443"}},
			{"ccc", true, true, false, false, []string{"n3:443"}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("inventory (-want +got):\n%s", diff)
		}
		if d := inv[1].DaysLeft(now); d != 20 {
			t.Errorf("days left: got %d, want 20", d)
		}

		filtered := func(f store.CertFilter) []string {
			var out []string
			for _, c := range inv {
				if f.Keep(c, now) {
					out = append(out, c.SHA256)
				}
			}
			return out
		}
		for _, tc := range []struct {
			f    store.CertFilter
			want []string
		}{
			{store.CertFilter{ExpiringDays: 30}, []string{"bbb"}}, // aaa expired but no longer served
			{store.CertFilter{Kind: store.CertFilterNodesDisagree}, []string{"bbb", "ccc"}},
			{store.CertFilter{Kind: store.CertFilterRenewalOverdue}, []string{"bbb"}},
			{store.CertFilter{Kind: store.CertFilterIssuerChanged}, []string{"bbb"}},
			{store.CertFilter{}, []string{"aaa", "bbb", "ccc"}},
		} {
			if diff := cmp.Diff(tc.want, filtered(tc.f)); diff != "" {
				t.Errorf("filter %+v (-want +got):\n%s", tc.f, diff)
			}
		}

		// A page of the inventory says the same of its certificates, with
		// or without a filter.
		for _, tc := range []struct {
			f             store.CertFilter
			offset, limit int
			want          []string
			matching      int
		}{
			{store.CertFilter{}, 0, 10, []string{"aaa", "bbb", "ccc"}, 3},
			{store.CertFilter{}, 1, 1, []string{"bbb"}, 3},
			{store.CertFilter{}, 3, 10, nil, 3},
			{store.CertFilter{ExpiringDays: 30}, 0, 10, []string{"bbb"}, 1},
			{store.CertFilter{Kind: store.CertFilterNodesDisagree}, 1, 10, []string{"ccc"}, 2},
			{store.CertFilter{Kind: store.CertFilterRenewalOverdue}, 0, 10, []string{"bbb"}, 1},
			{store.CertFilter{Kind: store.CertFilterIssuerChanged, ExpiringDays: 90}, 0, 10, []string{"bbb"}, 1},
		} {
			page, err := s.CertInventoryPage(ctx, org, tc.f, now, tc.offset, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var want []store.InventoryCert
			for _, c := range inv {
				if slices.Contains(tc.want, c.SHA256) {
					want = append(want, c)
				}
			}
			if diff := cmp.Diff(want, page.Certs); diff != "" {
				t.Errorf("page %+v from %d (-inventory +page):\n%s", tc.f, tc.offset, diff)
			}
			if page.Matching != tc.matching || page.Total != 3 {
				t.Errorf("page %+v: got %d matching of %d, want %d of 3", tc.f, page.Matching, page.Total, tc.matching)
			}
		}
		if got := inv[1].Checks; len(got) != 1 || got[0].ID != check || got[0].Name != "a api" {
			t.Errorf("checks of bbb: got %+v, want the one check", got)
		}
		for n, want := range map[int][]string{1: {"bbb"}, 10: {"bbb", "ccc"}} {
			exp, err := s.ExpiringCerts(ctx, org, n)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range exp {
				got = append(got, c.SHA256)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("expiring %d (-want +got):\n%s", n, diff)
			}
		}

		hist, err := s.CheckCertHistory(ctx, org, check)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, h := range hist {
			lines = append(lines, fmt.Sprintf("%s %s %s %v", h.Node, h.SHA256, h.Subject, h.Current))
		}
		wantLines := []string{"n1:443 aaa CN=api.example false", "n1:443 bbb CN=api.example true", "n2:443 bbb CN=api.example true", "n3:443 ccc CN=api.example true"}
		if diff := cmp.Diff(wantLines, lines); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}

		if inv, err := s.CertInventory(ctx, other); err != nil || len(inv) != 0 {
			t.Errorf("other org inventory: got %d, %v", len(inv), err)
		}
		if h, err := s.CheckCertHistory(ctx, other, check); err != nil || len(h) != 0 {
			t.Errorf("other org history: got %d, %v", len(h), err)
		}
		if p, err := s.CertInventoryPage(ctx, other, store.CertFilter{}, now, 0, 10); err != nil || len(p.Certs) != 0 || p.Total != 0 {
			t.Errorf("other org page: got %+v, %v", p, err)
		}
		if l, err := s.ExpiringCerts(ctx, other, 10); err != nil || len(l) != 0 {
			t.Errorf("other org expiring: got %d, %v", len(l), err)
		}
	})
}
