package webtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
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
// instead when PHAROS_TEST_REQUIRE_SERVICES=1. Screenshots are taken only
// when PHAROS_SCREENSHOT_DIR names where to keep them.

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

// BrowserContext returns a tab of headless Chromium showing width×height
// CSS pixels, closed when the test ends or after browserLimit. Under Main
// the tab is in the package's one browser, in a browser context of its own
// (its own cookies and storage: a fresh profile); without Main it is the
// first tab of a browser of its own.
func BrowserContext(t testing.TB, width, height int) context.Context {
	t.Helper()
	b := shared.Load()
	if b == nil {
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), browserOptions(t, t.TempDir(), width, height)...)
		ctx, cancelCtx := chromedp.NewContext(actx)
		ctx, cancelTimeout := context.WithTimeout(ctx, browserLimit)
		t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
		return ctx
	}
	parent, err := b.start(browserOptions(t, "", 1280, 900))
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTab := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, browserLimit)
	t.Cleanup(func() { cancelTimeout(); cancelTab() })
	// The window is the browser's; the viewport, what a page sees and a
	// screenshot holds, is the tab's.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// browserLimit bounds a test's tab: it guards against a browser that
// hangs, and is no measure of speed. It runs from the tab's opening,
// through the test's own set-up, while the whole suite shares two cores
// under -race (the public package's browser tests then take ~55 s
// together, ~10 s alone), so it is generous. (It was raised from 60 s
// while a status-page test kept running out of it; that turned out to be
// a page load failing, mended in the public package, not slowness.)
const browserLimit = 3 * time.Minute

func browserOptions(t testing.TB, profile string, width, height int) []chromedp.ExecAllocatorOption {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(width, height),
		// Every test server is one loopback origin: site isolation and the
		// unused features only add renderer work, most of the browser
		// suites' time (console 18 s -> 16 s without them).
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "site-per-process,IsolateOrigins,Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("disable-extensions", true),
	}
	if profile != "" {
		opts = append(opts, chromedp.UserDataDir(profile))
	}
	return opts
}

// Main runs a package's tests with one Chromium for all of them, started
// by the first test that asks for a tab and stopped when the tests end
// (starting one takes about a second, a tab a fifth of that), and with
// storetest.Main's reused databases. A package's TestMain calls it:
//
//	func TestMain(m *testing.M) { os.Exit(webtest.Main(m)) }
func Main(m *testing.M) int {
	b := &browser{}
	shared.Store(b)
	defer shared.Store(nil)
	defer b.stop()
	return storetest.Main(m)
}

// shared is the browser of the running Main, nil without one.
var shared atomic.Pointer[browser]

type browser struct {
	mu      sync.Mutex
	ctx     context.Context // the first tab, which holds the browser
	cancel  func()
	profile string
	err     error
}

// start starts the browser once; a failure is every caller's.
func (b *browser) start(opts []chromedp.ExecAllocatorOption) (context.Context, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx != nil || b.err != nil {
		return b.ctx, b.err
	}
	profile, err := os.MkdirTemp("", "pharos-chromium-")
	if err != nil {
		b.err = err
		return nil, err
	}
	b.profile = profile
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, chromedp.UserDataDir(profile))...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		b.err = err
		return nil, err
	}
	b.ctx, b.cancel = ctx, func() { cancelCtx(); cancelAlloc() }
	return ctx, nil
}

func (b *browser) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel != nil {
		b.cancel()
	}
	if b.profile != "" {
		os.RemoveAll(b.profile)
	}
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

// Screenshot writes a full-page screenshot of the tab as name (a file
// name ending .png) to $PHAROS_SCREENSHOT_DIR and logs where. Without the
// variable it takes none: nobody would look at it, and a capture costs
// a browser test about 0.15 s.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PHAROS_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
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

// WaitTrue polls a JavaScript expression until it is true, failing the test
// after 10 s: for a page that is still the previous one when an action
// returns (a form's submit navigates later). An evaluation the navigation
// cuts off ("Inspected target navigated or closed") is tried again, not
// taken for an answer: the very navigation waited for may land mid-poll.
func WaitTrue(t testing.TB, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			t.Fatalf("%s: still false after 10s (last error: %v)", expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
