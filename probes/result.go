package probes

import (
	"fmt"
	"time"
)

// Code names a problem (DESIGN §6). Codes are a contract: scripts match on them.
type Code string

// Problem codes of DESIGN §6.
const (
	CodeDNSFailed            Code = "dns_failed"
	CodeConnectionFailed     Code = "connection_failed"
	CodeTimeout              Code = "timeout"
	CodeBlockedAddress       Code = "blocked_address"
	CodeTLSHandshakeFailed   Code = "tls_handshake_failed"
	CodeTLSVersionLow        Code = "tls_version_low"
	CodeCertExpired          Code = "cert_expired"
	CodeCertNotYetValid      Code = "cert_not_yet_valid"
	CodeCertExpiring         Code = "cert_expiring"
	CodeCertRenewalOverdue   Code = "cert_renewal_overdue"
	CodeCertUntrusted        Code = "cert_untrusted"
	CodeCertChainIncomplete  Code = "cert_chain_incomplete"
	CodeCertHostnameMismatch Code = "cert_hostname_mismatch"
	CodeCertIssuerUnexpected Code = "cert_issuer_unexpected"
	CodeCertIssuerChanged    Code = "cert_issuer_changed"
	CodeNodesDisagree        Code = "nodes_disagree"
	CodeStatusUnexpected     Code = "status_unexpected"
	CodeBodyMismatch         Code = "body_mismatch"
	CodeJSONMismatch         Code = "json_mismatch"
	CodeHeaderMismatch       Code = "header_mismatch"
	CodeImageInvalid         Code = "image_invalid"
	CodeLatencyHigh          Code = "latency_high"
	CodeCertRevoked          Code = "cert_revoked"
	CodeCertRenewalDue       Code = "cert_renewal_due"
)

// Codes lists every problem code, in DESIGN §6 order.
func Codes() []Code {
	return []Code{
		CodeDNSFailed, CodeConnectionFailed, CodeTimeout, CodeBlockedAddress,
		CodeTLSHandshakeFailed, CodeTLSVersionLow, CodeCertExpired, CodeCertNotYetValid,
		CodeCertExpiring, CodeCertRenewalOverdue, CodeCertUntrusted, CodeCertChainIncomplete,
		CodeCertHostnameMismatch, CodeCertIssuerUnexpected, CodeCertIssuerChanged,
		CodeNodesDisagree, CodeStatusUnexpected, CodeBodyMismatch, CodeJSONMismatch,
		CodeHeaderMismatch, CodeImageInvalid, CodeLatencyHigh, CodeCertRevoked,
		CodeCertRenewalDue,
	}
}

// DefaultSeverity is the severity DESIGN §6 gives code. cert_expiring is a
// warning here; the probe raises it to critical under the critical-days threshold.
func DefaultSeverity(c Code) Severity {
	switch c {
	case CodeTLSVersionLow, CodeCertExpiring, CodeCertRenewalOverdue, CodeCertRenewalDue,
		CodeCertIssuerChanged, CodeNodesDisagree, CodeLatencyHigh:
		return SeverityWarning
	}
	return SeverityCritical
}

// Severity says how much a problem matters.
type Severity string

// Severities. Info problems are reported but do not change the state.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// State is the verdict on a node or a whole probe.
type State string

// States of a probe result. StateUnknown is only used when the spec itself
// is invalid and nothing was probed.
const (
	StateUp       State = "up"
	StateDegraded State = "degraded"
	StateDown     State = "down"
	StateUnknown  State = "unknown"
)

// Problem is one finding, written for a human on call.
type Problem struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	// Node is the address the problem was seen on, empty for whole-host problems.
	Node    string `json:"node"`
	Message string `json:"message"`
}

// Result is the outcome of one probe; its JSON is DESIGN §6 `pharos check --json`.
type Result struct {
	URL        string       `json:"url"`
	State      State        `json:"state"`
	CheckedAt  time.Time    `json:"checked_at"`
	DurationMS int64        `json:"duration_ms"`
	Problems   []Problem    `json:"problems"`
	Nodes      []NodeResult `json:"nodes"`
	// Error explains StateUnknown (an invalid spec); empty otherwise.
	Error string `json:"error,omitempty"`
}

// NodeResult is what one node answered.
type NodeResult struct {
	Address    string   `json:"address"`
	State      State    `json:"state"`
	StatusCode int      `json:"status_code"`
	Timings    Timings  `json:"timings_ms"`
	TLS        *TLSInfo `json:"tls,omitempty"`
	// FinalURL is the URL of the last response when redirects were followed.
	FinalURL string    `json:"final_url,omitempty"`
	Problems []Problem `json:"problems"`
	// Error says, for a human, what stopped the node's probe before a
	// complete HTTP answer (DNS, connection, TLS handshake, timeout, the
	// request or its body); empty when the node answered. It is the
	// message of the problem that names the failure, so it holds nothing
	// the problems do not.
	Error string `json:"error,omitempty"`
}

// Timings are milliseconds from the start of the node's probe; zero when a
// phase did not happen (no DNS for an explicit address, no TLS for http).
type Timings struct {
	DNS     int64 `json:"dns"`
	Connect int64 `json:"connect"`
	TLS     int64 `json:"tls"`
	TTFB    int64 `json:"ttfb"`
	Total   int64 `json:"total"`
}

// TLSInfo describes the TLS session and certificates a node presented.
type TLSInfo struct {
	Version string `json:"version"`
	Cipher  string `json:"cipher"`
	// ChainTrusted is true when the chain as presented verifies to a trusted
	// root; false when it does not, or only with intermediates fetched via AIA.
	ChainTrusted bool     `json:"chain_trusted"`
	Leaf         CertInfo `json:"leaf"`
	// Chain lists the issuers above the leaf, in order, up to the root when
	// the chain verified.
	Chain []CertInfo `json:"chain"`
}

// CertInfo summarises one certificate.
type CertInfo struct {
	Subject  string   `json:"subject"`
	Issuer   string   `json:"issuer"`
	Serial   string   `json:"serial"`
	SHA256   string   `json:"sha256"`
	DNSNames []string `json:"dns_names"`
	// IPs are the certificate's IP address SANs (JSON ip_addresses).
	IPs       []string  `json:"ip_addresses,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	DaysLeft  int       `json:"days_left"`
	// Source says where the certificate came from: "presented" by the
	// server, "fetched" via AIA, or "root" from the trust store.
	Source string `json:"source,omitempty"`
}

// Worst returns the state problems call for: down on any critical problem,
// degraded on any warning, up otherwise.
func Worst(problems []Problem) State {
	s := StateUp
	for _, p := range problems {
		switch p.Severity {
		case SeverityCritical:
			return StateDown
		case SeverityWarning:
			s = StateDegraded
		}
	}
	return s
}

// ExitCode maps a state to the monitoring-plugin exit status of DESIGN §6.
func (s State) ExitCode() int {
	switch s {
	case StateUp:
		return 0
	case StateDegraded:
		return 1
	case StateDown:
		return 2
	}
	return 3
}

func problemf(code Code, node, format string, args ...any) Problem {
	return Problem{Code: code, Severity: DefaultSeverity(code), Node: node, Message: fmt.Sprintf(format, args...)}
}
