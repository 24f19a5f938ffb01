package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
)

// classify turns the error that stopped a node's request into one problem.
// phase says what the probe was waiting for when it failed.
func classify(err error, p *plan, node, phase string, handshakeDone bool) Problem {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
		recErr tls.RecordHeaderError
		alert  tls.AlertError
		verErr *tls.CertificateVerificationError
	)
	if be, ok := isBlocked(err); ok {
		hint := ""
		if be.Addr.Unmap().IsPrivate() || be.Addr.Unmap().IsLoopback() || be.Addr.Unmap().IsLinkLocalUnicast() {
			hint = " (internal targets are allowed with --allow-private in pharos check, PHAROS_ALLOW_PRIVATE_TARGETS=true in the service)"
		}
		return problemf(CodeBlockedAddress, node, "%s: %v%s", p.url, be, hint)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		return problemf(CodeTimeout, node, "no complete answer from %s for %s within %s (waiting for the %s)",
			node, p.url, p.timeout, phase)
	case errors.As(err, &dnsErr):
		return problemf(CodeDNSFailed, node, "%s did not resolve while following %s: %s", dnsErr.Name, p.url, dnsReason(dnsErr))
	case errors.As(err, &verErr) || errors.As(err, &recErr) || errors.As(err, &alert) ||
		errors.As(err, &opErr) && opErr.Op == "remote error":
		return problemf(CodeTLSHandshakeFailed, node, "TLS handshake with %s for %s failed: %s", node, p.host, rootCause(err))
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return problemf(CodeConnectionFailed, node, "could not connect to %s: %s", node, connReason(opErr))
	case phase == "TLS handshake" || !handshakeDone && p.url.Scheme == "https" && phase != "TCP connection":
		return problemf(CodeTLSHandshakeFailed, node, "TLS handshake with %s for %s failed: %s", node, p.host, rootCause(err))
	}
	return problemf(CodeConnectionFailed, node, "%s on %s failed while waiting for the %s: %s", p.url, node, phase, rootCause(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func connReason(err *net.OpError) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	return rootCause(err)
}

// rootCause strips the wrapping that net/http adds ("Get \"https://...\": ").
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// nodesDisagree reports when the nodes of one host present different leaf
// certificates, naming which nodes serve which.
func nodesDisagree(host string, nodes []NodeResult) *Problem {
	groups := map[string][]string{}
	var order []string
	expiry := map[string]string{}
	for _, n := range nodes {
		if n.TLS == nil {
			continue
		}
		fp := n.TLS.Leaf.SHA256
		if _, ok := groups[fp]; !ok {
			order = append(order, fp)
			expiry[fp] = n.TLS.Leaf.NotAfter.Format("2006-01-02")
		}
		groups[fp] = append(groups[fp], n.Address)
	}
	if len(order) < 2 {
		return nil
	}
	slices.SortStableFunc(order, func(a, b string) int { return len(groups[b]) - len(groups[a]) })
	parts := make([]string, len(order))
	for i, fp := range order {
		verb := "serve"
		if len(groups[fp]) == 1 {
			verb = "serves"
		}
		parts[i] = fmt.Sprintf("%s %s %s… (expires %s)", strings.Join(groups[fp], ", "), verb, fp[:12], expiry[fp])
	}
	pb := problemf(CodeNodesDisagree, "", "nodes of %s serve %d different certificates: %s", host, len(order), strings.Join(parts, "; "))
	return &pb
}
