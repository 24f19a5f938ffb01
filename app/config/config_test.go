package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Listen != ":8080" || c.DatabaseURL != "sqlite://./data/pharos.db" || c.RedisURL != "" || c.Region != "local" {
		t.Errorf("got %+v", c)
	}
	if !c.Embedded() {
		t.Error("default config is not embedded")
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, err := Load(env(map[string]string{"PHAROS_LISTEN": ":9000", "PHAROS_REGION": "fra"}))
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-listen", "127.0.0.1:7000"}); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7000" {
		t.Errorf("Listen = %q, want the flag's value", c.Listen)
	}
	if c.Region != "fra" {
		t.Errorf("Region = %q, want the environment's value", c.Region)
	}
}

func TestValidateNamesVariableAndValue(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"listen", map[string]string{"PHAROS_LISTEN": "8080"}, `PHAROS_LISTEN="8080"`},
		{"listen port", map[string]string{"PHAROS_LISTEN": ":99999"}, `PHAROS_LISTEN=":99999"`},
		{"database", map[string]string{"PHAROS_DATABASE_URL": "mysql://x"}, `PHAROS_DATABASE_URL="mysql://x"`},
		{"redis", map[string]string{"PHAROS_REDIS_URL": "http://x"}, `PHAROS_REDIS_URL="http://x"`},
		{"region", map[string]string{"PHAROS_REGION": "Frankfurt!"}, `PHAROS_REGION="Frankfurt!"`},
		{"smtp", map[string]string{"PHAROS_SMTP_URL": "mail.example.org"}, `PHAROS_SMTP_URL="mail.example.org"`},
		{"base", map[string]string{"PHAROS_BASE_URL": "status.example.org"}, `PHAROS_BASE_URL="status.example.org"`},
		{"secret", map[string]string{"PHAROS_SECRET_KEY": "short"}, `PHAROS_SECRET_KEY=`},
		{"metrics token", map[string]string{"PHAROS_METRICS_TOKEN": "short"}, `PHAROS_METRICS_TOKEN="…": want at least 16 characters`},
		{"default page", map[string]string{"PHAROS_DEFAULT_PAGE": "/p/ACME"}, `PHAROS_DEFAULT_PAGE="/p/ACME": want a page slug`},
		{"password hidden", map[string]string{"PHAROS_DATABASE_URL": "mysql://u:hunter2@x/db"}, `xxxxx`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			if err == nil {
				t.Fatal("got no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %q", err)
			}
		})
	}
	if _, err := Load(env(map[string]string{"PHAROS_ALLOW_PRIVATE_TARGETS": "yes please"})); err == nil ||
		!strings.Contains(err.Error(), "PHAROS_ALLOW_PRIVATE_TARGETS") {
		t.Errorf("bad bool: got %v", err)
	}
}

func TestEnsureSecretKeyGeneratesOnceInEmbeddedMode(t *testing.T) {
	dir := t.TempDir()
	c := Config{DatabaseURL: "sqlite://" + filepath.Join(dir, "pharos.db")}
	if err := c.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	if len(c.SecretKey) < 32 {
		t.Fatalf("generated key %q is too short", c.SecretKey)
	}
	info, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("secret.key mode = %o, want 600", perm)
	}
	again := Config{DatabaseURL: c.DatabaseURL}
	if err := again.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	if again.SecretKey != c.SecretKey {
		t.Error("second start generated a different key")
	}
	pg := Config{DatabaseURL: "postgres://db/pharos"}
	if err := pg.EnsureSecretKey(); err == nil || !strings.Contains(err.Error(), "PHAROS_SECRET_KEY") {
		t.Errorf("postgres without key: got %v, want an error naming PHAROS_SECRET_KEY", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"PHAROS_TRUSTED_PROXIES": "10.0.0.0/8, 172.16.5.4 ,fdaa::/16"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "172.16.5.4/32" {
		t.Errorf("got %v", c.TrustedProxies)
	}
	if _, err := Load(env(map[string]string{"PHAROS_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"})); err == nil ||
		!strings.Contains(err.Error(), `PHAROS_TRUSTED_PROXIES="10.0.0.0/8,proxy.internal"`) {
		t.Errorf("bad entry: got %v", err)
	}
}

func TestResultRetention(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		err   string // in Load's or Validate's error; "" for none
	}{
		{"", 48 * time.Hour, ""},
		{"72h", 72 * time.Hour, ""},
		{"14d", 14 * 24 * time.Hour, ""},
		{"24h", 24 * time.Hour, `PHAROS_RESULT_RETENTION="24h": want at least 48h`},
		{"1410m", 1410 * time.Minute, `PHAROS_RESULT_RETENTION="23h30m": want at least 48h`},
		{"two days", 0, `PHAROS_RESULT_RETENTION="two days": want a duration`},
		{"-3d", 0, `PHAROS_RESULT_RETENTION="-3d"`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, err := Load(env(map[string]string{"PHAROS_RESULT_RETENTION": tt.value}))
			if err == nil {
				err = c.Validate()
			}
			if tt.err == "" {
				if err != nil || c.ResultRetention != tt.want {
					t.Errorf("got %s, %v; want %s", c.ResultRetention, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error: got %v, want one containing %s", err, tt.err)
			}
		})
	}
}

func TestSSEStreamCaps(t *testing.T) {
	c, err := Load(env(map[string]string{"PHAROS_SSE_MAX_STREAMS": "500", "PHAROS_SSE_MAX_PER_CLIENT": " 20 "}))
	if err != nil || c.SSEMaxStreams != 500 || c.SSEMaxPerClient != 20 {
		t.Errorf("got %d, %d, %v; want 500, 20", c.SSEMaxStreams, c.SSEMaxPerClient, err)
	}
	if c, err := Load(env(nil)); err != nil || c.SSEMaxStreams != 0 || c.SSEMaxPerClient != 0 {
		t.Errorf("unset: got %d, %d, %v; want 0, 0 (sized from the file limit)", c.SSEMaxStreams, c.SSEMaxPerClient, err)
	}
	for _, bad := range []map[string]string{{"PHAROS_SSE_MAX_STREAMS": "0"}, {"PHAROS_SSE_MAX_PER_CLIENT": "many"}} {
		if _, err := Load(env(bad)); err == nil || !strings.Contains(err.Error(), "want a whole number of streams") {
			t.Errorf("%v: got %v, want an error naming the variable", bad, err)
		}
	}
}

// TestHelpMasksPasswords: --help shows the URLs the environment set as
// the flags' defaults, with their passwords masked, and the flags still
// set the whole URL.
func TestHelpMasksPasswords(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PHAROS_DATABASE_URL": "postgres://pharos:db-secret@db:5432/pharos",
		"PHAROS_REDIS_URL":    "redis://:redis-secret@cache:6379/0",
		"PHAROS_SMTP_URL":     "smtp://mail:smtp-secret@mx:587",
	}))
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var help strings.Builder
	fs.SetOutput(&help)
	c.RegisterFlags(fs)
	fs.PrintDefaults()
	if strings.Contains(help.String(), "secret") || !strings.Contains(help.String(), "postgres://pharos:xxxxx@db:5432/pharos") {
		t.Errorf("--help shows passwords or no masked default:\n%s", help.String())
	}
	if err := fs.Parse([]string{"-database-url", "postgres://a:b@other/x"}); err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://a:b@other/x" || c.SMTPURL != "smtp://mail:smtp-secret@mx:587" {
		t.Errorf("after the flag: database %q, SMTP %q", c.DatabaseURL, c.SMTPURL)
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 90 * time.Minute: "1h30m", time.Minute: "1m", 50 * time.Second: "50s",
		90 * time.Second: "1m30s", 25*time.Hour + time.Second: "25h0m1s", 1500 * time.Millisecond: "1.5s",
	} {
		got := DurationText(d)
		if got != want {
			t.Errorf("DurationText(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("%q parses back as %v, %v; want %v", got, back, err, d)
		}
	}
}
