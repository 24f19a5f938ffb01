package config

import (
	"strings"
	"testing"
)

func TestCanary(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none without a base URL", nil, ""},
		{"the base URL's health check by default", map[string]string{"PHAROS_BASE_URL": "https://status.example.org/"},
			"https://status.example.org/healthz"},
		{"set explicitly", map[string]string{"PHAROS_BASE_URL": "https://status.example.org",
			"PHAROS_CANARY_URL": " http://control.internal:8080/healthz "}, "http://control.internal:8080/healthz"},
		{"off", map[string]string{"PHAROS_BASE_URL": "https://status.example.org", "PHAROS_CANARY_URL": "off"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := c.Canary(); got != tt.want {
				t.Errorf("Canary() = %q, want %q", got, tt.want)
			}
		})
	}
	c, err := Load(env(map[string]string{"PHAROS_CANARY_URL": "status.example.org/healthz"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `PHAROS_CANARY_URL="status.example.org/healthz": want an absolute http(s) URL`) {
		t.Errorf("a relative canary: got %v", err)
	}
}

func TestAllowMetadataTargets(t *testing.T) {
	c, err := Load(env(map[string]string{"PHAROS_ALLOW_METADATA_TARGETS": " 169.254.170.2, ,metadata.google.internal "}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.AllowMetadataTargets, "|"); got != "169.254.170.2|metadata.google.internal" {
		t.Errorf("got %q, want the two endpoints trimmed", got)
	}
}
