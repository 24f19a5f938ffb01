package probes

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// statusBody is a normal health document: a Statuspage-like summary of 40
// components (about 6 KB).
func statusBody() []byte {
	var comps []string
	for i := range 40 {
		comps = append(comps, fmt.Sprintf(`{"id":"c%d","name":"Service %d","status":"operational","position":%d,"group":false,"showcase":true,"updated_at":"2026-11-21T10:00:00Z"}`, i, i, i))
	}
	return []byte(`{"page":{"id":"p1","name":"Example","url":"https://status.example.org"},"status":{"indicator":"none","description":"All Systems Operational"},"components":[` +
		strings.Join(comps, ",") + `],"incidents":[],"scheduled_maintenances":[]}`)
}

// BenchmarkAssertNormalBody evaluates the assertions of a typical API
// check (JSON paths with a filter and a descent, a regex, contains) on a
// normal body: the price of the limits and the deadline checks.
func BenchmarkAssertNormalBody(b *testing.B) {
	spec := Spec{URL: "https://status.example.org/api/v2/summary.json", Expect: Expect{
		BodyContains: []string{"operational"}, BodyNotContains: []string{"maintenance page"},
		BodyRegex: `"indicator":\s*"none"`,
		JSON: map[string]any{
			"$.status.indicator":                            "none",
			"$.components[?(@.name == 'Service 7')].status": "operational",
			"$..showcase":                                   true,
			"$.page":                                        map[string]any{"id": "p1", "name": "Example", "url": "https://status.example.org"},
		},
	}}
	p, err := spec.compile(nil)
	if err != nil {
		b.Fatal(err)
	}
	r := &response{status: 200, body: statusBody(), header: map[string][]string{}, url: spec.URL}
	ctx := context.Background()
	b.SetBytes(int64(len(r.body)))
	b.ReportAllocs()
	for b.Loop() {
		if problems := p.assert(ctx, "n", r); len(problems) > 0 {
			b.Fatal(problems)
		}
	}
}
