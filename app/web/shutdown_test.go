package web

import (
	"context"
	"io"
	"net/http"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestSIGTERMLetsInFlightRequestFinish runs the real Run on a loopback port
// under a signal.NotifyContext, as main does, sends the process SIGTERM while
// a slow request is in flight, and checks the request completes before Run
// returns. The slow route is added to this test's server only.
func TestSIGTERMLetsInFlightRequestFinish(t *testing.T) {
	t.Parallel()
	srv := newShell(t)
	entered := make(chan struct{})
	srv.e.GET("/test-slow", func(c echo.Context) error {
		close(entered)
		time.Sleep(500 * time.Millisecond)
		return c.String(http.StatusOK, "finished")
	})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr().String()

	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(base + "/test-slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{code: res.StatusCode, body: string(b), err: err}
	}()

	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow request never reached its handler")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}

	r := <-got
	if r.err != nil || r.code != http.StatusOK || r.body != "finished" {
		t.Errorf("in-flight request: got %d %q %v, want 200 \"finished\"", r.code, r.body, r.err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil after a clean drain", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}
