package probes

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

func TestHealthyThreeNodes(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	cert := k.leaf(probetest.CertOptions{})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert}, node{ip: "127.0.0.3", cert: cert}, node{ip: "127.0.0.4", cert: cert})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Nodes: Nodes{All: true}, Expect: Expect{BodyContains: []string{"hello"}}})
	if res.State != StateUp || len(res.Problems) != 0 {
		t.Fatalf("got %s %v, want up with no problems", res.State, res.Problems)
	}
	if len(res.Nodes) != 3 {
		t.Fatalf("got %d nodes, want 3", len(res.Nodes))
	}
	for _, n := range res.Nodes {
		if n.StatusCode != 200 || n.TLS == nil || !n.TLS.ChainTrusted {
			t.Errorf("node %s: got status %d tls %+v, want 200 and a trusted chain", n.Address, n.StatusCode, n.TLS)
			continue
		}
		if n.TLS.Leaf.Subject != "CN="+testHost || n.TLS.Leaf.DaysLeft < 88 || len(n.TLS.Chain) != 2 {
			t.Errorf("node %s: leaf %+v chain %d, want CN=%s, ~89 days and 2 issuers", n.Address, n.TLS.Leaf, len(n.TLS.Chain), testHost)
		}
		if n.TLS.Version != "TLS 1.3" || n.TLS.Cipher == "" {
			t.Errorf("node %s: version %q cipher %q", n.Address, n.TLS.Version, n.TLS.Cipher)
		}
		if n.Timings.Total < n.Timings.TTFB || n.Timings.Total <= 0 && n.Timings.TTFB < 0 {
			t.Errorf("node %s: timings %+v", n.Address, n.Timings)
		}
	}
}

func TestResultJSONShape(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	expired := k.leaf(probetest.CertOptions{NotBefore: time.Now().Add(-91 * 24 * time.Hour), NotAfter: time.Now().Add(-26 * time.Hour)})
	url := serveNodes(t, "/logo.png", node{ip: "127.0.0.2", cert: expired})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"url", "state", "checked_at", "duration_ms", "problems", "nodes"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("result JSON lacks %q: %s", key, b)
		}
	}
	n := doc["nodes"].([]any)[0].(map[string]any)
	for _, key := range []string{"address", "state", "status_code", "timings_ms", "tls", "problems"} {
		if _, ok := n[key]; !ok {
			t.Errorf("node JSON lacks %q", key)
		}
	}
	for _, key := range []string{"dns", "connect", "tls", "ttfb", "total"} {
		if _, ok := n["timings_ms"].(map[string]any)[key]; !ok {
			t.Errorf("timings_ms lacks %q", key)
		}
	}
	tlsDoc := n["tls"].(map[string]any)
	for _, key := range []string{"version", "cipher", "chain_trusted", "leaf", "chain"} {
		if _, ok := tlsDoc[key]; !ok {
			t.Errorf("tls lacks %q", key)
		}
	}
	for _, key := range []string{"subject", "issuer", "serial", "sha256", "dns_names", "not_before", "not_after", "days_left"} {
		if _, ok := tlsDoc["leaf"].(map[string]any)[key]; !ok {
			t.Errorf("leaf lacks %q", key)
		}
	}
	p := doc["problems"].([]any)[0].(map[string]any)
	if diff := cmp.Diff(map[string]any{"code": "cert_expired", "severity": "critical", "node": "127.0.0.2:" + strings.Split(url, ":")[2][:len(strings.Split(url, ":")[2])-len("/logo.png")], "message": p["message"]}, p); diff != "" {
		t.Errorf("problem JSON (-want +got):\n%s", diff)
	}
	if _, err := time.Parse(time.RFC3339, doc["checked_at"].(string)); err != nil {
		t.Errorf("checked_at: %v", err)
	}
	if doc["state"] != "down" || tlsDoc["leaf"].(map[string]any)["days_left"].(float64) != -1 {
		t.Errorf("got state %v days_left %v, want down and -1", doc["state"], tlsDoc["leaf"].(map[string]any)["days_left"])
	}
}

func TestOneOfThreeNodesExpired(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	good := k.leaf(probetest.CertOptions{})
	bad := k.leaf(probetest.CertOptions{NotBefore: time.Now().Add(-91 * 24 * time.Hour), NotAfter: time.Now().Add(-25 * time.Hour)})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: good}, node{ip: "127.0.0.3", cert: good}, node{ip: "127.0.0.4", cert: bad})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Nodes: Nodes{All: true}})
	if res.State != StateDown {
		t.Errorf("got state %s, want down", res.State)
	}
	bad4 := nodeAddr("127.0.0.4", url)
	if diff := cmp.Diff([]string{"cert_expired@" + bad4, "nodes_disagree@"}, codes(res.Problems)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	wantMessage(t, findProblem(t, res, CodeCertExpired), "certificate for "+testHost+" expired ", " UTC (1 day ago) on "+bad4)
	wantMessage(t, findProblem(t, res, CodeNodesDisagree), "127.0.0.2", "127.0.0.3", "127.0.0.4")
	states := map[string]State{}
	for _, n := range res.Nodes {
		states[n.Address] = n.State
	}
	if states[bad4] != StateDown || states[nodeAddr("127.0.0.2", url)] != StateUp {
		t.Errorf("node states %v, want only %s down", states, bad4)
	}
}

func TestExplicitNodesAndDefaultFirst(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	good := k.leaf(probetest.CertOptions{})
	bad := k.leaf(probetest.CertOptions{NotBefore: time.Now().Add(-91 * 24 * time.Hour), NotAfter: time.Now().Add(-25 * time.Hour)})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: good}, node{ip: "127.0.0.3", cert: bad})
	pr := k.prober(nil, nil)
	if res := pr.Run(context.Background(), Spec{URL: url}); res.State != StateUp || len(res.Nodes) != 1 {
		t.Errorf("default nodes: got %s with %d nodes, want up on the first address only", res.State, len(res.Nodes))
	}
	// A standby node carrying no traffic is probed by address (F4).
	res := pr.Run(context.Background(), Spec{URL: url, Nodes: Nodes{Addrs: []string{"127.0.0.3"}}})
	if res.State != StateDown || len(res.Nodes) != 1 || res.Nodes[0].Address != nodeAddr("127.0.0.3", url) {
		t.Errorf("explicit node: got %s %+v", res.State, res.Nodes)
	}
}

// TestNodeError: a node whose probe stopped before an HTTP answer carries
// the failure as nodes[].error (DESIGN §6), the message of the problem
// naming it; a node that answered, however badly, carries none.
func TestNodeError(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	cert := k.leaf(probetest.CertOptions{})
	clientCert := func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert }
	reversed := k.leaf(probetest.CertOptions{})
	reversed.Certificate = [][]byte{reversed.Certificate[1], reversed.Certificate[0]}
	tests := []struct {
		name    string
		serve   func(t *testing.T) (url string, nodes []string)
		timeout time.Duration
		want    map[string]string // node IP → text its error must contain, "" for none
	}{
		{name: "answered", want: map[string]string{"127.0.0.2": ""},
			serve: func(t *testing.T) (string, []string) {
				return serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert}), []string{"127.0.0.2"}
			}},
		{name: "answered with an unexpected status", want: map[string]string{"127.0.0.2": ""},
			serve: func(t *testing.T) (string, []string) {
				return serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert, handler: probetest.Text(503, "text/plain", "busy")}), []string{"127.0.0.2"}
			}},
		{name: "connection refused", want: map[string]string{"127.0.0.3": "could not connect to 127.0.0.3:"},
			serve: func(t *testing.T) (string, []string) {
				ln := probetest.Listeners(t, "127.0.0.3")[0]
				ln.Close()
				return "https://" + testHost + ":" + probetest.Port(ln) + "/", []string{"127.0.0.3"}
			}},
		{name: "handshake refused", want: map[string]string{"127.0.0.2": "TLS handshake with 127.0.0.2:"},
			serve: func(t *testing.T) (string, []string) {
				return serveNodes(t, "/", node{ip: "127.0.0.2", cert: cert, mod: clientCert}), []string{"127.0.0.2"}
			}},
		{name: "chain in the wrong order", want: map[string]string{"127.0.0.2": "in the wrong order"},
			serve: func(t *testing.T) (string, []string) {
				return serveNodes(t, "/", node{ip: "127.0.0.2", cert: reversed}), []string{"127.0.0.2"}
			}},
		{name: "timeout", timeout: 300 * time.Millisecond, want: map[string]string{"127.0.0.2": "within 300ms"},
			serve: func(t *testing.T) (string, []string) {
				return serveNodes(t, "/", node{ip: "127.0.0.2", silent: true}), []string{"127.0.0.2"}
			}},
		{name: "one node of two refuses", want: map[string]string{"127.0.0.2": "", "127.0.0.4": "connection refused"},
			serve: func(t *testing.T) (string, []string) {
				lns := probetest.Listeners(t, "127.0.0.2", "127.0.0.4")
				probetest.ServeTLS(t, lns[0], cert, probetest.Text(200, "text/plain", "hello"), nil)
				lns[1].Close()
				return "https://" + testHost + ":" + probetest.Port(lns[0]) + "/", []string{"127.0.0.2", "127.0.0.4"}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, nodes := tc.serve(t)
			spec := Spec{URL: url, Nodes: Nodes{Addrs: nodes}, Timeout: Duration(5 * time.Second)}
			if tc.timeout > 0 {
				spec.Timeout = Duration(tc.timeout)
			}
			res := k.prober(nil, nil).Run(context.Background(), spec)
			if len(res.Nodes) != len(tc.want) {
				t.Fatalf("got %d nodes, want %d: %+v", len(res.Nodes), len(tc.want), res.Nodes)
			}
			for _, n := range res.Nodes {
				want, ok := tc.want[strings.Split(n.Address, ":")[0]]
				switch {
				case !ok:
					t.Errorf("unexpected node %s", n.Address)
				case want == "" && n.Error != "":
					t.Errorf("node %s: error %q, want none (status %d)", n.Address, n.Error, n.StatusCode)
				case want != "" && !strings.Contains(n.Error, want):
					t.Errorf("node %s: error %q, want one containing %q", n.Address, n.Error, want)
				case want != "" && !slices.ContainsFunc(n.Problems, func(p Problem) bool { return p.Message == n.Error }):
					t.Errorf("node %s: error %q is none of its problems' messages: %v", n.Address, n.Error, n.Problems)
				}
			}
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Count(string(b), `"error":`), countErrors(tc.want); got != want {
				t.Errorf("JSON has %d error keys, want %d (omitted when the node answered):\n%s", got, want, b)
			}
		})
	}
}

func countErrors(want map[string]string) int {
	n := 0
	for _, w := range want {
		if w != "" {
			n++
		}
	}
	return n
}
