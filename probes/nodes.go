package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Resolver looks up the addresses of a host; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// resolveNodes returns the addresses to probe for p and how long DNS took,
// or a dns_failed problem.
func (pr *Prober) resolveNodes(ctx context.Context, p *plan) ([]netip.AddrPort, time.Duration, *Problem) {
	if len(p.nodes) > 0 {
		return p.nodes, 0, nil
	}
	port, _ := strconv.ParseUint(p.port, 10, 16)
	if ip, err := netip.ParseAddr(p.host); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(ip.Unmap(), uint16(port))}, 0, nil
	}
	start := time.Now()
	ips, err := pr.lookup(ctx, p.host, p.timeout)
	took := time.Since(start)
	if be, ok := isBlocked(err); ok {
		pb := problemf(CodeBlockedAddress, "", "%s: %v", p.url, be)
		return nil, took, &pb
	}
	if err != nil {
		pb := problemf(CodeDNSFailed, "", "%s did not resolve: %s", p.host, dnsReason(err))
		if errors.Is(err, context.DeadlineExceeded) {
			pb.Message = fmt.Sprintf("%s did not resolve within %s", p.host, p.timeout)
		}
		return nil, took, &pb
	}
	if !p.spec.Nodes.All {
		ips = ips[:1]
	}
	out := make([]netip.AddrPort, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrPortFrom(ip, uint16(port))
	}
	return out, took, nil
}

// lookup resolves host to a de-duplicated list of addresses, IPv4 first.
func (pr *Prober) lookup(ctx context.Context, host string, timeout time.Duration) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	if err := pr.guard.CheckHost(host); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ips, err := pr.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	slices.SortStableFunc(ips, func(a, b netip.Addr) int {
		switch {
		case a.Is4() && !b.Is4():
			return -1
		case !a.Is4() && b.Is4():
			return 1
		}
		return 0
	})
	uniq := ips[:0]
	for _, ip := range ips {
		if !slices.Contains(uniq, ip) {
			uniq = append(uniq, ip)
		}
	}
	ips = uniq
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return ips, nil
}

func dnsReason(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return "no such host"
		case de.IsTimeout:
			return "the DNS server did not answer in time"
		}
		return de.Err
	}
	return err.Error()
}
