package notify

import (
	"slices"
	"testing"
)

func TestAudience(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	both, hooks := []string{KindEmail, KindWebhook}, []string{KindWebhook}
	tests := []struct {
		kind    string
		deliver *bool
		draft   bool
		want    []string
	}{
		{"incident.created", &yes, false, both},
		{"incident.updated", &yes, false, both},
		{"incident.resolved", &yes, false, both},
		{"incident.postmortem", &yes, false, both},
		{"incident.created", &no, false, nil},
		{"incident.opened", nil, false, both},   // automatic, published
		{"incident.opened", nil, true, nil},     // automatic, a draft
		{"incident.updated", nil, false, both},  // automatic
		{"incident.resolved", nil, false, both}, // automatic
		{"incident.repeated", nil, false, nil},  // an operator alert
		{"maintenance.scheduled", nil, false, both},
		{"maintenance.started", &no, false, nil},
		{"component.updated", &yes, false, hooks},
		{"component.updated", nil, false, hooks},
		{"component.updated", &no, false, nil},
		{"region.unhealthy", nil, false, nil},
		{"cert.issuer_changed", nil, false, nil},
		{"", nil, false, nil},
	}
	for _, tt := range tests {
		got := Audience(tt.kind, tt.deliver, tt.draft)
		if !slices.Equal(got, tt.want) {
			d := "absent"
			if tt.deliver != nil {
				d = map[bool]string{true: "true", false: "false"}[*tt.deliver]
			}
			t.Errorf("Audience(%q, deliver %s, draft %v) = %v, want %v", tt.kind, d, tt.draft, got, tt.want)
		}
	}
}
