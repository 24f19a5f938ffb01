package apply

import (
	"strconv"
	"strings"
	"testing"
)

func TestTargetWarnings(t *testing.T) {
	t.Parallel()
	file := func(url, nodes string) []byte {
		s := "page: {slug: acme, title: ACME}\ncomponents:\n  - name: API\n    checks:\n      - name: x\n        url: " + url + "\n"
		if nodes != "" {
			s += "        nodes: " + nodes + "\n"
		}
		return []byte(s)
	}
	tests := []struct {
		name         string
		url, nodes   string
		allowPrivate bool
		want         []string // what the one warning says; nil: no warning
		line         int
	}{
		{"public host", "https://api.acme.org/health", "", false, nil, 0},
		{"public address", "https://8.8.8.8/", "", false, nil, 0},
		{"loopback literal", "https://127.0.0.1:8443/", "", false, []string{"127.0.0.1 is a loopback address", "PHAROS_ALLOW_PRIVATE_TARGETS"}, 6},
		{"loopback allowed", "https://127.0.0.1:8443/", "", true, nil, 0},
		{"private literal", "http://10.1.2.3/", "", false, []string{"private address (RFC 1918)"}, 6},
		{"IPv6 loopback", "http://[::1]/", "", false, []string{"loopback"}, 6},
		{"link-local", "http://169.254.10.1/", "", false, []string{"link-local"}, 6},
		{"metadata even when private is allowed", "http://169.254.169.254/latest", "", true, []string{"cloud metadata"}, 6},
		{"localhost", "http://localhost:8080/", "", false, []string{"localhost always resolves to a loopback address"}, 6},
		{"sub.localhost", "http://app.localhost/", "", false, []string{"app.localhost always resolves"}, 6},
		{"localhost allowed", "http://localhost:8080/", "", true, nil, 0},
		{".internal name", "https://grafana.corp.internal/", "", false, []string{"usually resolves to a private address"}, 6},
		{"single label", "http://grafana:3000/", "", false, []string{"single-label name"}, 6},
		{"single label allowed", "http://grafana:3000/", "", true, nil, 0},
		{"example name", "https://media.acme.example/logo.png", "", true, []string{"media.acme.example is a reserved example name"}, 6},
		{"example.com", "https://example.com/", "", false, []string{"never resolves"}, 6},
		{"private node", "https://api.acme.org/", `[8.8.8.8, "10.0.0.5:443"]`, false, []string{"node 10.0.0.5 is a private address"}, 7},
		{"nodes all", "https://api.acme.org/", "all", false, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, errs := parseConfig(file(tt.url, tt.nodes), "", Limits{})
			if len(errs) > 0 {
				t.Fatalf("parse: %v", errs)
			}
			got := targetWarnings(cfg, tt.allowPrivate)
			if want := min(len(tt.want), 1); len(got) != want {
				t.Fatalf("got %d warnings %+v, want %d", len(got), got, want)
			}
			for _, want := range tt.want {
				if !strings.Contains(got[0].Message, want) {
					t.Errorf("warning %q does not say %q", got[0].Message, want)
				}
			}
			if len(got) > 0 {
				if got[0].Line != tt.line || got[0].Check != "x" {
					t.Errorf("warning at line %d for check %q, want line %d for check x", got[0].Line, got[0].Check, tt.line)
				}
				if text := got[0].Text("pharos.yaml"); !strings.HasPrefix(text, "pharos.yaml:"+strconv.Itoa(tt.line)+`: check "x": `) {
					t.Errorf("text %q, want pharos.yaml:%d: check \"x\": …", text, tt.line)
				}
			}
		})
	}
}
