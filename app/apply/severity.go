package apply

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"pharos/probes"
)

// severities are the values a check's `severity:` may give a problem
// code, in the probe engine's words (probes.Severity).
var severities = []string{string(probes.SeverityCritical), string(probes.SeverityWarning), string(probes.SeverityInfo)}

// severity reads a check's `severity:` mapping, problem code to severity
// (DESIGN §6: a check's configuration may raise or lower a code's
// severity), e.g. {cert_renewal_overdue: critical, latency_high: info};
// nil when it sets nothing. The probe engine applies it
// (probes.Spec.Severity) and never changes an info note.
func (r *reader) severity(n *yaml.Node, path string, lines map[string]int) map[string]string {
	rn := r.resolve(n)
	if rn.Kind != yaml.MappingNode {
		r.errorf(rn, path, "want a mapping of problem codes to severities, e.g. {latency_high: info}, got %s", kindName(rn))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(rn.Content); i += 2 {
		k := r.resolve(rn.Content[i])
		code := strings.TrimSpace(k.Value)
		p := join(path, code)
		switch {
		case k.Kind != yaml.ScalarNode || isNull(k):
			r.errorf(k, path, "a key must be a problem code, got %s", kindName(k))
			continue
		case !knownCode(code):
			r.errorf(k, p, "unknown problem code %q (known: %s)", code, strings.Join(problemCodes(), ", "))
			continue
		}
		if _, dup := out[code]; dup {
			r.errorf(k, p, "problem code %q repeated", code)
			continue
		}
		v, ok := r.str(rn.Content[i+1], p)
		if !ok {
			continue
		}
		lines["severity."+code] = r.resolve(rn.Content[i+1]).Line
		r.oneOf(r.resolve(rn.Content[i+1]), p, v, severities...)
		out[code] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// problemCodes lists the probe engine's problem codes, in DESIGN §6 order.
func problemCodes() []string {
	codes := probes.Codes()
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = string(c)
	}
	return out
}

func knownCode(s string) bool {
	return contains(problemCodes(), s)
}

// keepSeverity is chk's spec, encoded as checkRow does, with the severity
// mapping of the stored spec: the console's check form has no field for
// it, so an edit there keeps what the file set.
func keepSeverity(chk checkConfig, stored []byte) ([]byte, error) {
	var old checkSpec
	if err := json.Unmarshal(stored, &old); err != nil {
		return nil, fmt.Errorf("apply: check %q: stored spec: %w", chk.name, err)
	}
	chk.spec.Severity = old.Severity
	spec, err := json.Marshal(chk.spec)
	if err != nil {
		return nil, fmt.Errorf("apply: encode check %q: %w", chk.name, err)
	}
	return spec, nil
}
