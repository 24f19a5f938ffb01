package apply

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checkConfig is one check of the file, validated.
type checkConfig struct {
	name      string
	component string // set by resolveChecks
	line      int
	spec      checkSpec
	regions   []string // nil: the file's default regions
	interval  time.Duration
	quorum    int
	confirm   int
	quorumSet bool
	// lines maps a spec key path ("expect.body_regex") to its line, so a
	// mistake the probe engine finds is reported where it was written.
	lines map[string]int
}

// checkSpec is the JSON stored in checks.spec and carried to the probe
// workers. Field order and omitted empties keep the JSON identical when the
// same file is applied again.
type checkSpec struct {
	URL     string      `json:"url"`
	Nodes   any         `json:"nodes,omitempty"` // "all" or a list of addresses; omitted: the first DNS answer
	Expect  *expectSpec `json:"expect,omitempty"`
	TLS     *tlsSpec    `json:"tls,omitempty"`
	Timeout string      `json:"timeout,omitempty"`
	// Severity raises or lowers problem codes' severities
	// (probes.Spec.Severity); the keys are sorted in JSON, so it stays
	// identical when the same file is applied again.
	Severity map[string]string `json:"severity,omitempty"`
}

type expectSpec struct {
	Status          []any             `json:"status,omitempty"` // codes and "lo-hi" ranges
	BodyContains    []string          `json:"body_contains,omitempty"`
	BodyNotContains []string          `json:"body_not_contains,omitempty"`
	BodyRegex       string            `json:"body_regex,omitempty"`
	JSON            map[string]any    `json:"json,omitempty"`
	Headers         map[string]string `json:"headers,omitempty"`
	Image           bool              `json:"image,omitempty"`
	MaxLatency      string            `json:"max_latency,omitempty"`
}

type tlsSpec struct {
	WarnDays     int    `json:"warn_days,omitempty"`
	CriticalDays int    `json:"critical_days,omitempty"`
	Issuer       string `json:"issuer,omitempty"`
	CA           string `json:"ca,omitempty"`
	MinVersion   string `json:"min_version,omitempty"`
	// ACMEDirectory is the certificate's ACME directory, for renewal
	// information (probes.TLSSpec.ACMEDirectory).
	ACMEDirectory string `json:"acme_directory,omitempty"`
}

// Bounds of a check's timing; outside them a value is a typo or would
// hammer the target.
const (
	defaultInterval = 60 * time.Second
	minInterval     = 10 * time.Second
	maxInterval     = 24 * time.Hour
	maxTimeout      = 2 * time.Minute
	defaultTimeout  = 10 * time.Second
	defaultConfirm  = 2
	maxConfirm      = 20
	maxURLLen       = 2048
)

// interval reads a check's interval: whole seconds within the format's
// bounds. Out of them, the message states the range this service allows
// (the operator's minimum above the format's own is applied later, in its
// own words: Limits.tooFrequent).
func (r *reader) interval(n *yaml.Node, path string) (time.Duration, bool) {
	d, ok := r.durationIn(n, path, minInterval, maxInterval, r.limits.IntervalRange())
	if !ok {
		return 0, false
	}
	if d%time.Second != 0 {
		r.errorf(n, path, "%s: use whole seconds", d)
	}
	return d, true
}

var checkKeys = []string{"name", "url", "interval", "timeout", "nodes", "expect", "tls", "regions", "quorum", "confirm", "severity"}

func (r *reader) check(n *yaml.Node, path, baseDir string) checkConfig {
	c := checkConfig{line: r.resolve(n).Line, interval: defaultInterval, confirm: defaultConfirm, lines: map[string]int{}}
	has := map[string]bool{}
	var timeoutNode *yaml.Node
	ok := r.fields(n, path, checkKeys, func(key string, v *yaml.Node) {
		has[key] = true
		c.lines[key] = r.resolve(v).Line
		p := path + "." + key
		switch key {
		case "name":
			c.name = r.name(v, p)
		case "url":
			if s, ok := r.str(v, p); ok {
				c.spec.URL = s
				r.url(v, p, s)
			}
		case "interval":
			if d, ok := r.interval(v, p); ok {
				c.interval = d
			}
		case "timeout":
			timeoutNode = v
			if d, ok := r.duration(v, p, time.Second, maxTimeout); ok {
				c.spec.Timeout = durationText(d)
			}
		case "nodes":
			c.spec.Nodes = r.nodes(v, p)
		case "expect":
			c.spec.Expect = r.expect(v, p, c.lines)
		case "tls":
			c.spec.TLS = r.tls(v, p, baseDir, c.lines)
		case "severity":
			c.spec.Severity = r.severity(v, p, c.lines)
		case "regions":
			c.regions = r.regions(v, p)
		case "quorum":
			c.quorum, _ = r.integer(v, p, 0, 100)
			c.quorumSet = true
		case "confirm":
			c.confirm, _ = r.integer(v, p, 1, maxConfirm)
		}
	})
	if !ok {
		return c
	}
	r.require(n, path, has, "name", "url")
	if timeoutNode != nil && c.spec.Timeout != "" {
		if d, _ := time.ParseDuration(c.spec.Timeout); d > c.interval {
			r.errorf(r.resolve(timeoutNode), path+".timeout", "%s is longer than the interval %s", d, c.interval)
		}
	}
	return c
}

func (r *reader) url(n *yaml.Node, path, s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		r.errorf(n, path, "missing")
	case len(s) > maxURLLen:
		r.errorf(n, path, "longer than %d characters", maxURLLen)
	case err != nil:
		r.errorf(n, path, "%q is not a URL: %v", s, unwrapURLError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		r.errorf(n, path, "%q: the scheme must be http or https", s)
	case u.Hostname() == "":
		r.errorf(n, path, "%q has no host name", s)
	case u.User != nil:
		r.errorf(n, path, "%q: credentials in the URL are not supported", s)
	case u.Fragment != "":
		r.errorf(n, path, "%q: a #fragment is never sent to the server; remove it", s)
	}
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// nodes reads `all`, `first`, one address, or a list of IP or IP:port.
func (r *reader) nodes(n *yaml.Node, path string) any {
	rn := r.resolve(n)
	if rn.Kind == yaml.ScalarNode {
		switch strings.ToLower(strings.TrimSpace(rn.Value)) {
		case "all":
			return "all"
		case "first":
			return nil
		}
	}
	list := r.strList(n, path)
	seen := map[string]bool{}
	var out []string
	for i, a := range list {
		p := path
		if rn.Kind == yaml.SequenceNode {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		if !validNode(a) {
			r.errorf(nodeAt(rn, i), p, "%q is not all, first, an IP address or IP:port", a)
			continue
		}
		if seen[a] {
			r.errorf(nodeAt(rn, i), p, "address %q repeated", a)
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	if rn.Kind == yaml.SequenceNode && len(rn.Content) == 0 {
		r.errorf(rn, path, "empty: write all, first, or a list of addresses")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func validNode(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	ap, err := netip.ParseAddrPort(s)
	return err == nil && ap.Port() != 0
}

// nodeAt is the i-th item of a list, or the node itself for a scalar.
func nodeAt(n *yaml.Node, i int) *yaml.Node {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}
