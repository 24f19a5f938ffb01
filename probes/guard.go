package probes

import (
	"errors"
	"fmt"
	"net/netip"
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
}

// NewGuard returns a Guard. allow, when not nil, is consulted first and
// permits any address it returns true for; tests use it to open 127.0.0.2-9
// while 127.0.0.1 stays refused.
func NewGuard(allow func(netip.Addr) bool) *Guard {
	return &Guard{ssrf: ssrf.New(ssrf.WithAnyPort()), allow: allow}
}

// BlockedError is returned when the guard refuses an address.
type BlockedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("%s is %s; probes may not reach it", e.Addr, e.Reason)
}

var cloudMetadata = [...]netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, ...
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
}

// Check returns a *BlockedError when ip may not be dialled. allowPrivate
// opens private, loopback and link-local ranges.
func (g *Guard) Check(ip netip.Addr, allowPrivate bool) error {
	ip = ip.WithZone("")
	if g.allow != nil && g.allow(ip) {
		return nil
	}
	unmapped := ip.Unmap()
	for _, m := range cloudMetadata {
		if unmapped == m {
			return &BlockedError{ip, "a cloud metadata endpoint"}
		}
	}
	if unmapped.IsUnspecified() || unmapped.IsMulticast() {
		return &BlockedError{ip, describe(unmapped)}
	}
	if allowPrivate {
		return nil
	}
	if err := g.ssrf.SafeAddr(ip); err != nil {
		return &BlockedError{ip, describe(ip)}
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
