package config

import (
	"strings"
	"testing"
	"time"
)

func TestQuotaDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxChecks != 1000 || c.MaxComponents != 500 || c.MaxPages != 50 || c.MinInterval != 30*time.Second {
		t.Errorf("got checks %d, components %d, pages %d, interval %s; want 1000, 500, 50, 30s",
			c.MaxChecks, c.MaxComponents, c.MaxPages, c.MinInterval)
	}
}

func TestQuotasFromEnvironment(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{EnvMaxChecks: "20000", EnvMaxComponents: "0", EnvMaxPages: " 3 ", EnvMinInterval: "2m"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxChecks != 20000 || c.MaxComponents != 0 || c.MaxPages != 3 || c.MinInterval != 2*time.Minute {
		t.Errorf("got checks %d, components %d, pages %d, interval %s; want 20000, 0, 3, 2m",
			c.MaxChecks, c.MaxComponents, c.MaxPages, c.MinInterval)
	}
	c, err = Load(env(map[string]string{EnvMinInterval: "0"}))
	if err != nil || c.MinInterval != 0 {
		t.Errorf("PHAROS_MIN_INTERVAL=0: got %s, %v; want 0 (no minimum)", c.MinInterval, err)
	}
}

func TestQuotaErrorsNameVariableAndValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value, want string
	}{
		{"checks word", EnvMaxChecks, "many", `config: PHAROS_MAX_CHECKS="many": want a whole number of checks per organisation, or 0 for no limit`},
		{"checks negative", EnvMaxChecks, "-1", `PHAROS_MAX_CHECKS="-1": want a whole number`},
		{"checks fraction", EnvMaxChecks, "1.5", `PHAROS_MAX_CHECKS="1.5"`},
		{"checks overflow", EnvMaxChecks, "99999999999999999999", `PHAROS_MAX_CHECKS="99999999999999999999"`},
		{"components", EnvMaxComponents, "lots", `config: PHAROS_MAX_COMPONENTS="lots": want a whole number of components`},
		{"pages", EnvMaxPages, "1e3", `config: PHAROS_MAX_PAGES="1e3": want a whole number of pages`},
		{"interval number", EnvMinInterval, "30", `config: PHAROS_MIN_INTERVAL="30": want a duration such as "30s"`},
		{"interval negative", EnvMinInterval, "-30s", `PHAROS_MIN_INTERVAL="-30s": want a duration`},
		{"interval fraction", EnvMinInterval, "1.5s", `PHAROS_MIN_INTERVAL="1.5s": want whole seconds`},
		{"interval too long", EnvMinInterval, "25h", `PHAROS_MIN_INTERVAL="25h": want at most 24h`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(map[string]string{tt.key: tt.value}))
			if err == nil {
				t.Fatal("got no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
