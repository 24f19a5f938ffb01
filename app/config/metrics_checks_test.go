package config

import (
	"strings"
	"testing"
)

func TestMetricsChecks(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]bool{"": false, "true": true, "1": true, "false": false} {
		c, err := Load(env(map[string]string{"PHAROS_METRICS_CHECKS": value}))
		if err != nil || c.MetricsChecks != want {
			t.Errorf("PHAROS_METRICS_CHECKS=%q: got %v, %v; want %v", value, c.MetricsChecks, err, want)
		}
	}
	_, err := Load(env(map[string]string{"PHAROS_METRICS_CHECKS": "yes please"}))
	if err == nil || !strings.Contains(err.Error(), `PHAROS_METRICS_CHECKS="yes please": want true or false`) {
		t.Errorf("bad value: got %v, want an error naming the variable and value", err)
	}
}
