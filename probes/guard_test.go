package probes

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes/probetest"
)

func TestGuardCheck(t *testing.T) {
	t.Parallel()
	g := NewGuard(nil)
	tests := []struct {
		addr         string
		allowPrivate bool
		blocked      string // substring of the reason, "" when allowed
	}{
		{"127.0.0.1", false, "loopback"},
		{"::1", false, "loopback"},
		{"10.0.0.1", false, "private address (RFC 1918)"},
		{"172.16.5.4", false, "private"},
		{"192.168.1.1", false, "private"},
		{"169.254.169.254", false, "cloud metadata"},
		{"169.254.1.1", false, "link-local"},
		{"fe80::1", false, "link-local"},
		{"fd00:ec2::254", false, "cloud metadata"},
		{"fd12:3456::1", false, "unique local"},
		{"100.64.0.1", false, "carrier-grade NAT"},
		{"0.0.0.0", false, "unspecified"},
		{"::", false, "unspecified"},
		{"224.0.0.1", false, "multicast"},
		{"ff02::1", false, "multicast"},
		{"64:ff9b::a00:1", false, "NAT64 address embedding 10.0.0.1"},
		{"2002:a00:1::1", false, "6to4 address embedding 10.0.0.1"},
		{"::ffff:127.0.0.1", false, "IPv4-mapped"},
		{"::ffff:169.254.169.254", false, "cloud metadata"},
		{"8.8.8.8", false, ""},
		{"2606:4700:4700::1111", false, ""},
		{"10.0.0.1", true, ""},
		{"127.0.0.1", true, ""},
		{"169.254.169.254", true, "cloud metadata"},
		{"0.0.0.0", true, "unspecified"},
		{"224.0.0.1", true, "multicast"},
	}
	for _, tc := range tests {
		err := g.Check(netip.MustParseAddr(tc.addr), tc.allowPrivate)
		switch {
		case tc.blocked == "" && err != nil:
			t.Errorf("%s (allowPrivate=%v): got %v, want allowed", tc.addr, tc.allowPrivate, err)
		case tc.blocked != "" && (err == nil || !strings.Contains(err.Error(), tc.blocked)):
			t.Errorf("%s (allowPrivate=%v): got %v, want blocked as %q", tc.addr, tc.allowPrivate, err, tc.blocked)
		}
	}
}

// TestGuardRefusesTargets probes refused addresses given as nodes and as
// DNS answers; nothing may be dialled.
func TestGuardRefusesTargets(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	dialled := make(chan string, 10)
	pr := New(Options{Roots: probetest.Pool(k.root), Allow: allowTestNodes,
		Resolver: fakeResolver{"internal.pharos.test": {"10.0.0.1"}, "meta.pharos.test": {"169.254.169.254"}},
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialled <- addr
			return nil, &net.OpError{Op: "dial", Net: network, Err: net.ErrClosed}
		}})
	for _, tc := range []struct{ url, node, want string }{
		{"https://" + testHost + "/", "127.0.0.1", "127.0.0.1 is a loopback address"},
		{"https://" + testHost + "/", "10.0.0.1", "10.0.0.1 is a private address"},
		{"http://" + testHost + "/", "169.254.169.254", "169.254.169.254 is a cloud metadata endpoint"},
		{"https://" + testHost + "/", "[::1]:8443", "::1 is a loopback address"},
		{"https://internal.pharos.test/", "", "10.0.0.1 is a private address"},
		{"http://meta.pharos.test/latest/meta-data/", "", "cloud metadata"},
		{"http://127.0.0.1/", "", "loopback"},
	} {
		spec := Spec{URL: tc.url}
		if tc.node != "" {
			spec.Nodes.Addrs = []string{tc.node}
		}
		res := pr.Run(context.Background(), spec)
		if diff := cmp.Diff([]string{"blocked_address"}, onlyCodes(res.Problems)); diff != "" {
			t.Errorf("%s via %q (-want +got):\n%s", tc.url, tc.node, diff)
			continue
		}
		wantMessage(t, res.Problems[0], tc.want)
		if res.State != StateDown {
			t.Errorf("%s: got state %s, want down", tc.url, res.State)
		}
	}
	select {
	case a := <-dialled:
		t.Errorf("dialled %s, want no dial to a refused address", a)
	default:
	}
}

// TestGuardRefusesRedirects: an allowed server redirecting to a refused
// address (directly or through a name) must not be followed.
func TestGuardRefusesRedirects(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	// A server on 127.0.0.1 that must never be reached.
	secret := probetest.Listeners(t, "127.0.0.1")[0]
	var reached = make(chan struct{}, 10)
	probetest.ServeHTTP(t, secret, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached <- struct{}{} }))
	port := probetest.Port(secret)
	targets := map[string]string{
		"/to-loopback":  "http://127.0.0.1:" + port + "/",
		"/to-private":   "http://10.0.0.1/",
		"/to-metadata":  "http://169.254.169.254/latest/meta-data/",
		"/to-v6":        "http://[::1]:" + port + "/",
		"/to-rebinding": "http://rebind.pharos.test:" + port + "/",
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, targets[r.URL.Path], http.StatusFound)
	})
	base := serveNodes(t, "", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}), handler: h})
	pr := k.prober(nil, fakeResolver{testHost: {"127.0.0.2"}, "rebind.pharos.test": {"127.0.0.1"}})
	for path, target := range targets {
		res := pr.Run(context.Background(), Spec{URL: base + path, Timeout: Duration(2 * time.Second)})
		if diff := cmp.Diff([]string{"blocked_address"}, onlyCodes(res.Problems)); diff != "" {
			t.Errorf("redirect to %s (-want +got):\n%s\n%v", target, diff, res.Problems)
		}
	}
	select {
	case <-reached:
		t.Error("the server on 127.0.0.1 was reached through a redirect")
	default:
	}
}

func TestAllowPrivate(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	url := serveNodes(t, "/", node{ip: "127.0.0.1", cert: k.leaf(probetest.CertOptions{})})
	url = strings.Replace(url, testHost, testHost, 1)
	pr := k.prober(nil, fakeResolver{testHost: {"127.0.0.1"}})
	res := pr.Run(context.Background(), Spec{URL: url})
	if res.State != StateDown || res.Problems[0].Code != CodeBlockedAddress {
		t.Fatalf("without allow_private: got %s %v, want blocked_address", res.State, res.Problems)
	}
	// The refusal names both switches that allow it.
	if msg := res.Problems[0].Message; !strings.Contains(msg, "--allow-private") || !strings.Contains(msg, "PHAROS_ALLOW_PRIVATE_TARGETS") {
		t.Errorf("blocked_address message %q names neither --allow-private nor PHAROS_ALLOW_PRIVATE_TARGETS", msg)
	}
	if res := pr.Run(context.Background(), Spec{URL: url, AllowPrivate: true}); res.State != StateUp {
		t.Errorf("with allow_private: got %s %v, want up", res.State, res.Problems)
	}
	global := New(Options{Roots: probetest.Pool(k.root), Resolver: fakeResolver{testHost: {"127.0.0.1"}}, AllowPrivate: true})
	if res := global.Run(context.Background(), Spec{URL: url}); res.State != StateUp {
		t.Errorf("with Options.AllowPrivate: got %s %v, want up", res.State, res.Problems)
	}
}

func TestNetworkFailures(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	silentURL := serveNodes(t, "/", node{ip: "127.0.0.2", silent: true})
	closed := probetest.Listeners(t, "127.0.0.6")[0]
	closedPort := probetest.Port(closed)
	closed.Close()
	pr := k.prober(nil, nil)

	start := time.Now()
	res := pr.Run(context.Background(), Spec{URL: silentURL, Timeout: Duration(300 * time.Millisecond)})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("silent node took %s, want about the 300ms timeout", took)
	}
	if diff := cmp.Diff([]string{"timeout"}, onlyCodes(res.Problems)); diff != "" {
		t.Errorf("silent node (-want +got):\n%s\n%v", diff, res.Problems)
	} else {
		wantMessage(t, res.Problems[0], "within 300ms", "TLS handshake")
	}

	res = pr.Run(context.Background(), Spec{URL: "https://" + testHost + ":" + closedPort + "/", Nodes: Nodes{Addrs: []string{"127.0.0.6"}}})
	if diff := cmp.Diff([]string{"connection_failed"}, onlyCodes(res.Problems)); diff != "" {
		t.Errorf("refused (-want +got):\n%s\n%v", diff, res.Problems)
	} else {
		wantMessage(t, res.Problems[0], "connection refused")
	}

	res = pr.Run(context.Background(), Spec{URL: "https://nowhere.pharos.invalid/"})
	if diff := cmp.Diff([]string{"dns_failed"}, onlyCodes(res.Problems)); diff != "" || res.State != StateDown {
		t.Errorf("dns (-want +got):\n%s\nstate %s", diff, res.State)
	} else {
		wantMessage(t, res.Problems[0], "nowhere.pharos.invalid did not resolve: no such host")
	}

	// A plain HTTP server on a TLS URL fails the handshake.
	plainURL := serveNodes(t, "/", node{ip: "127.0.0.2", handler: probetest.Text(200, "text/plain", "hi")})
	res = pr.Run(context.Background(), Spec{URL: strings.Replace(plainURL, "http://", "https://", 1)})
	if diff := cmp.Diff([]string{"tls_handshake_failed"}, onlyCodes(res.Problems)); diff != "" {
		t.Errorf("plain server (-want +got):\n%s\n%v", diff, res.Problems)
	}
}
