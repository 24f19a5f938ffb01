package config

import (
	"strings"
	"testing"
)

func TestDebugListen(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{}))
	if err != nil || c.DebugListen != "" {
		t.Fatalf("unset: got %q, %v; want off", c.DebugListen, err)
	}
	c, err = Load(env(map[string]string{"PHAROS_DEBUG_LISTEN": " 127.0.0.1:6060 "}))
	if err != nil || c.DebugListen != "127.0.0.1:6060" {
		t.Fatalf("set: got %q, %v", c.DebugListen, err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("a loopback address refused: %v", err)
	}
	for value, want := range map[string]string{
		":6060":          `PHAROS_DEBUG_LISTEN=":6060": want HOST:PORT with a host`,
		"6060":           `PHAROS_DEBUG_LISTEN="6060": want HOST:PORT with a host`,
		"127.0.0.1:1e9":  `PHAROS_DEBUG_LISTEN="127.0.0.1:1e9": port must be 0-65535`,
		"10.0.0.7:99999": `PHAROS_DEBUG_LISTEN="10.0.0.7:99999": port must be 0-65535`,
	} {
		c, err := Load(env(map[string]string{"PHAROS_DEBUG_LISTEN": value}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", value, err, want)
		}
	}
}
