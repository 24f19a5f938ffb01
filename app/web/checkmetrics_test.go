package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"pharos/app/buildinfo"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// seedChecks creates an organisation with a page (slug, custom domain
// domain if not empty), one component and n checks, each with a latest
// whole-check row, its result and a leaf certificate in every region.
// It returns the check ids and the time of the results.
func seedChecks(t testing.TB, st *store.Store, slug, domain string, n int, regions []string) ([]int64, time.Time) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	states := []string{"up", "degraded", "down", "unknown"}
	var ids []int64
	err := st.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.CreateOrg(ctx, slug, slug)
		if err != nil {
			return err
		}
		page, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: slug, Title: slug, Domain: domain, TimeZone: "UTC"})
		if err != nil {
			return err
		}
		if domain != "" { // served only once proven: as if its owner had
			if err := tx.MarkDomainVerified(ctx, org.ID, page.ID, domain, now); err != nil {
				return err
			}
		}
		comp, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: page.ID, Name: "Media CDN"})
		if err != nil {
			return err
		}
		var rows []store.ResultRow
		var writes []store.LatestWrite
		var certs []store.CertSighting
		for i := range n {
			ch, err := tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: page.ID, ComponentID: comp.ID,
				Name: fmt.Sprintf("images %d", i), URL: "https://media.example/logo.png", Spec: []byte(`{}`), Interval: time.Minute})
			if err != nil {
				return err
			}
			ids = append(ids, ch.ID)
			for j, region := range regions {
				id := fmt.Sprintf("%s-%d-%s", slug, i, region)
				state := states[(i+j)%len(states)]
				rows = append(rows, store.ResultRow{ID: id, OrgID: org.ID, CheckID: ch.ID, Region: region, State: state,
					CheckedAt: now, DurationMS: int64(100 + j), Problems: []byte(`[]`), Result: []byte(`{}`), ReceivedAt: now})
				writes = append(writes, store.LatestWrite{OrgID: org.ID, CheckID: ch.ID, Region: region, State: state,
					ResultID: id, CheckedAt: now, Problems: []byte(`[]`), DurationMS: int64(100 + j)})
				sha := fmt.Sprintf("%s-%d", slug, i)
				certs = append(certs, store.CertSighting{OrgID: org.ID, CheckID: ch.ID, Region: region, Node: "203.0.113.7:443",
					SHA256: sha, Subject: "CN=media.example", Issuer: "CN=R11", Serial: sha, DNSNames: []string{"media.example"},
					NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(89 * 24 * time.Hour), Seen: now})
			}
		}
		if _, err := tx.InsertResults(ctx, rows); err != nil {
			return err
		}
		if _, err := tx.AdvanceLatest(ctx, writes); err != nil {
			return err
		}
		return tx.RecordCertificates(ctx, certs)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, now
}

func newMetricsShell(t testing.TB, st *store.Store, checks bool) *Server {
	t.Helper()
	srv, err := New(Options{Listen: "127.0.0.1:0", SecretKey: strings.Repeat("s", 32), Store: st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MetricsChecks: checks, BaseURL: "https://status.pharos.test"})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestCheckSeries: with PHAROS_METRICS_CHECKS on, /metrics has the
// blackbox-style series of every check and region, on SQLite and
// PostgreSQL, and they pass the Prometheus client's lint.
func TestCheckSeries(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ids, now := seedChecks(t, st, "acme", "", 2, []string{"fra", "iad"})
		srv := newMetricsShell(t, st, true)
		body := get(t, srv.Handler(), "/metrics").Body.String()
		labels := func(i int, region string) string {
			return fmt.Sprintf(`check="images %d",check_id="%d",component="Media CDN",page="acme",region="%s"`, i, ids[i], region)
		}
		notAfter := float64(now.Add(89 * 24 * time.Hour).Unix())
		for _, want := range []string{
			// check 0: up from fra, degraded from iad; check 1: degraded, down.
			`pharos_check_up{` + labels(0, "fra") + `} 1`,
			`pharos_check_up{` + labels(0, "iad") + `} 1`,
			`pharos_check_up{` + labels(1, "iad") + `} 0`,
			`pharos_check_state{` + labels(0, "fra") + `,state="up"} 1`,
			`pharos_check_state{` + labels(0, "fra") + `,state="down"} 0`,
			`pharos_check_state{` + labels(1, "iad") + `,state="down"} 1`,
			`pharos_check_state{` + labels(1, "iad") + `,state="degraded"} 0`,
			`pharos_check_duration_seconds{` + labels(0, "iad") + `} 0.101`,
			`pharos_check_cert_not_after_timestamp_seconds{` + labels(1, "fra") + `} ` + fmt.Sprintf("%g", notAfter),
			`pharos_check_metrics_read_error 0`,
		} {
			if !strings.Contains(body, want+"\n") {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// 2 checks × 2 regions × (up + 4 states + duration + expiry).
		if n := strings.Count(body, "\npharos_check_") - strings.Count(body, "\npharos_check_metrics_read_error"); n != 2*2*7 {
			t.Errorf("got %d pharos_check_ series, want %d", n, 2*2*7)
		}
		problems, err := testutil.GatherAndLint(srv.reg, "pharos_check_up", "pharos_check_state", "pharos_check_duration_seconds",
			"pharos_check_cert_not_after_timestamp_seconds", "pharos_check_metrics_read_error", "pharos_build_info")
		if err != nil || len(problems) != 0 {
			t.Errorf("lint: %v %+v", err, problems)
		}
	})
}

// TestCheckSeriesOffByDefault: without the switch, no per-check series.
func TestCheckSeriesOffByDefault(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedChecks(t, st, "acme", "", 1, []string{"fra"})
	body := get(t, newMetricsShell(t, st, false).Handler(), "/metrics").Body.String()
	if strings.Contains(body, "pharos_check_") {
		t.Errorf("per-check series without PHAROS_METRICS_CHECKS:\n%s", body)
	}
}

// TestCheckCollectorLint lints the collector alone, as promtool check
// metrics would, and shows a failed read costs only its own series.
func TestCheckCollectorLint(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := newCheckCollector(func(context.Context) ([]store.CheckRegionState, error) {
		return []store.CheckRegionState{
			{CheckID: 7, Check: `api "health"`, Component: "API", Page: "acme", Region: "fra", State: "down", CheckedAt: at,
				Duration: 10 * time.Second, HasDuration: true, CertNotAfter: at.Add(24 * time.Hour)},
			{CheckID: 7, Check: `api "health"`, Component: "API", Page: "acme", Region: "sin", State: "misconfigured", CheckedAt: at},
		}, nil
	}, log)
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	if n := testutil.CollectAndCount(c); n != 1+2*(1+4)+2 {
		t.Errorf("got %d series, want %d", n, 1+2*(1+4)+2)
	}
	want := `
# HELP pharos_check_state The check's latest state from the region: 1 on the series of the current state (up, degraded, down, unknown), 0 on the others.
# TYPE pharos_check_state gauge
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="fra",state="degraded"} 0
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="fra",state="down"} 1
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="fra",state="unknown"} 0
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="fra",state="up"} 0
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="sin",state="degraded"} 0
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="sin",state="down"} 0
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="sin",state="unknown"} 1
pharos_check_state{check="api \"health\"",check_id="7",component="API",page="acme",region="sin",state="up"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "pharos_check_state"); err != nil {
		t.Error(err)
	}

	failing := newCheckCollector(func(context.Context) ([]store.CheckRegionState, error) {
		return nil, errors.New("database unreachable")
	}, log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(failing)
	rec := get(t, MetricsHandler(reg, ""), "/metrics")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "pharos_check_metrics_read_error 1\n") {
		t.Errorf("failed read: got %d\n%s\nwant 200 with pharos_check_metrics_read_error 1", rec.Code, rec.Body.String())
	}
}

// TestBuildInfo: pharos_build_info carries the build's identity.
func TestBuildInfo(t *testing.T) {
	t.Parallel()
	srv := newMetricsShell(t, storetest.SQLite(t), false)
	bi := buildinfo.Read()
	want := fmt.Sprintf("# HELP pharos_build_info The running build: version, Go version and VCS revision in labels; always 1.\n"+
		"# TYPE pharos_build_info gauge\npharos_build_info{goversion=%q,revision=%q,version=%q} 1\n", bi.GoVersion, bi.Revision, bi.Version)
	if err := testutil.GatherAndCompare(srv.reg, strings.NewReader(want), "pharos_build_info"); err != nil {
		t.Error(err)
	}
}
