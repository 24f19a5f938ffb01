package webtest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a tiny authoritative DNS server on loopback (UDP) for the names a
// test sets: TXT and A records, NXDOMAIN for anything else. Its Resolver
// asks only it, so a test's lookups never leave the machine.
type DNS struct {
	mu  sync.Mutex
	txt map[string][]string
	a   map[string]netip.Addr
	// Resolver sends every query to the server.
	Resolver *net.Resolver
}

// NewDNS starts the server, stopped when the test ends.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{txt: map[string][]string{}, a: map[string]netip.Addr{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("dns server shutdown: %v", err)
		}
		<-done
	})
	addr := pc.LocalAddr().String()
	d.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", addr)
	}}
	return d
}

// SetTXT makes name answer TXT with values (none: the name has no TXT).
func (d *DNS) SetTXT(name string, values ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[dns.Fqdn(strings.ToLower(name))] = values
}

// SetA makes name answer A with addr.
func (d *DNS) SetA(name string, addr netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[dns.Fqdn(strings.ToLower(name))] = addr
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 1}
	d.mu.Lock()
	txt, hasTXT := d.txt[name]
	a, hasA := d.a[name]
	d.mu.Unlock()
	switch {
	case !hasTXT && !hasA:
		m.SetRcode(req, dns.RcodeNameError)
	case q.Qtype == dns.TypeTXT:
		for _, v := range txt {
			hdr.Rrtype = dns.TypeTXT
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: []string{v}})
		}
	case q.Qtype == dns.TypeA && hasA:
		hdr.Rrtype = dns.TypeA
		m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
	}
	_ = w.WriteMsg(m) // the client times out if the answer is lost
}
