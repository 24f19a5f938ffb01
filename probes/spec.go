package probes

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults applied by Run when a Spec leaves a field at its zero value.
// DefaultWarnDays and DefaultCriticalDays are the caps of the
// lifetime-scaled expiry defaults (DefaultThresholds).
const (
	DefaultTimeout      = 10 * time.Second
	DefaultBodyCap      = 1 << 20
	DefaultMaxRedirects = 5
	DefaultWarnDays     = 21
	DefaultCriticalDays = 7
	DefaultMinVersion   = "1.2"
)

// Spec is everything needed to run one check: a job carries it from the
// scheduler to a probe worker, so it is plain data that survives a JSON round
// trip. Its `tls` and `expect` fields use the keys of the configuration file
// (DESIGN §7) in both JSON and YAML. Zero values mean the documented defaults.
type Spec struct {
	// URL is the http or https URL to probe.
	URL string `json:"url" yaml:"url"`
	// Nodes chooses the addresses probed: the first DNS answer (zero value),
	// every answer ("all") or an explicit list.
	Nodes Nodes `json:"nodes,omitzero" yaml:"nodes,omitempty"`
	// TLS holds certificate expectations (`tls:` in the configuration file).
	TLS TLSSpec `json:"tls,omitzero" yaml:"tls,omitempty"`
	// Expect holds content assertions (`expect:` in the configuration file).
	Expect Expect `json:"expect,omitzero" yaml:"expect,omitempty"`
	// Timeout bounds the whole probe (default 10s): DNS, every node's
	// request with its redirects, TLS judgement and the content assertions.
	Timeout Duration `json:"timeout,omitzero" yaml:"timeout,omitempty"`
	// BodyCap is how many body bytes are read at most (default 1 MiB).
	BodyCap int64 `json:"body_cap,omitempty" yaml:"body_cap,omitempty"`
	// MaxRedirects bounds redirects followed (0: default 5, negative: none).
	MaxRedirects int `json:"max_redirects,omitempty" yaml:"max_redirects,omitempty"`
	// AllowPrivate lets this check reach private, loopback and link-local
	// addresses. The worker may also allow them globally (Options.AllowPrivate).
	AllowPrivate bool `json:"allow_private,omitempty" yaml:"allow_private,omitempty"`
	// Severity raises or lowers the severity of problem codes for this check,
	// e.g. {"cert_renewal_overdue": "critical", "latency_high": "info"}.
	Severity map[Code]Severity `json:"severity,omitempty" yaml:"severity,omitempty"`
	// PreviousIssuer is the leaf issuer (Result.Nodes[i].TLS.Leaf.Issuer) seen
	// by the previous result of this check. The scheduler fills it from
	// history; when set and different from the issuer now served, the probe
	// reports cert_issuer_changed. Not part of the configuration file.
	PreviousIssuer string `json:"previous_issuer,omitempty" yaml:"-"`
}

// TLSSpec is the `tls:` block of a check.
type TLSSpec struct {
	// WarnDays: cert_expiring (warning) when fewer days are left (default:
	// a quarter of the certificate's lifetime, at most 21; negative disables).
	WarnDays int `json:"warn_days,omitempty" yaml:"warn_days,omitempty"`
	// CriticalDays: cert_expiring becomes critical below this (default: a
	// twelfth of the lifetime, at most 7; negative disables).
	CriticalDays int `json:"critical_days,omitempty" yaml:"critical_days,omitempty"`
	// Issuer must be a case-insensitive substring of the leaf issuer's O or CN.
	Issuer string `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	// CA is PEM text of extra trusted roots. The configuration file may name
	// a file instead; callers turn it into PEM with ResolveCA before building the Spec.
	CA string `json:"ca,omitempty" yaml:"ca,omitempty"`
	// MinVersion is the lowest acceptable TLS version, "1.0" to "1.3" (default "1.2").
	MinVersion string `json:"min_version,omitempty" yaml:"min_version,omitempty"`
	// ACMEDirectory is the ACME directory URL of the certificate's CA, for
	// ACME Renewal Information (cert_renewal_due). Empty: the prober's
	// known directories (Let's Encrypt's built in).
	ACMEDirectory string `json:"acme_directory,omitempty" yaml:"acme_directory,omitempty"`
}

// Expect is the `expect:` block of a check. Every set field is an assertion.
type Expect struct {
	// Status is the accepted status codes (default 200-399).
	Status StatusSet `json:"status,omitempty" yaml:"status,omitempty"`
	// BodyContains must all occur in the body.
	BodyContains []string `json:"body_contains,omitempty" yaml:"body_contains,omitempty"`
	// BodyNotContains must none occur in the body (e.g. "maintenance").
	BodyNotContains []string `json:"body_not_contains,omitempty" yaml:"body_not_contains,omitempty"`
	// BodyRegex must match the body (Go RE2 syntax).
	BodyRegex string `json:"body_regex,omitempty" yaml:"body_regex,omitempty"`
	// JSON maps a JSONPath ("$.status") to the value some match must equal.
	JSON map[string]any `json:"json,omitempty" yaml:"json,omitempty"`
	// Headers maps a header name to its expected value, or to /regex/.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// Image requires the body to decode as PNG, JPEG, GIF or WebP.
	Image bool `json:"image,omitempty" yaml:"image,omitempty"`
	// MaxLatency: latency_high when the node's total time exceeds it.
	MaxLatency Duration `json:"max_latency,omitzero" yaml:"max_latency,omitempty"`
}

// Nodes selects which addresses of the URL's host are probed.
type Nodes struct {
	// All probes every A and AAAA answer.
	All bool
	// Addrs probes these addresses ("IP" or "IP:port") instead of DNS answers.
	Addrs []string
}

// IsZero reports whether n is the default (first DNS answer).
func (n Nodes) IsZero() bool { return !n.All && len(n.Addrs) == 0 }

// MarshalJSON writes "all", a list of addresses, or null.
func (n Nodes) MarshalJSON() ([]byte, error) {
	switch {
	case n.All:
		return []byte(`"all"`), nil
	case len(n.Addrs) > 0:
		return json.Marshal(n.Addrs)
	}
	return []byte("null"), nil
}

// UnmarshalJSON reads "all", "first", a comma-separated string or a list.
func (n *Nodes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return n.setString(s)
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("nodes: want \"all\" or a list of addresses, got %s", b)
	}
	*n = Nodes{Addrs: list}
	return nil
}

func (n *Nodes) setString(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "all":
		*n = Nodes{All: true}
	case "", "first":
		*n = Nodes{}
	default:
		*n = Nodes{Addrs: splitList(s)}
	}
	return nil
}

// MarshalYAML writes "all" or a list of addresses.
func (n Nodes) MarshalYAML() (any, error) {
	if n.All {
		return "all", nil
	}
	return n.Addrs, nil
}

// UnmarshalYAML reads `nodes: all` or `nodes: [203.0.113.7, ...]`.
func (n *Nodes) UnmarshalYAML(v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		return n.setString(v.Value)
	case yaml.SequenceNode:
		var list []string
		if err := v.Decode(&list); err != nil {
			return fmt.Errorf("line %d: nodes: %w", v.Line, err)
		}
		*n = Nodes{Addrs: list}
		return nil
	}
	return fmt.Errorf("line %d: nodes: want \"all\" or a list of addresses", v.Line)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Duration is a time.Duration written as a Go duration string ("2s", "1m30s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as "2s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("want a duration such as \"2s\" or \"500ms\": %w", err)
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", v)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON accepts a duration string and refuses bare numbers, whose
// unit would be a guess.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"2s\", got %s", b)
	}
	return d.UnmarshalText([]byte(s))
}

// UnmarshalYAML accepts a duration scalar such as 2s.
func (d *Duration) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!int" || v.Tag == "!!float" {
		return fmt.Errorf("line %d: want a duration such as 2s or 500ms, got %q", v.Line, v.Value)
	}
	if err := d.UnmarshalText([]byte(v.Value)); err != nil {
		return fmt.Errorf("line %d: %w", v.Line, err)
	}
	return nil
}

// MarshalYAML writes d as "2s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
