package apply

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/probes"
)

// severityCheck is head with one check whose severity line is sev, on line 10.
func severityCheck(sev string) string {
	return head + "    checks:\n      - name: a\n        url: https://x.example/\n        " + sev + "\n"
}

func TestParseSeverity(t *testing.T) {
	t.Parallel()
	c := mustParse(t, severityCheck("severity: {cert_renewal_overdue: critical, latency_high: info, tls_version_low: warning}"))
	spec := c.components[0].checks[0].spec
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"url":"https://x.example/","severity":{"cert_renewal_overdue":"critical","latency_high":"info","tls_version_low":"warning"}}`
	if string(b) != wantJSON {
		t.Errorf("got spec %s, want %s", b, wantJSON)
	}
	// The probe engine reads it as a worker will.
	var ps probes.Spec
	if err := json.Unmarshal(b, &ps); err != nil {
		t.Fatal(err)
	}
	want := map[probes.Code]probes.Severity{
		probes.CodeCertRenewalOverdue: probes.SeverityCritical,
		probes.CodeLatencyHigh:        probes.SeverityInfo,
		probes.CodeTLSVersionLow:      probes.SeverityWarning,
	}
	if diff := cmp.Diff(want, ps.Severity); diff != "" {
		t.Errorf("probes.Spec.Severity (-want +got):\n%s", diff)
	}
	if errs := probeValidate(c); len(errs) > 0 {
		t.Errorf("the probe engine refuses it: %v", errs)
	}

	// An empty mapping sets nothing, as an empty tls: block does.
	if s := mustParse(t, severityCheck("severity: {}")).components[0].checks[0].spec.Severity; s != nil {
		t.Errorf("got %v for severity: {}, want nil", s)
	}
}

func TestParseSeverityMistakes(t *testing.T) {
	t.Parallel()
	const path = "components[0].checks[0].severity"
	tests := []struct {
		name     string
		file     string
		wantLine int
		wantPath string
		wantMsg  string
	}{
		{"unknown code", severityCheck("severity: {latency_hgh: info}"), 10, path + ".latency_hgh",
			`unknown problem code "latency_hgh" (known: dns_failed, connection_failed, timeout, `},
		{"unknown severity", severityCheck("severity: {latency_high: minor}"), 10, path + ".latency_high",
			`"minor" is not one of critical, warning, info`},
		{"severity in capitals", severityCheck("severity: {latency_high: Critical}"), 10, path + ".latency_high",
			`"Critical" is not one of critical, warning, info`},
		{"severity not text", severityCheck("severity: {latency_high: [info]}"), 10, path + ".latency_high", "want text, got a list"},
		{"repeated code", severityCheck("severity:\n          latency_high: info\n          latency_high: warning"), 12, path + ".latency_high",
			`problem code "latency_high" repeated`},
		{"list instead of mapping", severityCheck("severity: [latency_high]"), 10, path,
			"want a mapping of problem codes to severities, e.g. {latency_high: info}, got a list"},
		{"nothing", severityCheck("severity:"), 10, path, "want a mapping of problem codes to severities"},
		{"on its own line", severityCheck("severity:\n          cert_expired: warning\n          nodes_disagre: info"), 12, path + ".nodes_disagre",
			`unknown problem code "nodes_disagre"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs := parseConfig([]byte(tt.file), "", Limits{})
			if len(errs) != 1 {
				t.Fatalf("got %v, want one mistake", errs)
			}
			e := errs[0]
			if e.Line != tt.wantLine || e.Path != tt.wantPath || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("got %q, want line %d, path %s, a message containing %q", e.Error(), tt.wantLine, tt.wantPath, tt.wantMsg)
			}
		})
	}
}

// Every problem code the probe engine knows is accepted, each severity too.
func TestParseSeverityEveryCode(t *testing.T) {
	t.Parallel()
	var pairs []string
	for i, code := range probes.Codes() {
		pairs = append(pairs, string(code)+": "+severities[i%len(severities)])
	}
	c := mustParse(t, severityCheck("severity: {"+strings.Join(pairs, ", ")+"}"))
	if got, want := len(c.components[0].checks[0].spec.Severity), len(probes.Codes()); got != want {
		t.Errorf("got %d codes, want %d", got, want)
	}
	if errs := probeValidate(c); len(errs) > 0 {
		t.Errorf("the probe engine refuses it: %v", errs)
	}
}
