package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestDebugListenerServesProfiles: the profiles answer on their own
// listener, a CPU profile is a gzipped profile, and the listener stops
// with its context.
func TestDebugListenerServesProfiles(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveDebug(ctx, ln) }()
	base := "http://" + ln.Addr().String() + "/debug/pprof/"
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) []byte {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return body
	}
	if body := get(""); !bytes.Contains(body, []byte("goroutine")) {
		t.Errorf("index lists no goroutine profile: %.200s", body)
	}
	if body := get("profile?seconds=1"); !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Errorf("CPU profile is not gzipped protobuf: % x", body[:min(8, len(body))])
	}
	if body := get("goroutine?debug=1"); !bytes.Contains(body, []byte("serveDebug")) {
		t.Errorf("goroutine dump does not show the listener: %.300s", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stopped with %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the debug listener did not stop with its context")
	}
}
