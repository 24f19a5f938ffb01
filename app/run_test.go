package app

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pharos/app/config"
	"pharos/app/store/storetest"
)

// startRun runs `pharos run` like main does, on a free loopback port, and
// returns the base URL it announced plus a stop function returning the exit
// code.
func startRun(t *testing.T, environ map[string]string, args ...string) (base string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	getenv := func(k string) string { return environ[k] }
	go func() {
		code := Main(ctx, append([]string{"run", "--listen", "127.0.0.1:0"}, args...), Env{
			Stdin: strings.NewReader(""), Stdout: pw, Stderr: io.Discard, Getenv: getenv,
		})
		pw.Close()
		done <- code
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`https?://\S+?/`)
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" {
				found <- strings.TrimSuffix(m, "/")
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case base = <-found:
	case code := <-done:
		cancel()
		t.Fatalf("pharos run exited with %d before announcing its URL", code)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("pharos run did not announce its URL within 30s")
	}
	return base, func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(20 * time.Second):
			t.Fatal("pharos run did not stop within 20s of cancellation")
			return -1
		}
	}
}

func TestRunAnswersHealthzOnEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "data", "pharos.db")
	start := time.Now()
	base, stop := startRun(t, map[string]string{"PHAROS_DATABASE_URL": db})
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: got %d, want 200", resp.StatusCode)
	}
	// How fast it starts is measured, not asserted: a race-instrumented
	// SQLite migrates ten times slower on a loaded machine.
	t.Logf("/healthz answered %v after start", time.Since(start))
	if _, err := os.Stat(filepath.Join(dir, "data", "secret.key")); err != nil {
		t.Errorf("embedded mode did not store its secret key: %v", err)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code %d after cancellation, want 0", code)
	}
	// A second start on the same database re-runs migrations safely.
	_, stop = startRun(t, map[string]string{"PHAROS_DATABASE_URL": db})
	if code := stop(); code != 0 {
		t.Errorf("second start: exit code %d, want 0", code)
	}
}

func TestRunOnPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	base, stop := startRun(t, map[string]string{"PHAROS_DATABASE_URL": url, "PHAROS_SECRET_KEY": strings.Repeat("k", 32)})
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: got %d, want 200", resp.StatusCode)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	var stderr strings.Builder
	code := Main(context.Background(), []string{"run"}, Env{
		Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "PHAROS_LISTEN" {
				return "eighty"
			}
			return ""
		},
	})
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `PHAROS_LISTEN="eighty"`) {
		t.Errorf("stderr %q does not name the variable and value", stderr.String())
	}
}

// TestMailWithoutBaseURLIsRefused: SMTP without a base URL is refused at
// start, before the data directory is created, and a process without a
// mailing role is let through.
func TestMailWithoutBaseURLIsRefused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	var stderr strings.Builder
	code := Main(context.Background(), []string{"run", "--database-url", "sqlite://" + filepath.Join(dir, "pharos.db")}, Env{
		Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "PHAROS_SMTP_URL" {
				return "smtp://127.0.0.1:2525"
			}
			return ""
		},
	})
	if code != 2 || !strings.Contains(stderr.String(), "config: PHAROS_SMTP_URL is set but PHAROS_BASE_URL is not") {
		t.Errorf("got exit %d, stderr %q; want 2 naming both variables", code, stderr.String())
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused start left %s behind (stat: %v)", dir, err)
	}
	cfg := config.Config{SMTPURL: "smtp://127.0.0.1:2525"}
	if err := mailNeedsBaseURL(cfg, map[string]bool{"scheduler": true, "aggregator": true}); err != nil {
		t.Errorf("a process that sends no mail was refused: %v", err)
	}
}

func TestPostgresWithoutSecretKeyIsRefused(t *testing.T) {
	var stderr strings.Builder
	code := Main(context.Background(), []string{"run", "--database-url", "postgres://127.0.0.1:1/x"}, Env{
		Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" },
	})
	if code != 2 || !strings.Contains(stderr.String(), "PHAROS_SECRET_KEY") {
		t.Errorf("got exit %d, stderr %q; want 2 naming PHAROS_SECRET_KEY", code, stderr.String())
	}
}

func TestHealthcheckCommand(t *testing.T) {
	dir := t.TempDir()
	base, stop := startRun(t, map[string]string{"PHAROS_DATABASE_URL": "sqlite://" + filepath.Join(dir, "p.db")})
	defer stop()
	listen := strings.TrimPrefix(base, "http://")
	env := Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if code := Main(context.Background(), []string{"healthcheck", "--listen", listen}, env); code != 0 {
		t.Errorf("healthcheck against a running server: exit %d, want 0", code)
	}
	if code := Main(context.Background(), []string{"healthcheck", "--listen", "127.0.0.1:1"}, env); code != 1 {
		t.Errorf("healthcheck against nothing: exit %d, want 1", code)
	}
}
