package webtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pharos/app/bus"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
)

// Real-browser helpers: headless Chromium through chromedp against a real
// server on a loopback port. Tests skip without Chromium on PATH and fail
// instead when PHAROS_TEST_REQUIRE_SERVICES=1; PHAROS_SCREENSHOT_DIR keeps
// screenshots somewhere that outlives the test.

// ChromiumPath finds Chromium or skips the test.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	storetest.SkipOrFail(t, "chromium is not on PATH: skipping the browser tests (apt-get install -y chromium)")
	return ""
}

// BrowserContext starts a headless Chromium with a fresh profile, ended
// when the test ends (60 s at most).
func BrowserContext(t testing.TB, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// LiveServer runs a real server on st with an in-process bus on a
// loopback port and returns its base URL and the bus.
func LiveServer(t testing.TB, st *store.Store) (string, *bus.MemoryBus) {
	t.Helper()
	b := bus.NewMemory(bus.Options{})
	srv := NewServer(t, st, func(o *web.Options) { o.Bus, o.Listen = b, "127.0.0.1:0" })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		b.Close()
	})
	return "http://" + srv.Addr().String(), b
}

// ScreenshotPath is where a test writes a screenshot named name.
func ScreenshotPath(t testing.TB, name string) string {
	dir := os.Getenv("PHAROS_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	return filepath.Join(dir, name)
}

// FullScreenshot writes a full-page screenshot to path.
func FullScreenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Do runs browser steps, failing the test on error.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}
