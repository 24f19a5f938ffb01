package aggregate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/probes"
)

var regions3 = []string{"fra", "iad", "sin"}

// fixture is one organisation with a page, a component and its checks.
type fixture struct {
	t      testing.TB
	s      *store.Store
	org    int64
	page   store.Page
	comp   store.Component
	checks []store.Check
	base   time.Time // round 0
}

func newFixture(t testing.TB, s *store.Store, nChecks int) *fixture {
	return newOrgFixture(t, s, "acme", nChecks)
}

// newOrgFixture is newFixture for an organisation of another slug, so
// that several share one store.
func newOrgFixture(t testing.TB, s *store.Store, slug string, nChecks int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, s: s, base: time.Now().UTC().Truncate(time.Second)}
	err := s.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.CreateOrg(ctx, strings.ToUpper(slug), slug)
		if err != nil {
			return err
		}
		f.org = org.ID
		if f.page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: slug, Title: strings.ToUpper(slug), TimeZone: "UTC", Regions: regions3}); err != nil {
			return err
		}
		if f.comp, err = tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: f.page.ID, Name: "API"}); err != nil {
			return err
		}
		for i := range nChecks {
			c, err := tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: f.page.ID, ComponentID: f.comp.ID,
				Name: fmt.Sprintf("check-%d", i), URL: fmt.Sprintf("https://t%d.example/", i), Spec: fixtureSpec(i),
				Regions: regions3, Interval: time.Minute, ConfirmRounds: 2})
			if err != nil {
				return err
			}
			f.checks = append(f.checks, c)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return f
}

// fixtureCA is a throw-away CA certificate (no key exists any more): a
// check of a private endpoint carries one in its spec, as `tls.ca`.
const fixtureCA = "" +
	"-----BEGIN CERTIFICATE-----\n" +
	"MIIBeDCCAR+gAwIBAgIUDFfiyJ9++vqHCTLh8MWgtH9H5FMwCgYIKoZIzj0EAwIw\n" +
	"EjEQMA4GA1UEAwwHU29hayBDQTAeFw0yNjEyMDEwNTExNDZaFw0yNjEyMzEwNTEx\n" +
	"NDZaMBIxEDAOBgNVBAMMB1NvYWsgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n" +
	"AASmD5RhUNb9j4Gua3bjIsL2KcwBMocuXS8G60iYr6Eo9NuSQHRBGcpbCkXDthbV\n" +
	"7IlUKYtC0z6jqnFN0PHPvQ8+o1MwUTAdBgNVHQ4EFgQU2WNfzQjyN9FXyi9aR2WZ\n" +
	"L6C0190wHwYDVR0jBBgwFoAU2WNfzQjyN9FXyi9aR2WZL6C0190wDwYDVR0TAQH/\n" +
	"BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiB8arQXQ6nLTsX/c10V6XvnWDRz46D+\n" +
	"AHXeHQ/DJT992wIgF2QBkOo+yfS9pOFheOIg9uJI/rH5cJFEJcVUM/vx7fE=\n" +
	"-----END CERTIFICATE-----\n"

// fixtureSpec is a check's spec as `pharos apply` stores it for a private
// endpoint with a CA of its own: the size of a real check's row.
func fixtureSpec(i int) []byte {
	b, err := json.Marshal(map[string]any{"url": fmt.Sprintf("https://t%d.example/", i),
		"expect": map[string]any{"status": []int{200}}, "tls": map[string]string{"ca": fixtureCA}})
	if err != nil {
		panic(err)
	}
	return b
}

func (f *fixture) aggregator(opts Options) *Aggregator {
	f.t.Helper()
	if opts.RefreshEvery == 0 {
		opts.RefreshEvery = -1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a, err := New(f.s, nil, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// result is check i's result from region in round, in state.
func (f *fixture) result(i int, region string, round int, state probes.State) pipeline.Result {
	c := f.checks[i]
	at := f.base.Add(time.Duration(round) * time.Minute)
	node := probes.NodeResult{Address: "203.0.113.7:443", State: state, StatusCode: 200,
		Timings: probes.Timings{Total: 100 + int64(round)}}
	r := probes.Result{URL: c.URL, State: state, CheckedAt: at, DurationMS: 100 + int64(round)}
	if state == probes.StateDown {
		p := probes.Problem{Code: probes.CodeConnectionFailed, Severity: probes.SeverityCritical, Node: node.Address,
			Message: "connect 203.0.113.7:443: connection refused"}
		node.StatusCode, node.Problems, r.Problems = 0, []probes.Problem{p}, []probes.Problem{p}
	} else {
		node.TLS = &probes.TLSInfo{Version: "TLS 1.3", ChainTrusted: true, Leaf: probes.CertInfo{
			Subject: "CN=t.example", Issuer: "CN=R11,O=Let's Encrypt,C=US", Serial: "01",
			SHA256: fmt.Sprintf("sha-%d", i), NotBefore: f.base.AddDate(0, -1, 0), NotAfter: f.base.AddDate(0, 2, 0)}}
	}
	r.Nodes = []probes.NodeResult{node}
	return pipeline.Result{
		ID: fmt.Sprintf("r-%d-%s-%d", c.ID, region, round), JobID: fmt.Sprintf("j-%d-%s-%d", c.ID, region, round),
		OrgID: f.org, CheckID: c.ID, Region: region, Round: int64(round), Worker: "w-" + region,
		Produced: at, Result: r,
	}
}

// round is one result per check in checks from each region in round.
func (f *fixture) round(round int, state func(check int, region string) probes.State, checks ...int) []pipeline.Result {
	var out []pipeline.Result
	for _, i := range checks {
		for _, region := range regions3 {
			out = append(out, f.result(i, region, round, state(i, region)))
		}
	}
	return out
}

func all(s probes.State) func(int, string) probes.State {
	return func(int, string) probes.State { return s }
}

func process(t testing.TB, a *Aggregator, results []pipeline.Result) {
	t.Helper()
	if err := a.ProcessBatch(context.Background(), results); err != nil {
		t.Fatalf("ProcessBatch: %v", err)
	}
}

// count runs a COUNT(*) query with '?' placeholders.
func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	if f.s.Dialect() == store.Postgres {
		for i := 1; ; i++ {
			j := strings.IndexByte(query, '?')
			if j < 0 {
				break
			}
			query = query[:j] + fmt.Sprintf("$%d", i) + query[j+1:]
		}
	}
	var n int
	if err := f.s.DB().QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) checkState(i int) string {
	f.t.Helper()
	c, err := f.s.Check(context.Background(), f.org, f.checks[i].ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.State
}

func (f *fixture) componentStatus() string {
	f.t.Helper()
	c, err := f.s.Component(context.Background(), f.org, f.comp.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Status
}

func (f *fixture) outbox(kind string) int {
	return f.count(`SELECT COUNT(*) FROM outbox WHERE org_id = ? AND kind = ?`, f.org, kind)
}
