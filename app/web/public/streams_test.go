package public_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/public"
	"pharos/app/web/webtest"
)

// streamFrom opens a page's event stream as the client at addr (sent as
// X-Forwarded-For through a trusted loopback proxy); the stream stays
// open until the test ends or close is called.
func streamFrom(t *testing.T, url, addr string) (res *http.Response, close func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", addr)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	close = func() { cancel(); res.Body.Close() }
	t.Cleanup(close)
	return res, close
}

func wantRefused(t *testing.T, res *http.Response, who string) {
	t.Helper()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "7" {
		t.Errorf("%s: got %d, Retry-After %q; want 503 with Retry-After 7", who, res.StatusCode, res.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(body), "refreshes itself") {
		t.Errorf("%s: body %q does not say what happens instead", who, body)
	}
}

// TestEventStreamCaps: a client network gets at most PerClient streams,
// another client still gets one then, and beyond Max every client gets
// 503 with Retry-After, while the page, its documents and the login page
// keep answering; a stream that ends frees its slot.
func TestEventStreamCaps(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 1, days: 1})
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	srv := webtest.NewServer(t, st, func(o *web.Options) {
		o.Bus, o.Listen, o.TrustedProxies = b, "127.0.0.1:0", []*net.IPNet{loopback}
		o.Streams = public.StreamLimits{Max: 3, PerClient: 2, RetryAfter: 7 * time.Second}
	})
	base := runServer(t, srv)
	events := base + "/p/acme/events"

	first, closeFirst := streamFrom(t, events, "203.0.113.9")
	second, _ := streamFrom(t, events, "203.0.113.9")
	for _, res := range []*http.Response{first, second} {
		if res.StatusCode != http.StatusOK {
			t.Fatalf("stream within the client's cap: got %d", res.StatusCode)
		}
	}
	third, _ := streamFrom(t, events, "203.0.113.9")
	wantRefused(t, third, "third stream of one client")
	other, _ := streamFrom(t, events, "2001:db8:1:2::10")
	if other.StatusCode != http.StatusOK {
		t.Fatalf("another client while the first is at its cap: got %d, want 200", other.StatusCode)
	}
	full, _ := streamFrom(t, events, "198.51.100.1")
	wantRefused(t, full, "a new client at the total cap")

	for _, path := range []string{"/p/acme/", "/p/acme/api/v2/summary.json", "/login"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s with the streams at their cap: got %d, want 200", path, res.StatusCode)
		}
	}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"pharos_sse_streams 3", `pharos_sse_refused_total{cap="all"} 1`, `pharos_sse_refused_total{cap="client"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	closeFirst()
	deadline := time.Now().Add(3 * time.Second)
	for {
		res, _ := streamFrom(t, events, "198.51.100.1")
		if res.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a stream ended, but a new client still gets %d 3s later", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
