package aggregate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// withProblem rewrites a down result as one whose only node, at node,
// reported p.
func withProblem(r pipeline.Result, node string, p probes.Problem) pipeline.Result {
	p.Node = node
	r.Result.State = probes.StateDown
	r.Result.Problems = []probes.Problem{p}
	r.Result.Nodes = []probes.NodeResult{{Address: node, State: probes.StateDown, Problems: []probes.Problem{p}}}
	return r
}

// problemRound is one round of check i from every region, each reporting p.
func (f *fixture) problemRound(round, i int, node string, p probes.Problem) []pipeline.Result {
	var out []pipeline.Result
	for _, region := range regions3 {
		out = append(out, withProblem(f.result(i, region, round, probes.StateDown), node, p))
	}
	return out
}

// incidents reads the page's incidents as the console sees them (drafts
// and technical detail included); public, as the public does.
func (f *fixture) incidents(console bool) []store.PublicIncident {
	f.t.Helper()
	list, err := f.s.PublicIncidents(context.Background(), f.org, f.page.ID, store.IncidentFilter{Console: console})
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

func (f *fixture) exec(query string) {
	f.t.Helper()
	if _, err := f.s.DB().Exec(query); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

func TestChecksOfOneComponentJoinOneIncident(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 3)
		a := f.aggregator(Options{})
		// Check 0 goes down first; check 1 joins a round later; check 2 stays up.
		process(t, a, f.round(1, all(probes.StateDown), 0))
		process(t, a, append(f.round(2, all(probes.StateDown), 0), f.round(2, all(probes.StateUp), 2)...))
		list := f.incidents(true)
		if len(list) != 1 {
			t.Fatalf("incidents after check 0 went down: got %d, want 1", len(list))
		}
		if got := f.componentStatus(); got != incident.PartialOutage {
			t.Errorf("component with one of three checks down: got %s, want partial_outage", got)
		}
		if in := list[0]; in.Impact != "major" || in.Name != "API partly unavailable" {
			t.Errorf("incident: got %q impact %s, want %q impact major (partial outage)", in.Name, in.Impact, "API partly unavailable")
		}
		process(t, a, f.round(3, all(probes.StateDown), 1))
		process(t, a, f.round(4, all(probes.StateDown), 1))
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE component_id = ?`, f.comp.ID); n != 1 {
			t.Errorf("incidents of the component after a second check went down: got %d, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE check_id = ?`, f.checks[0].ID); n != 1 {
			t.Errorf("incidents naming the first check that failed: got %d, want 1", n)
		}
		in := f.incidents(true)[0]
		last := in.Updates[0] // newest first
		for _, name := range []string{"check-0", "check-1"} {
			if !strings.Contains(last.Technical, name) {
				t.Errorf("technical detail %q does not name %s", last.Technical, name)
			}
		}
		// Check 0 recovers: check 1 keeps the incident open.
		process(t, a, f.round(5, all(probes.StateUp), 0))
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL`); n != 1 {
			t.Errorf("open incidents with check 1 still down: got %d, want 1", n)
		}
		process(t, a, f.round(6, all(probes.StateUp), 1))
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL`); n != 0 {
			t.Errorf("open incidents once every check is up: got %d, want 0", n)
		}
		if n := f.outbox("incident.opened"); n != 1 {
			t.Errorf("incident.opened events: got %d, want 1", n)
		}
		if n := f.outbox("incident.resolved"); n != 1 {
			t.Errorf("incident.resolved events: got %d, want 1", n)
		}
	})
}

// TestImpactAgreesWithComponentStatus: the incident's impact, the
// component's status and the page indicator tell the same story as the
// outage spreads over the component's checks.
func TestImpactAgreesWithComponentStatus(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		a := f.aggregator(Options{})
		steps := []struct {
			checks    []int
			status    string
			impact    string
			indicator string
		}{
			{[]int{0}, incident.PartialOutage, "major", "major"},
			{[]int{0, 1}, incident.MajorOutage, "critical", "critical"},
		}
		round := 0
		for _, step := range steps {
			for range 2 {
				round++
				state := func(check int, _ string) probes.State {
					if slices.Contains(step.checks, check) {
						return probes.StateDown
					}
					return probes.StateUp
				}
				process(t, a, f.round(round, state, 0, 1))
			}
			status := f.componentStatus()
			list := f.incidents(false)
			if len(list) != 1 {
				t.Fatalf("%v down: got %d public incidents, want 1", step.checks, len(list))
			}
			ind := incident.PageIndicator([]string{status}).Indicator
			if want := map[string]string{incident.PartialOutage: "API partly unavailable", incident.MajorOutage: "API unavailable"}[step.status]; list[0].Name != want {
				t.Errorf("%v down: title %q, want %q", step.checks, list[0].Name, want)
			}
			if status != step.status || list[0].Impact != step.impact || ind != step.indicator {
				t.Errorf("%v down: status %s, impact %s, indicator %s; want %s, %s, %s",
					step.checks, status, list[0].Impact, ind, step.status, step.impact, step.indicator)
			}
		}
	})
}

// TestPublicIncidentTextHidesTechnicalDetail: a check URL with a secret
// query string, an internal node address and raw error text reach the
// console's technical detail and nothing public.
func TestPublicIncidentTextHidesTechnicalDetail(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		const url = "https://api.acme.example/health?api_key=SECRET"
		f.exec(fmt.Sprintf(`UPDATE checks SET url = '%s', name = 'lab home by IP' WHERE id = %d`, url, f.checks[0].ID))
		a := f.aggregator(Options{})
		refused := probes.Problem{Code: probes.CodeConnectionFailed, Severity: probes.SeverityCritical,
			Message: "GET " + url + ": dial tcp 10.0.0.5:443: connect: connection refused"}
		expired := probes.Problem{Code: probes.CodeCertExpired, Severity: probes.SeverityCritical,
			Message: "certificate for api.acme.example expired 2026-11-20T03:07:11Z (1 day ago)"}
		for round := 1; round <= 2; round++ {
			process(t, a, f.problemRound(round, 0, "10.0.0.5:443", refused))
		}
		for round := 3; round <= 4; round++ {
			process(t, a, f.problemRound(round, 0, "10.0.0.5:443", expired))
		}
		process(t, a, f.round(5, all(probes.StateUp), 0))

		list := f.incidents(false)
		if len(list) != 1 || len(list[0].Updates) != 3 {
			t.Fatalf("public incidents: got %d (%+v), want 1 with 3 updates (opened, changed, resolved)", len(list), list)
		}
		public := []string{list[0].Name}
		for _, u := range list[0].Updates {
			public = append(public, u.Body)
			if u.Technical != "" {
				t.Errorf("public read carries technical detail %q", u.Technical)
			}
		}
		for _, text := range public {
			for _, secret := range []string{"SECRET", "api_key", "/health", "10.0.0.5", ":443", "lab home by IP",
				"connection_failed", "cert_expired", "connection refused", "dial tcp", "2026-11-20"} {
				if strings.Contains(text, secret) {
					t.Errorf("public text %q contains %q", text, secret)
				}
			}
		}
		var technical []string
		for _, u := range f.incidents(true)[0].Updates {
			technical = append(technical, u.Technical)
		}
		all := strings.Join(technical, "\n")
		for _, want := range []string{"SECRET", "/health", "10.0.0.5:443", "lab home by IP", "connection_failed", "cert_expired", "connection refused"} {
			if !strings.Contains(all, want) {
				t.Errorf("technical detail %q lacks %q", all, want)
			}
		}
		var payloads []string
		rows, err := s.DB().Query(`SELECT payload FROM outbox WHERE kind LIKE 'incident.%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
			payloads = append(payloads, p)
		}
		if len(payloads) != 3 {
			t.Errorf("incident outbox events: got %d, want 3", len(payloads))
		}
		for _, p := range payloads {
			// JSON object keys are sorted: every public field but update_id
			// precedes "technical".
			body, _, ok := strings.Cut(p, `"technical":`)
			if !ok {
				t.Errorf("outbox payload without a technical part: %s", p)
				continue
			}
			if strings.Contains(body, "SECRET") || strings.Contains(body, "10.0.0.5") {
				t.Errorf("outbox payload's public part carries technical detail: %s", body)
			}
		}
	})
}

func TestProblemsChangeUpdatesIncident(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		a := f.aggregator(Options{})
		for round := 1; round <= 3; round++ { // a steady round adds nothing
			process(t, a, f.round(round, all(probes.StateDown), 0))
		}
		if n := f.count(`SELECT COUNT(*) FROM incident_updates`); n != 1 {
			t.Fatalf("updates while the problem stays the same: got %d, want 1", n)
		}
		expired := probes.Problem{Code: probes.CodeCertExpired, Severity: probes.SeverityCritical, Message: "expired"}
		process(t, a, f.problemRound(4, 0, "203.0.113.7:443", expired))
		process(t, a, f.problemRound(5, 0, "203.0.113.7:443", expired))
		in := f.incidents(false)[0]
		if len(in.Updates) != 2 {
			t.Fatalf("updates after the problem changed: got %d, want 2", len(in.Updates))
		}
		if want := "API: certificate expired"; in.Name != want {
			t.Errorf("title after the change: got %q, want %q", in.Name, want)
		}
		if got := in.Updates[0].Body; !strings.Contains(got, "changed") || !strings.Contains(got, "The TLS certificate of t0.example expired") {
			t.Errorf("change update: got %q, want it to say the problem changed to an expired certificate", got)
		}
		if n := f.outbox("incident.updated"); n != 1 {
			t.Errorf("incident.updated events: got %d, want 1", n)
		}
	})
}

func TestAutoIncidentsDraftAndOff(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{store.AutoDraft, store.AutoOff} {
		t.Run(mode, func(t *testing.T) {
			storetest.Backends(t, func(t *testing.T, s *store.Store) {
				f := newFixture(t, s, 1)
				f.exec(fmt.Sprintf(`UPDATE pages SET auto_incidents = '%s' WHERE id = %d`, mode, f.page.ID))
				a := f.aggregator(Options{})
				for round := 1; round <= 2; round++ {
					process(t, a, f.round(round, all(probes.StateDown), 0))
				}
				if got := f.componentStatus(); got != incident.MajorOutage {
					t.Errorf("component: got %s, want major_outage (statuses follow the checks)", got)
				}
				if n := len(f.incidents(false)); n != 0 {
					t.Errorf("public incidents: got %d, want 0", n)
				}
				wantDrafts := map[string]int{store.AutoDraft: 1, store.AutoOff: 0}[mode]
				if n := f.count(`SELECT COUNT(*) FROM incidents WHERE draft`); n != wantDrafts {
					t.Errorf("draft incidents: got %d, want %d", n, wantDrafts)
				}
				if n := f.count(`SELECT COUNT(*) FROM incidents WHERE NOT draft`); n != 0 {
					t.Errorf("published incidents: got %d, want 0", n)
				}
				process(t, a, f.round(3, all(probes.StateUp), 0))
				if got := f.componentStatus(); got != incident.Operational {
					t.Errorf("component after recovery: got %s, want operational", got)
				}
				if n := f.count(`SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL`); n != 0 {
					t.Errorf("open incidents after recovery: got %d, want 0", n)
				}
			})
		})
	}
}

func TestGuardRefusedTargetIsMisconfigured(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		a := f.aggregator(Options{})
		blocked := probes.Problem{Code: probes.CodeBlockedAddress, Severity: probes.SeverityCritical,
			Message: "https://t0.example/: 127.0.0.1 is a loopback address; probes may not reach it"}
		process(t, a, f.round(1, all(probes.StateUp), 0, 1))
		for round := 2; round <= 5; round++ {
			process(t, a, append(f.problemRound(round, 0, "127.0.0.1:443", blocked), f.round(round, all(probes.StateUp), 1)...))
		}
		if got := f.checkState(0); got != string(incident.Misconfigured) {
			t.Errorf("check: got %s, want misconfigured", got)
		}
		if got := f.componentStatus(); got != incident.Operational {
			t.Errorf("component: got %s, want operational (a configuration mistake is no outage)", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 0 {
			t.Errorf("incidents: got %d, want 0", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM outbox WHERE kind LIKE 'incident.%'`); n != 0 {
			t.Errorf("incident events: got %d, want 0", n)
		}
	})
}
