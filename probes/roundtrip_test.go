package probes

import (
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

// TestRequestOnTheWire: a probe's request names the host, says who asks,
// asks for gzip and for the connection to close, and a gzip answer is
// judged on its decompressed body, also after a redirect.
func TestRequestOnTheWire(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	got := make(chan http.Header, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/health?full=1", http.StatusFound)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Set("X-Host", r.Host)
		h.Set("X-Uri", r.RequestURI)
		h.Set("X-Close", map[bool]string{true: "yes", false: "no"}[r.Close])
		got <- h
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write([]byte(`{"status":"ok"}`))
		zw.Close()
	})
	url := serveNodes(t, "/old", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}), handler: mux})
	pr := k.prober(nil, fakeResolver{testHost: {"127.0.0.2"}})
	res := pr.Run(context.Background(), Spec{URL: url, Expect: Expect{
		BodyContains: []string{`"ok"`}, JSON: map[string]any{"$.status": "ok"}}})
	if res.State != StateUp {
		t.Fatalf("got %s %v, want up", res.State, res.Problems)
	}
	h := <-got
	want := map[string]string{"X-Host": strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/old"),
		"X-Uri": "/health?full=1", "X-Close": "yes", "Accept-Encoding": "gzip", "Accept": "*/*"}
	for k, v := range want {
		if diff := cmp.Diff(v, h.Get(k)); diff != "" {
			t.Errorf("%s (-want +got): %s", k, diff)
		}
	}
	if ua := h.Get("User-Agent"); ua == "" || ua == "Go-http-client/1.1" {
		t.Errorf("User-Agent %q, want the prober's", ua)
	}
}
