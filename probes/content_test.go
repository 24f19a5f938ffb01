package probes

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

func pngBytes(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestContentAssertions covers every content problem code over real TLS,
// each with a failing and a passing case.
func TestContentAssertions(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	cert := k.leaf(probetest.CertOptions{})
	maintenance := probetest.Text(200, "text/html", "<html><h1>We are down for maintenance</h1><p>Back soon.</p></html>")
	logo := pngBytes(t)
	mux := http.NewServeMux()
	mux.Handle("/maintenance", maintenance)
	mux.Handle("/health", probetest.Text(200, "application/json", `{"status":"degraded","components":[{"name":"db","ok":true}],"count":3}`))
	mux.Handle("/healthy", probetest.Text(200, "application/json", `{"status":"ok","count":3}`))
	mux.Handle("/logo.png", probetest.Text(200, "image/png", string(logo)))
	mux.Handle("/html-as-png", probetest.Text(200, "image/png", "<!doctype html><html>oops</html>"))
	mux.Handle("/truncated.png", probetest.Text(200, "image/png", string(logo[:len(logo)/2])))
	mux.Handle("/empty.png", probetest.Text(200, "image/png", ""))
	mux.Handle("/gone", probetest.Text(503, "text/plain", "unavailable"))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(60 * time.Millisecond)
		w.Write([]byte("slow"))
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Served-By", "edge-fra-3")
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/healthy", http.StatusMovedPermanently)
	})
	base := serveNodes(t, "", node{ip: "127.0.0.2", cert: cert, handler: mux})

	tests := []struct {
		name   string
		path   string
		expect Expect
		spec   func(*Spec)
		want   []string
	}{
		{name: "maintenance page with status 200", path: "/maintenance", expect: Expect{BodyNotContains: []string{"maintenance"}}, want: []string{"body_mismatch"}},
		{name: "maintenance page caught by body_contains", path: "/maintenance", expect: Expect{BodyContains: []string{"Welcome"}}, want: []string{"body_mismatch"}},
		{name: "maintenance page caught by regex", path: "/maintenance", expect: Expect{BodyRegex: `(?i)<title>.*console`}, want: []string{"body_mismatch"}},
		{name: "body ok", path: "/healthy", expect: Expect{BodyContains: []string{`"ok"`}, BodyNotContains: []string{"maintenance"}, BodyRegex: `"count":\d+`}},
		{name: "json status degraded", path: "/health", expect: Expect{JSON: map[string]any{"$.status": "ok"}}, want: []string{"json_mismatch"}},
		{name: "json path missing", path: "/healthy", expect: Expect{JSON: map[string]any{"$.version": "1"}}, want: []string{"json_mismatch"}},
		{name: "json body is html", path: "/maintenance", expect: Expect{JSON: map[string]any{"$.status": "ok"}}, want: []string{"json_mismatch"}},
		{name: "json ok", path: "/health", expect: Expect{JSON: map[string]any{"$.components[0].ok": true, "$.count": float64(3), "$.components[*].name": "db"}}},
		{name: "json number as string", path: "/healthy", expect: Expect{JSON: map[string]any{"$.count": "3", "$.status": "ok"}}},
		{name: "image serves html", path: "/html-as-png", expect: Expect{Image: true}, want: []string{"image_invalid"}},
		{name: "image truncated", path: "/truncated.png", expect: Expect{Image: true}, want: []string{"image_invalid"}},
		{name: "image empty", path: "/empty.png", expect: Expect{Image: true}, want: []string{"image_invalid"}},
		{name: "image ok", path: "/logo.png", expect: Expect{Image: true}},
		{name: "image cut by body cap", path: "/logo.png", expect: Expect{Image: true}, spec: func(s *Spec) { s.BodyCap = 20 }, want: []string{"image_invalid"}},
		{name: "status 503", path: "/gone", want: []string{"status_unexpected"}},
		{name: "status 503 expected", path: "/gone", expect: Expect{Status: StatusSet{{503, 503}}}},
		{name: "status 200 not in 201-204", path: "/healthy", expect: Expect{Status: StatusSet{{201, 204}}}, want: []string{"status_unexpected"}},
		{name: "header mismatch", path: "/headers", expect: Expect{Headers: map[string]string{"cache-control": "no-store"}}, want: []string{"header_mismatch"}},
		{name: "header missing", path: "/headers", expect: Expect{Headers: map[string]string{"Strict-Transport-Security": "/max-age=/"}}, want: []string{"header_mismatch"}},
		{name: "headers ok", path: "/headers", expect: Expect{Headers: map[string]string{"Cache-Control": "public, max-age=300", "X-Served-By": "/^edge-fra-\\d+$/"}}},
		{name: "latency high", path: "/slow", expect: Expect{MaxLatency: Duration(5 * time.Millisecond)}, want: []string{"latency_high"}},
		{name: "latency ok", path: "/slow", expect: Expect{MaxLatency: Duration(5 * time.Second)}},
		{name: "redirect followed", path: "/moved", expect: Expect{Status: StatusSet{{200, 200}}, JSON: map[string]any{"$.status": "ok"}}},
		{name: "redirect loop bounded", path: "/loop", spec: func(s *Spec) { s.MaxRedirects = 3 }, want: []string{"status_unexpected"}},
		{name: "redirects not followed", path: "/moved", spec: func(s *Spec) { s.MaxRedirects = -1 }, expect: Expect{Status: StatusSet{{200, 200}}}, want: []string{"status_unexpected"}},
	}
	pr := k.prober(nil, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := Spec{URL: base + tc.path, Expect: tc.expect}
			if tc.spec != nil {
				tc.spec(&spec)
			}
			res := pr.Run(context.Background(), spec)
			got := onlyCodes(res.Problems)
			if len(tc.want) == 0 && len(got) == 0 {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("codes (-want +got):\n%s\nproblems: %v", diff, res.Problems)
			}
		})
	}
}

func TestMaintenanceMessage(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}),
		handler: probetest.Text(200, "text/html", "<h1>Down for maintenance</h1> until 10:00 UTC")})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{BodyNotContains: []string{"maintenance"}}})
	if res.State != StateDown {
		t.Errorf("state: got %s, want down", res.State)
	}
	wantMessage(t, findProblem(t, res, CodeBodyMismatch), `contains "maintenance" at byte 13`, `"…own for maintenance</h1> un…"`, nodeAddr("127.0.0.2", url))
}

func TestJSONDegradedMessage(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	url := serveNodes(t, "/health", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}),
		handler: probetest.Text(200, "application/json", `{"status":"degraded"}`)})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{JSON: map[string]any{"$.status": "ok"}}})
	wantMessage(t, findProblem(t, res, CodeJSONMismatch), `$.status is the string "degraded" (8 characters), expected "ok"`)
}

func TestImageServesHTMLMessage(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	url := serveNodes(t, "/logo.png", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}),
		handler: probetest.Text(200, "image/png", "<!DOCTYPE html><html><body>Not found</body></html>")})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{Image: true}})
	wantMessage(t, findProblem(t, res, CodeImageInvalid), "served as image/png", "text/html")
}

func TestPlainHTTP(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	url := serveNodes(t, "/", node{ip: "127.0.0.2", handler: probetest.Text(200, "text/plain", "plain ok")})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{BodyContains: []string{"plain ok"}}})
	if res.State != StateUp || res.Nodes[0].TLS != nil {
		t.Errorf("got %s %v tls=%v, want up without TLS", res.State, res.Problems, res.Nodes[0].TLS)
	}
}

func TestBodyCapNotAnErrorByItself(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	big := bytes.Repeat([]byte("a"), 3<<20)
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}), handler: probetest.Text(200, "text/plain", string(big))})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{BodyContains: []string{"aaa"}}})
	if res.State != StateUp {
		t.Errorf("got %s %v, want up", res.State, res.Problems)
	}
	res = k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{BodyContains: []string{"the end"}}})
	wantMessage(t, findProblem(t, res, CodeBodyMismatch), "only the first 1 MiB")
}

// TestReadCappedMemory: the buffer never grows past the cap, whatever the
// server sends or announces.
func TestReadCappedMemory(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("x"), 10000)
	tests := []struct {
		limit, contentLength int64
		wantLen              int
		truncated            bool
	}{
		{100, -1, 100, true},
		{100, 1 << 40, 100, true},
		{20000, -1, 10000, false},
		{20000, 10000, 10000, false},
		{10000, -1, 10000, false},
		{9999, 10000, 9999, true},
	}
	for _, tc := range tests {
		got, truncated, err := readCapped(bytes.NewReader(body), tc.limit, tc.contentLength)
		if err != nil || len(got) != tc.wantLen || truncated != tc.truncated || int64(cap(got)) > tc.limit+1 {
			t.Errorf("limit %d, content-length %d: got len %d cap %d truncated %v err %v, want len %d truncated %v",
				tc.limit, tc.contentLength, len(got), cap(got), truncated, err, tc.wantLen, tc.truncated)
		}
	}
}
