package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

const severityFile = `page: {slug: sev, title: Severity}
regions: [fra]
components:
  - name: Media
    checks:
      - name: images
        url: https://media.acme.example/logo.png
        severity: {cert_renewal_overdue: critical, latency_high: info}
`

// storedSeverity is the severity mapping of the page's only check as a
// worker reads it.
func storedSeverity(t *testing.T, st *store.Store, orgID int64) map[probes.Code]probes.Severity {
	t.Helper()
	checks, err := st.OrgChecks(context.Background(), orgID)
	if err != nil || len(checks) != 1 {
		t.Fatalf("checks: %v, %v", checks, err)
	}
	var spec probes.Spec
	if err := json.Unmarshal(checks[0].Spec, &spec); err != nil {
		t.Fatalf("stored spec %s: %v", checks[0].Spec, err)
	}
	return spec.Severity
}

// TestApplySeverity: a check's severity mapping reaches the stored spec
// the workers read, applying the file again changes nothing, and changing
// only the mapping is a change, shown by a dry run and then made.
func TestApplySeverity(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "severity")
		wantCounts(t, mustApply(t, st, org, severityFile, false), 3, 0, 0)
		want := map[probes.Code]probes.Severity{probes.CodeCertRenewalOverdue: probes.SeverityCritical, probes.CodeLatencyHigh: probes.SeverityInfo}
		if diff := cmp.Diff(want, storedSeverity(t, st, org)); diff != "" {
			t.Errorf("stored severity (-want +got):\n%s", diff)
		}
		before := dump(t, st, org)

		rep := mustApply(t, st, org, severityFile, false)
		if got, want := rep.Summary(), "apply: 0 created, 0 changed, 0 removed"; got != want {
			t.Errorf("second apply: got %q, want %q (%q)", got, want, rep.Lines)
		}
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("second apply changed the database (-before +after):\n%s", diff)
		}

		changed := strings.Replace(severityFile, "latency_high: info", "latency_high: warning, cert_issuer_changed: info", 1)
		wantLines := []string{`~ check "images" (severity.cert_issuer_changed none → "info", severity.latency_high "info" → "warning")`}
		rep = mustApply(t, st, org, changed, true)
		wantCounts(t, rep, 0, 1, 0)
		if diff := cmp.Diff(wantLines, rep.Lines); diff != "" {
			t.Errorf("dry run lines (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("dry run wrote (-before +after):\n%s", diff)
		}
		rep = mustApply(t, st, org, changed, false)
		wantCounts(t, rep, 0, 1, 0)
		if diff := cmp.Diff(wantLines, rep.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		want[probes.CodeLatencyHigh], want[probes.CodeCertIssuerChanged] = probes.SeverityWarning, probes.SeverityInfo
		if diff := cmp.Diff(want, storedSeverity(t, st, org)); diff != "" {
			t.Errorf("stored severity (-want +got):\n%s", diff)
		}
		wantCounts(t, mustApply(t, st, org, changed, false), 0, 0, 0)

		// Leaving the key out restores every default.
		dropped := strings.Replace(severityFile, "        severity: {cert_renewal_overdue: critical, latency_high: info}\n", "", 1)
		rep = mustApply(t, st, org, dropped, false)
		wantCounts(t, rep, 0, 1, 0)
		if s := storedSeverity(t, st, org); s != nil {
			t.Errorf("got stored severity %v, want none", s)
		}
	})
}

// TestApplySeverityRefused: an unknown code or severity refuses the whole
// file on its line, and nothing is written.
func TestApplySeverityRefused(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "severity-bad")
		mustApply(t, st, org, severityFile, false)
		before := dump(t, st, org)

		bad := strings.Replace(severityFile, "title: Severity", "title: Renamed", 1)
		bad = strings.Replace(bad, "        severity: {cert_renewal_overdue: critical, latency_high: info}\n",
			"        severity:\n          cert_renewal_overdu: critical\n          latency_high: minor\n", 1)
		_, err := apply.Apply(context.Background(), st, org, "pharos.yaml", []byte(bad), false, "test")
		var verr *apply.ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("got %v, want a *ValidationError", err)
		}
		codeLine, sevLine := lineOf(t, bad, "cert_renewal_overdu:"), lineOf(t, bad, "minor")
		known := make([]string, 0, len(probes.Codes()))
		for _, c := range probes.Codes() {
			known = append(known, string(c))
		}
		want := []string{
			"pharos.yaml:" + strconv.Itoa(codeLine) + `: components[0].checks[0].severity.cert_renewal_overdu: unknown problem code "cert_renewal_overdu" (known: ` + strings.Join(known, ", ") + ")",
			"pharos.yaml:" + strconv.Itoa(sevLine) + `: components[0].checks[0].severity.latency_high: "minor" is not one of critical, warning, info`,
		}
		if diff := cmp.Diff(want, verr.Lines()); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("a refused file changed the database (-before +after):\n%s", diff)
		}
	})
}

// TestFormKeepsSeverity: the console's check form has no severity field,
// so editing an applied check there keeps the file's mapping.
func TestFormKeepsSeverity(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org := newOrg(t, st, "severity-form")
		mustApply(t, st, org, severityFile, false)
		checks, err := st.OrgChecks(ctx, org)
		if err != nil || len(checks) != 1 {
			t.Fatalf("checks: %v, %v", checks, err)
		}
		values, err := apply.CheckValues(checks[0])
		if err != nil {
			t.Fatal(err)
		}
		values["interval"] = "45s"
		saved, err := apply.SaveCheck(ctx, st, apply.Limits{}, org, actor, checks[0].PageID, checks[0].ID, values)
		if err != nil || saved.Change != `~ check "images" (interval 1m → 45s)` {
			t.Errorf("edit: change %q, err %v; want only the interval changed", saved.Change, err)
		}
		want := map[probes.Code]probes.Severity{probes.CodeCertRenewalOverdue: probes.SeverityCritical, probes.CodeLatencyHigh: probes.SeverityInfo}
		if diff := cmp.Diff(want, storedSeverity(t, st, org)); diff != "" {
			t.Errorf("severity after a form edit (-want +got):\n%s", diff)
		}
	})
}
