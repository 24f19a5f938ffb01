package probes

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ohler55/ojg/jp"
)

// FieldError is one invalid field of a Spec; Field uses the configuration
// file's key path, e.g. "expect.body_regex" or "tls.min_version".
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// ValidationError lists everything wrong with a Spec, so a configuration
// file can be refused as a whole with every mistake named at once.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Error()
	}
	return "invalid check: " + strings.Join(msgs, "; ")
}

// plan is a validated Spec with defaults applied and everything compiled.
type plan struct {
	spec         Spec
	url          *url.URL
	host         string // without port, as used for SNI and certificate names
	port         string
	timeout      time.Duration
	bodyCap      int64
	maxRedirects int
	warnDays     int
	criticalDays int
	minVersion   uint16
	extraRoots   *x509.CertPool
	nodes        []netip.AddrPort
	bodyRe       *regexp.Regexp
	jsonChecks   []jsonCheck
	headerChecks []headerCheck
}

type jsonCheck struct {
	path string
	expr jp.Expr
	want any
}

type headerCheck struct {
	name string
	want string
	re   *regexp.Regexp
}

// Validate checks s the way Run will read it and returns a *ValidationError
// naming every bad field, or nil. `pharos apply` calls it on each check
// before writing anything.
func (s Spec) Validate() error {
	_, err := s.compile(nil)
	return err
}

// compile checks s and prepares it for a probe, taking private CAs' pools
// from cas (nil: parse them).
func (s Spec) compile(cas *caPools) (*plan, error) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	p := &plan{
		spec:         s,
		timeout:      orDefault(s.Timeout.D(), DefaultTimeout),
		bodyCap:      orDefault(s.BodyCap, DefaultBodyCap),
		maxRedirects: orDefault(s.MaxRedirects, DefaultMaxRedirects),
		warnDays:     orDefault(s.TLS.WarnDays, DefaultWarnDays),
		criticalDays: orDefault(s.TLS.CriticalDays, DefaultCriticalDays),
	}
	p.compileURL(bad)
	if s.BodyCap < 0 {
		bad("body_cap", "must not be negative")
	}
	if p.warnDays > 0 && p.criticalDays > p.warnDays {
		bad("tls.critical_days", "%d is more than warn_days %d", p.criticalDays, p.warnDays)
	}
	v, err := ParseTLSVersion(orDefault(s.TLS.MinVersion, DefaultMinVersion))
	if err != nil {
		bad("tls.min_version", "%v", err)
	}
	p.minVersion = v
	if d := s.TLS.ACMEDirectory; d != "" {
		if u, err := url.Parse(d); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			bad("tls.acme_directory", "%q is not an http or https URL", d)
		}
	}
	if s.TLS.CA != "" {
		var ok bool
		if p.extraRoots, ok = cas.pool(s.TLS.CA); !ok {
			bad("tls.ca", "no PEM certificate found")
		}
	}
	for i, a := range s.Nodes.Addrs {
		ap, err := ParseNode(a, p.port)
		if err != nil {
			bad(fmt.Sprintf("nodes[%d]", i), "%v", err)
		}
		p.nodes = append(p.nodes, ap)
	}
	p.compileExpect(bad)
	for code, sev := range s.Severity {
		if !knownCode(code) {
			bad("severity", "unknown problem code %q", code)
		}
		switch sev {
		case SeverityCritical, SeverityWarning, SeverityInfo:
		default:
			bad("severity."+string(code), "unknown severity %q (critical, warning or info)", sev)
		}
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Errors: errs}
	}
	return p, nil
}

func (p *plan) compileURL(bad func(string, string, ...any)) {
	u, err := url.Parse(p.spec.URL)
	switch {
	case p.spec.URL == "":
		bad("url", "missing")
		return
	case err != nil:
		bad("url", "%v", err)
		return
	case u.Scheme != "http" && u.Scheme != "https":
		bad("url", "%q: scheme must be http or https", p.spec.URL)
		return
	case u.Hostname() == "":
		bad("url", "%q has no host", p.spec.URL)
		return
	case u.User != nil:
		bad("url", "credentials in the URL are not supported")
		return
	}
	p.url, p.host, p.port = u, u.Hostname(), u.Port()
	if p.port == "" {
		p.port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
}

func (p *plan) compileExpect(bad func(string, string, ...any)) {
	e := p.spec.Expect
	for _, r := range e.Status {
		if r.Lo < 100 || r.Hi > 599 || r.Hi < r.Lo {
			bad("expect.status", "%s is not a valid status range", r)
		}
	}
	if e.BodyRegex != "" {
		re, err := regexp.Compile(e.BodyRegex)
		if err != nil {
			bad("expect.body_regex", "%v", err)
		}
		p.bodyRe = re
	}
	for path, want := range e.JSON {
		expr, err := ParseJSONPath(path)
		if err != nil {
			bad("expect.json", "%v", err)
			continue
		}
		p.jsonChecks = append(p.jsonChecks, jsonCheck{path, expr, want})
	}
	for name, want := range e.Headers {
		hc := headerCheck{name: name, want: want}
		if pat, ok := regexBetweenSlashes(want); ok {
			re, err := regexp.Compile(pat)
			if err != nil {
				bad("expect.headers."+name, "%v", err)
			}
			hc.re = re
		}
		p.headerChecks = append(p.headerChecks, hc)
	}
	sortChecks(p.jsonChecks, p.headerChecks)
}

func regexBetweenSlashes(s string) (string, bool) {
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		return s[1 : len(s)-1], true
	}
	return "", false
}

// ParseJSONPath parses a JSONPath expression such as "$.status" or
// "$.components[0].state", as expect.json keys and --json-path use.
func ParseJSONPath(path string) (expr jp.Expr, err error) {
	if strings.TrimSpace(path) == "" {
		return nil, fmt.Errorf("empty JSON path")
	}
	defer func() {
		if r := recover(); r != nil {
			expr, err = nil, fmt.Errorf("JSON path %q: %v", path, r)
		}
	}()
	expr, err = jp.ParseString(path)
	if err != nil {
		return nil, fmt.Errorf("JSON path %q: %w", path, err)
	}
	return expr, nil
}

// ParseNode parses a node address, "IP" or "IP:port" ("[v6]:port" for
// IPv6), using defaultPort when none is given.
func ParseNode(s, defaultPort string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		if h, _, herr := net.SplitHostPort(s); herr == nil {
			s = h
		}
		return netip.AddrPort{}, fmt.Errorf("node %q is not an IP address or IP:port", s)
	}
	return netip.ParseAddrPort(net.JoinHostPort(ip.String(), defaultPort))
}

// ParseTLSVersion reads "1.2", "TLS 1.2", "TLSv1.2" and the like.
func ParseTLSVersion(s string) (uint16, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimLeft(strings.TrimPrefix(v, "tls"), " v")
	switch v {
	case "1.0", "1":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unknown TLS version %q (want 1.0, 1.1, 1.2 or 1.3)", s)
}

// ResolveCA turns the configuration file's `tls.ca` value into PEM text: a
// value holding PEM is returned as is, anything else is read as a file
// path, relative to baseDir when not absolute.
func ResolveCA(value, baseDir string) (string, error) {
	if strings.Contains(value, "-----BEGIN") {
		return value, nil
	}
	path := value
	if !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("tls.ca: %w", err)
	}
	if blk, _ := pem.Decode(b); blk == nil {
		return "", fmt.Errorf("tls.ca: %s holds no PEM certificate", path)
	}
	return string(b), nil
}

func knownCode(c Code) bool {
	for _, k := range Codes() {
		if k == c {
			return true
		}
	}
	return false
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
