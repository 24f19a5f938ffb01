package probes

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestGuardMetadataWithPrivateTargets: in allow-private mode every known
// metadata endpoint stays refused, by address (IPv4-mapped too) and by
// host name, unless the operator listed it; listing one opens only it.
func TestGuardMetadataWithPrivateTargets(t *testing.T) {
	t.Parallel()
	strict := NewGuard(nil)
	for ip := range cloudMetadata {
		for _, form := range []netip.Addr{ip, netip.AddrFrom16(ip.As16())} {
			if err := strict.Check(form, true); err == nil || !strings.Contains(err.Error(), "cloud metadata endpoint") {
				t.Errorf("%s with private targets allowed: got %v, want refused as a metadata endpoint", form, err)
			}
		}
		listed := NewGuard(nil, ip.String())
		if err := listed.Check(ip, true); err != nil {
			t.Errorf("%s listed explicitly: got %v, want allowed", ip, err)
		}
		for other := range cloudMetadata {
			if other != ip && listed.Check(other, true) == nil {
				t.Errorf("listing %s opened %s too", ip, other)
			}
		}
	}
	for host := range metadataHosts {
		for _, form := range []string{host, strings.ToUpper(host), host + "."} {
			if err := strict.CheckHost(form); err == nil || !strings.Contains(err.Error(), "cloud metadata host name") {
				t.Errorf("host %s: got %v, want refused by name", form, err)
			}
		}
		if err := NewGuard(nil, strings.ToUpper(host)+".").CheckHost(host); err != nil {
			t.Errorf("host %s listed explicitly: got %v, want allowed", host, err)
		}
	}
	if err := strict.CheckHost("metadata.example.org"); err != nil {
		t.Errorf("an ordinary name: got %v, want allowed", err)
	}
	// Listing a metadata address lifts only the metadata rule: without
	// private targets, link-local and CGNAT addresses stay refused.
	if err := NewGuard(nil, "169.254.170.2").Check(netip.MustParseAddr("169.254.170.2"), false); err == nil || !strings.Contains(err.Error(), "link-local") {
		t.Errorf("a listed link-local endpoint without private targets: got %v, want refused as link-local", err)
	}
	if err := NewGuard(nil, "[fd00:ec2::254]").Check(netip.MustParseAddr("fd00:ec2::254"), true); err != nil {
		t.Errorf("a bracketed IPv6 entry: got %v, want it to list fd00:ec2::254", err)
	}
}

// TestMetadataHostNameProbe: a check of a metadata host name is refused by
// name before anything is dialled, even in allow-private mode and even
// when the name resolves to an ordinary address; listed explicitly, the
// same check reaches its server (on loopback here).
func TestMetadataHostNameProbe(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("instance-id"))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res := fakeResolver{"metadata.google.internal": {"127.0.0.1"}}
	url := "http://metadata.google.internal:" + port + "/computeMetadata/v1/"

	var dialled []string
	refusing := New(Options{AllowPrivate: true, Resolver: res,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialled = append(dialled, addr)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}})
	got := refusing.Run(context.Background(), Spec{URL: url})
	if got.State != StateDown || len(got.Problems) != 1 || got.Problems[0].Code != CodeBlockedAddress ||
		!strings.Contains(got.Problems[0].Message, "metadata.google.internal is a cloud metadata host name") {
		t.Errorf("allow-private probe of a metadata name: got %s %v, want down with one blocked_address naming the host", got.State, got.Problems)
	}
	if len(dialled) != 0 {
		t.Errorf("dialled %v, want nothing", dialled)
	}

	listed := New(Options{AllowPrivate: true, Resolver: res, AllowMetadata: []string{"metadata.google.internal"}})
	if got := listed.Run(context.Background(), Spec{URL: url}); got.State != StateUp {
		t.Errorf("the listed metadata name: got %s %v, want up", got.State, got.Problems)
	}
}
