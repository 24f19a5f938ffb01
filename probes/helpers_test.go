package probes

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// testHost is the name every test server answers for; fakeResolver maps it.
const testHost = "cdn.pharos.test"

// pki is a hierarchy like a public CA's (root → intermediate → leaves)
// plus an unrelated internal CA, as in DESIGN §1 F2.
type pki struct {
	root, inter, internal *probetest.CA
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	old := time.Now().Add(-5 * 365 * 24 * time.Hour)
	root := probetest.NewRoot(probetest.CertOptions{CommonName: "Pharos Test Root", Organization: "Pharos Test CA", NotBefore: old})
	return &pki{
		root:     root,
		inter:    root.Intermediate(probetest.CertOptions{CommonName: "Pharos R1", Organization: "Pharos Test CA", NotBefore: old}),
		internal: probetest.NewRoot(probetest.CertOptions{CommonName: "Corp Internal CA", Organization: "ACME Corp", NotBefore: old}),
	}
}

// leaf issues a 90-day certificate for testHost from the intermediate.
func (k *pki) leaf(o probetest.CertOptions) tls.Certificate {
	if o.DNSNames == nil {
		o.DNSNames = []string{testHost}
	}
	if o.CommonName == "" {
		o.CommonName = o.DNSNames[0]
	}
	return k.inter.Leaf(o)
}

// allowTestNodes opens 127.0.0.2-9 to the guard; 127.0.0.1 stays refused,
// so tests show the guard working while talking to loopback servers.
func allowTestNodes(ip netip.Addr) bool {
	b := ip.As16()
	return ip.Is4() && b[12] == 127 && b[13] == 0 && b[14] == 0 && b[15] >= 2 && b[15] <= 9
}

// fakeResolver answers from a map, and "no such host" otherwise.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func (k *pki) prober(now func() time.Time, res fakeResolver) *Prober {
	if res == nil {
		res = fakeResolver{testHost: {"127.0.0.2", "127.0.0.3", "127.0.0.4"}}
	}
	return New(Options{Roots: probetest.Pool(k.root), Now: now, Resolver: res, Allow: allowTestNodes})
}

// node is one test server: a listener and what it serves.
type node struct {
	ip      string
	cert    tls.Certificate
	handler http.Handler
	mod     func(*tls.Config)
	silent  bool
}

// serveNodes starts the nodes on one shared port and returns the URL for path.
func serveNodes(t testing.TB, path string, nodes ...node) string {
	t.Helper()
	ips := make([]string, len(nodes))
	for i, n := range nodes {
		ips[i] = n.ip
	}
	lns := probetest.Listeners(t, ips...)
	for i, n := range nodes {
		switch {
		case n.silent:
			probetest.ServeSilent(t, lns[i])
		case n.cert.Certificate == nil:
			probetest.ServeHTTP(t, lns[i], n.handler)
		default:
			h := n.handler
			if h == nil {
				h = probetest.Text(200, "text/plain", "hello from "+n.ip)
			}
			probetest.ServeTLS(t, lns[i], n.cert, h, n.mod)
		}
	}
	scheme := "https"
	if !nodes[0].silent && nodes[0].cert.Certificate == nil {
		scheme = "http"
	}
	return fmt.Sprintf("%s://%s:%s%s", scheme, testHost, probetest.Port(lns[0]), path)
}

// codes returns the problem codes of r, sorted, for comparisons.
func codes(ps []Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, string(p.Code)+"@"+p.Node)
	}
	slices.Sort(out)
	return out
}

// onlyCodes is codes without nodes.
func onlyCodes(ps []Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, string(p.Code))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func findProblem(t testing.TB, r Result, code Code) Problem {
	t.Helper()
	for _, p := range r.Problems {
		if p.Code == code {
			return p
		}
	}
	t.Fatalf("no %s problem; got %v", code, r.Problems)
	return Problem{}
}

func wantMessage(t testing.TB, p Problem, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Message, s) {
			t.Errorf("message %q does not contain %q", p.Message, s)
		}
	}
}

func nodeAddr(ip, url string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.Split(strings.SplitN(url, "://", 2)[1], "/")[0], ""))
	return net.JoinHostPort(ip, port)
}
