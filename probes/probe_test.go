package probes

import (
	"context"
	"encoding/json"
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
