package probes

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"

	"code.dny.dev/ssrf"
)

// Guard decides, at dial time and after DNS resolution, which addresses a
// probe may connect to (DESIGN §10). Checking the resolved address at dial
// time, rather than the name before the request, defeats DNS rebinding.
//
// By default it refuses loopback, private, link-local, CGNAT, cloud metadata,
// unspecified, multicast and reserved addresses, and IPv6 forms that embed
// IPv4 (NAT64, 6to4, IPv4-mapped). With private targets allowed it still
// refuses unspecified, multicast and metadata addresses, which are never a
// legitimate probe target.
type Guard struct {
	ssrf  *ssrf.Guardian
	allow func(netip.Addr) bool
	// allowMeta and allowHosts are the metadata endpoints the operator
	// listed explicitly (PHAROS_ALLOW_METADATA_TARGETS).
	allowMeta  map[netip.Addr]bool
	allowHosts map[string]bool
}

// NewGuard returns a Guard. allow, when not nil, is consulted first and
// permits any address it returns true for; tests use it to open 127.0.0.2-9
// while 127.0.0.1 stays refused. allowMetadata lists cloud metadata
// endpoints — addresses or host names — that are not refused for being
// metadata endpoints; the other rules still apply to them.
func NewGuard(allow func(netip.Addr) bool, allowMetadata ...string) *Guard {
	g := &Guard{ssrf: ssrf.New(ssrf.WithAnyPort()), allow: allow,
		allowMeta: map[netip.Addr]bool{}, allowHosts: map[string]bool{}}
	for _, e := range allowMetadata {
		e = strings.TrimSpace(e)
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			g.allowMeta[ip.WithZone("").Unmap()] = true
		} else if e != "" {
			g.allowHosts[normalHost(e)] = true
		}
	}
	return g
}

// BlockedError is returned when the guard refuses an address, or a host
// name (Host set, Addr zero).
type BlockedError struct {
	Addr   netip.Addr
	Reason string
	Host   string
}

func (e *BlockedError) Error() string {
	if e.Host != "" {
		return fmt.Sprintf("%s is %s; probes may not reach it", e.Host, e.Reason)
	}
	return fmt.Sprintf("%s is %s; probes may not reach it", e.Addr, e.Reason)
}

// cloudMetadata are the instance metadata and credential endpoints of the
// clouds, refused even when private targets are allowed: they hand out the
// credentials of the machine or container the prober runs on.
var cloudMetadata = map[netip.Addr]string{
	netip.MustParseAddr("169.254.169.254"): "AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean, Hetzner, IBM and others",
	netip.MustParseAddr("fd00:ec2::254"):   "AWS over IPv6",
	netip.MustParseAddr("169.254.170.2"):   "AWS ECS task metadata and container credentials",
	netip.MustParseAddr("169.254.170.23"):  "AWS EKS Pod Identity credentials",
	netip.MustParseAddr("fd00:ec2::23"):    "AWS EKS Pod Identity credentials over IPv6",
	netip.MustParseAddr("fd20:ce::254"):    "GCP over IPv6",
	netip.MustParseAddr("100.100.100.200"): "Alibaba Cloud",
	netip.MustParseAddr("192.0.0.192"):     "Oracle Cloud (legacy)",
	netip.MustParseAddr("169.254.0.23"):    "Tencent Cloud",
	netip.MustParseAddr("169.254.42.42"):   "Scaleway",
	netip.MustParseAddr("fd00:42::42"):     "Scaleway over IPv6",
	netip.MustParseAddr("168.63.129.16"):   "Azure WireServer",
}

// metadataHosts are the names those endpoints go by; they are refused by
// name before resolution, whatever they resolve to.
var metadataHosts = map[string]bool{
	"metadata":                     true, // GCP's short name
	"metadata.google.internal":     true,
	"metadata.goog":                true,
	"instance-data":                true, // AWS
	"instance-data.ec2.internal":   true,
	"metadata.tencentyun.com":      true,
	"api.metadata.cloud.ibm.com":   true,
	"metadata.platformequinix.com": true,
	"metadata.packet.net":          true,
}

func normalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// CheckHost returns a *BlockedError when host is a cloud metadata host
// name that was not listed explicitly.
func (g *Guard) CheckHost(host string) error {
	h := normalHost(host)
	if metadataHosts[h] && !g.allowHosts[h] {
		return &BlockedError{Host: host, Reason: "a cloud metadata host name"}
	}
	return nil
}

// Check returns a *BlockedError when ip may not be dialled. allowPrivate
// opens private, loopback and link-local ranges.
func (g *Guard) Check(ip netip.Addr, allowPrivate bool) error {
	ip = ip.WithZone("")
	if g.allow != nil && g.allow(ip) {
		return nil
	}
	unmapped := ip.Unmap()
	if _, ok := cloudMetadata[unmapped]; ok && !g.allowMeta[unmapped] {
		return &BlockedError{Addr: ip, Reason: "a cloud metadata endpoint"}
	}
	if unmapped.IsUnspecified() || unmapped.IsMulticast() {
		return &BlockedError{Addr: ip, Reason: describe(unmapped)}
	}
	if allowPrivate {
		return nil
	}
	if err := g.ssrf.SafeAddr(ip); err != nil {
		return &BlockedError{Addr: ip, Reason: describe(ip)}
	}
	return nil
}

// control is a net.Dialer Control function enforcing the guard on the
// address actually dialled.
func (g *Guard) control(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("guard: %w", err)
		}
		return g.Check(ap.Addr(), allowPrivate)
	}
}

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4  = netip.MustParsePrefix("2002::/16")
	cgnat   = netip.MustParsePrefix("100.64.0.0/10")
	thisNet = netip.MustParsePrefix("0.0.0.0/8")
)

// describe names the kind of a refused address for the problem message.
func describe(ip netip.Addr) string {
	if ip.Is4In6() {
		return "an IPv4-mapped IPv6 address of " + ip.Unmap().String() + " (" + describe(ip.Unmap()) + ")"
	}
	switch {
	case ip.IsUnspecified() || thisNet.Contains(ip):
		return "an unspecified address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsMulticast():
		return "a multicast address"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "a link-local address"
	case cgnat.Contains(ip):
		return "a carrier-grade NAT address (RFC 6598)"
	case ip.Is4() && ip.IsPrivate():
		return "a private address (RFC 1918)"
	case ip.IsPrivate():
		return "a unique local IPv6 address"
	case nat64.Contains(ip):
		b := ip.As16()
		return "a NAT64 address embedding " + netip.AddrFrom4([4]byte(b[12:16])).String()
	case sixTo4.Contains(ip):
		b := ip.As16()
		return "a 6to4 address embedding " + netip.AddrFrom4([4]byte(b[2:6])).String()
	}
	return "a reserved or special-purpose address"
}

func isBlocked(err error) (*BlockedError, bool) {
	var be *BlockedError
	ok := errors.As(err, &be)
	return be, ok
}
