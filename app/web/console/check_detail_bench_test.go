package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
	"pharos/probes"
)

// The console's heavy screens on PostgreSQL at scale: 1,000 checks × 3
// regions × 3 nodes, 14 days of results (every 10 minutes, ~6 million
// rows; the measured check every minute), 14 days of rollups and ~1,400
// certificates, some replaced, some served by a disagreeing node, and
// 50,000 audit rows. The store is seeded once (minutes: -timeout 30m);
// each sub-benchmark reports the server time of one page (handler,
// middleware and queries) as p50/p95; -v logs the reads' plans.
//
//	go test ./app/web/console/ -run '^$' -bench 'Console' -benchtime 200x -timeout 30m -v

var benchRegions = []string{"fra", "nyc", "sin"}
var benchNodes = []string{"10.0.0.1:443", "10.0.0.2:443", "10.0.0.3:443"}

// seedScale fills tn's organisation as above and returns when ANALYZE has
// run, so the planner sees the tables' real sizes.
func seedScale(b *testing.B, st *store.Store, tn webtest.Tenant) {
	b.Helper()
	ctx := context.Background()
	db := st.DB()
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
	org := tn.Org.ID
	exec(`INSERT INTO checks (org_id, page_id, component_id, name, url, regions)
		SELECT $1, $2, $3, 'check ' || g, 'https://svc' || g || '.example/', '["fra","nyc","sin"]' FROM generate_series(2, 1000) g`,
		org, tn.PageID, tn.CompID)
	results := `INSERT INTO check_results (id, org_id, check_id, region, state, checked_at, duration_ms, problems, result)
		SELECT c.id || '-' || r || '-' || extract(epoch from t)::bigint, c.org_id, c.id, r,
			CASE WHEN random() < 0.02 THEN 'down' ELSE 'up' END, t, (50 + random() * 200)::int, '[]', '{}'
		FROM checks c, unnest(ARRAY['fra','nyc','sin']) r, generate_series(date_trunc('minute', now()) - $4::interval, now(), $3::interval) t
		WHERE c.org_id = $1 AND `
	exec(results+`c.id <> $2`, org, tn.CheckID, "10 minutes", benchHistory)
	exec(results+`c.id = $2`, org, tn.CheckID, "1 minute", benchHistory)
	exec(`INSERT INTO check_latest (org_id, check_id, region, node, state, result_id, streak, checked_at, problems)
		SELECT DISTINCT ON (check_id, region) org_id, check_id, region, '', state, id, 1, checked_at, problems
		FROM check_results WHERE org_id = $1 ORDER BY check_id, region, checked_at DESC`, org)
	exec(`INSERT INTO check_latest (org_id, check_id, region, node, state, result_id, streak, checked_at, problems)
		SELECT l.org_id, l.check_id, l.region, n, l.state, l.result_id, 1, l.checked_at, '[]'
		FROM check_latest l, unnest(ARRAY['10.0.0.1:443','10.0.0.2:443','10.0.0.3:443']) n WHERE l.org_id = $1 AND l.node = ''`, org)
	// The measured check's latest results carry a whole probe result.
	res := probes.Result{State: probes.StateUp}
	for _, n := range benchNodes {
		res.Nodes = append(res.Nodes, probes.NodeResult{Address: n, State: probes.StateUp, StatusCode: 200,
			Timings: probes.Timings{DNS: 2, Connect: 10, TLS: 30, TTFB: 80, Total: 90},
			TLS: &probes.TLSInfo{Version: "TLS 1.3", ChainTrusted: true, Leaf: probes.CertInfo{Subject: "CN=a.example",
				Issuer: "CN=R11", SHA256: strings.Repeat("ab", 32), NotAfter: time.Now().AddDate(0, 0, 30), DaysLeft: 30}}})
	}
	body, err := json.Marshal(res)
	if err != nil {
		b.Fatal(err)
	}
	exec(`UPDATE check_results SET result = $1 WHERE id IN (SELECT result_id FROM check_latest WHERE check_id = $2 AND node = '')`,
		string(body), tn.CheckID)

	// Certificates: one per check on every node; every tenth check's third
	// node serves another; every third check replaced one of another issuer.
	cert := func(kind, cond, notBefore, notAfter, issuer string) {
		exec(`INSERT INTO certificates (org_id, sha256, subject, issuer, serial, dns_names, not_before, not_after, first_seen)
			SELECT $1, md5($2 || c.id) || md5($2 || '/' || c.id), 'CN=svc' || c.id || '.example', $3, to_hex(c.id),
				'["svc' || '"]', `+notBefore+`, `+notAfter+`, now() - interval '80 days'
			FROM checks c WHERE c.org_id = $1 AND `+cond, org, kind, issuer)
	}
	cert("cur", "TRUE", "now() - (c.id % 80) * interval '1 day'", "now() + (90 - c.id % 80) * interval '1 day'", "CN=R11")
	cert("odd", "c.id % 10 = 0", "now() - interval '400 days'", "now() - interval '1 day'", "CN=Old CA")
	cert("old", "c.id % 3 = 0", "now() - interval '170 days'", "now() - interval '80 days'", "CN=R10")
	exec(`INSERT INTO cert_observations (org_id, check_id, region, node, sha256, issuer, first_seen, last_seen)
		SELECT $1, c.id, r, n, md5('cur' || c.id) || md5('cur/' || c.id), 'CN=R11', now() - interval '2 days', now()
		FROM checks c, unnest(ARRAY['fra','nyc','sin']) r, unnest(ARRAY['10.0.0.1:443','10.0.0.2:443','10.0.0.3:443']) n
		WHERE c.org_id = $1 AND NOT (c.id % 10 = 0 AND n = '10.0.0.3:443')`, org)
	exec(`INSERT INTO cert_observations (org_id, check_id, region, node, sha256, issuer, first_seen, last_seen)
		SELECT $1, c.id, r, '10.0.0.3:443', md5('odd' || c.id) || md5('odd/' || c.id), 'CN=Old CA', now() - interval '2 days', now()
		FROM checks c, unnest(ARRAY['fra','nyc','sin']) r WHERE c.org_id = $1 AND c.id % 10 = 0`, org)
	exec(`INSERT INTO cert_observations (org_id, check_id, region, node, sha256, issuer, first_seen, last_seen)
		SELECT $1, c.id, r, n, md5('old' || c.id) || md5('old/' || c.id), 'CN=R10', now() - interval '170 days', now() - interval '3 days'
		FROM checks c, unnest(ARRAY['fra','nyc','sin']) r, unnest(ARRAY['10.0.0.1:443','10.0.0.2:443','10.0.0.3:443']) n
		WHERE c.org_id = $1 AND c.id % 3 = 0`, org)
	exec(`INSERT INTO daily_rollups (org_id, check_id, day, total, up, degraded, down, p50_ms, p95_ms)
		SELECT $1, c.id, d::date, 4320, 4300, 0, 20, 120, 240 FROM checks c,
			generate_series(current_date - 13, current_date, interval '1 day') d WHERE c.org_id = $1`, org)
	exec(`UPDATE checks SET state = 'down', state_changed_at = now() WHERE org_id = $1 AND id % 50 = 0`, org)
	// A long audit log whose rows name checks by id, as pausing does.
	exec(`INSERT INTO audit_log (org_id, actor, action, target, detail, created_at)
		SELECT $1, 'user:owner@a.example', 'check.enabled', 'check ' || (g % 1000 + 1), '{"enabled":false,"page_id":' || $2 || '}',
			now() - g * interval '1 minute'
		FROM generate_series(1, 50000) g`, org, fmt.Sprint(tn.PageID))
	exec(`ANALYZE`)
}

// benchHistory is how far back the seeded results go.
const benchHistory = "14 days"

// BenchmarkConsole seeds one store at scale and measures each heavy page
// on it.
func BenchmarkConsole(b *testing.B) {
	st := storetest.Postgres(b)
	a := webtest.SeedTenant(b, st, "a")
	seedScale(b, st, a)
	explainConsole(b, st, a)
	h := webtest.NewServer(b, st, nil).Handler()
	owner := webtest.NewBrowser(b, h)
	owner.Login(a.Owner, webtest.TestPassword)
	for _, p := range []struct{ name, path string }{
		{"CheckDetail", fmt.Sprintf("/admin/checks/%d", a.CheckID)},
		{"Certificates", "/admin/certificates"},
		{"Overview", "/admin/"},
		{"AuditLog", "/admin/audit"},
	} {
		b.Run(p.name, func(b *testing.B) { benchPage(b, owner, p.path) })
	}
}

// benchPage serves path b.N times through the whole server as the signed-in
// owner and reports the p50 and p95 server time.
func benchPage(b *testing.B, owner *webtest.Browser, path string) {
	if res := owner.Get(path); res.Code != http.StatusOK {
		b.Fatalf("%s: got %d\n%s", path, res.Code, res.Body)
	}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if res := owner.Get(path); res.Code != http.StatusOK {
			b.Fatalf("%s: got %d", path, res.Code)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[(len(times)*95+99)/100-1].Microseconds())/1000, "p95-ms")
}

// explainConsole logs the plans (with timings) of the reads behind these
// pages and checks that results are read through an index, and that the
// reads that walk an index (wantIndex) use it. The observations of a page
// of certificates (found by cert_observations_cert, then by the primary
// key) may be read whole here: with one organisation holding every row,
// PostgreSQL rightly scans the small table.
func explainConsole(b *testing.B, st *store.Store, tn webtest.Tenant) {
	b.Helper()
	ctx := context.Background()
	since := time.Now().Add(-24 * time.Hour)
	// The inventory's first page: its certificates and their checks.
	page := benchColumn[string](b, st, `SELECT sha256 FROM certificates WHERE org_id = $1 ORDER BY not_after, sha256 LIMIT 100`, tn.Org.ID)
	pageChecks := benchColumn[int64](b, st, `SELECT DISTINCT check_id FROM cert_observations WHERE org_id = $1 AND sha256 = ANY($2)`,
		tn.Org.ID, page)
	for _, q := range []struct {
		name, sql, wantIndex string
		args                 []any
	}{
		{"latency", `SELECT region, checked_at, duration_ms FROM check_results
			WHERE check_id = $1 AND checked_at >= $2 AND org_id = $3 AND state <> 'down'`, "check_results_check_time",
			[]any{tn.CheckID, since, tn.Org.ID}},
		{"recent", `SELECT id, region, state, checked_at, duration_ms, problems FROM check_results
			WHERE check_id = $1 AND org_id = $2 ORDER BY checked_at DESC LIMIT 20`, "check_results_check_time", []any{tn.CheckID, tn.Org.ID}},
		{"state changes", `SELECT id, region, state, checked_at FROM check_results WHERE check_id = $1 AND checked_at >= $2 AND org_id = $3
			ORDER BY checked_at DESC, id DESC LIMIT 256`, "check_results_check_time",
			[]any{tn.CheckID, since.Add(-6 * 24 * time.Hour), tn.Org.ID}},
		{"latest", `SELECT l.region, l.node, l.state, l.result_id, l.streak, l.checked_at, l.problems, r.result
			FROM check_latest l LEFT JOIN check_results r ON l.node = '' AND r.id = l.result_id AND r.org_id = l.org_id
			WHERE l.org_id = $1 AND l.check_id = $2 ORDER BY l.region, l.node`, "check_latest_pkey", []any{tn.Org.ID, tn.CheckID}},
		{"expiring certificates", `SELECT c.sha256 FROM certificates c WHERE c.org_id = $1 AND EXISTS (SELECT 1 FROM cert_observations o
			WHERE o.org_id = c.org_id AND o.sha256 = c.sha256 AND NOT EXISTS (SELECT 1 FROM cert_observations p
				WHERE p.check_id = o.check_id AND p.region = o.region AND p.node = o.node AND p.last_seen > o.last_seen))
			ORDER BY c.not_after, c.sha256 LIMIT 20`, "cert_observations_cert", []any{tn.Org.ID}},
		{"certificate page", `SELECT sha256 FROM certificates c WHERE c.org_id = $1 ORDER BY c.not_after, c.sha256 LIMIT 100`,
			"certificates_not_after", []any{tn.Org.ID}},
		{"page checks", `SELECT DISTINCT check_id FROM cert_observations WHERE org_id = $1 AND sha256 = ANY($2)`,
			"", []any{tn.Org.ID, page}},
		{"page observations", `SELECT check_id, region, node, sha256, issuer, first_seen, last_seen FROM cert_observations
			WHERE org_id = $1 AND check_id = ANY($2)`, "", []any{tn.Org.ID, pageChecks}},
		{"region latest", `SELECT region, MAX(checked_at) FROM check_latest
			WHERE check_id IN (SELECT id FROM checks WHERE org_id = $1) AND org_id = $2 AND node = '' GROUP BY region`, "",
			[]any{tn.Org.ID, tn.Org.ID}},
		{"region counts", `SELECT region, COUNT(*) FROM check_results WHERE checked_at >= $1 AND org_id = $2 GROUP BY region`,
			"check_results_time", []any{time.Now().Add(-5 * time.Minute), tn.Org.ID}},
		{"audit page", `SELECT id FROM audit_log WHERE org_id = $1 AND action LIKE 'check%' ORDER BY id DESC LIMIT 101`,
			"", []any{tn.Org.ID}},
	} {
		rows, err := st.DB().QueryContext(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+q.sql, q.args...)
		if err != nil {
			b.Fatalf("explain %s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		b.Logf("plan of %s:\n%s", q.name, text)
		for _, table := range []string{"check_results", "audit_log"} {
			if strings.Contains(text, "Seq Scan on "+table) {
				b.Errorf("%s scans %s sequentially:\n%s", q.name, table, text)
			}
		}
		if q.wantIndex != "" && !strings.Contains(text, q.wantIndex) {
			b.Errorf("%s does not use %s:\n%s", q.name, q.wantIndex, text)
		}
	}
}

// benchColumn returns the one column of a query's rows.
func benchColumn[T any](b *testing.B, st *store.Store, query string, args ...any) []T {
	b.Helper()
	rows, err := st.DB().QueryContext(context.Background(), query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			b.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}
