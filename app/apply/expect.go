package apply

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

const (
	maxLatency = 2 * time.Minute
	maxDays    = 3650
)

var expectKeys = []string{"status", "body_contains", "body_not_contains", "body_regex", "json", "headers", "image", "max_latency"}

// expect reads the `expect:` block; nil when it asserts nothing.
func (r *reader) expect(n *yaml.Node, path string, lines map[string]int) *expectSpec {
	e := &expectSpec{}
	r.fields(n, path, expectKeys, func(key string, v *yaml.Node) {
		p := path + "." + key
		lines["expect."+key] = r.resolve(v).Line
		switch key {
		case "status":
			e.Status = r.status(v, p)
		case "body_contains":
			e.BodyContains = r.needles(v, p)
		case "body_not_contains":
			e.BodyNotContains = r.needles(v, p)
		case "body_regex":
			if s, ok := r.str(v, p); ok {
				e.BodyRegex = s
				if _, err := regexp.Compile(s); err != nil {
					r.errorf(v, p, "%v", err)
				}
			}
		case "json":
			e.JSON = r.jsonPaths(v, p)
		case "headers":
			e.Headers = r.headers(v, p)
		case "image":
			e.Image, _ = r.boolean(v, p)
		case "max_latency":
			if d, ok := r.duration(v, p, time.Millisecond, maxLatency); ok {
				e.MaxLatency = durationText(d)
			}
		}
	})
	if e.Status == nil && e.BodyContains == nil && e.BodyNotContains == nil && e.BodyRegex == "" &&
		e.JSON == nil && e.Headers == nil && !e.Image && e.MaxLatency == "" {
		return nil
	}
	return e
}

// status reads `200`, `"200-299,304"` or a list of codes and ranges.
func (r *reader) status(n *yaml.Node, path string) []any {
	rn := r.resolve(n)
	var parts []*yaml.Node
	if rn.Kind == yaml.SequenceNode {
		parts = rn.Content
	} else {
		parts = []*yaml.Node{rn}
	}
	var out []any
	for _, part := range parts {
		part = r.resolve(part)
		if part.Kind != yaml.ScalarNode || isNull(part) {
			r.errorf(part, path, "want a status code such as 200 or a range such as 200-299, got %s", kindName(part))
			continue
		}
		for _, s := range strings.Split(part.Value, ",") {
			v, err := statusItem(strings.TrimSpace(s))
			if err != nil {
				r.errorf(part, path, "%v", err)
				continue
			}
			out = append(out, v)
		}
	}
	if len(out) == 0 && len(parts) == 0 {
		r.errorf(rn, path, "empty: leave it out for the default 200-399")
	}
	return out
}

// statusItem returns a code as an int and a range as "lo-hi".
func statusItem(s string) (any, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := statusCode(lo)
	if err != nil || !isRange {
		return a, err
	}
	b, err := statusCode(hi)
	if err != nil {
		return nil, err
	}
	if b < a {
		return nil, fmt.Errorf("status range %q runs backwards", s)
	}
	if a == b {
		return a, nil
	}
	return fmt.Sprintf("%d-%d", a, b), nil
}

func statusCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("%q is not an HTTP status code (100 to 599)", s)
	}
	return n, nil
}

func (r *reader) needles(n *yaml.Node, path string) []string {
	list := r.strList(n, path)
	for _, s := range list {
		if s == "" {
			r.errorf(r.resolve(n), path, "an empty text matches every body")
		}
	}
	return list
}

// jsonPaths reads `json: {"$.status": "ok"}`.
func (r *reader) jsonPaths(n *yaml.Node, path string) map[string]any {
	rn := r.resolve(n)
	if rn.Kind != yaml.MappingNode {
		r.errorf(rn, path, "want a mapping of JSON paths to values, e.g. {\"$.status\": \"ok\"}, got %s", kindName(rn))
		return nil
	}
	out := map[string]any{}
	for i := 0; i+1 < len(rn.Content); i += 2 {
		k := r.resolve(rn.Content[i])
		key := strings.TrimSpace(k.Value)
		switch {
		case k.Kind != yaml.ScalarNode || !strings.HasPrefix(key, "$"):
			r.errorf(k, path, "%s is not a JSON path: it must start with $ (e.g. $.status)", kindName(k))
			continue
		}
		if _, dup := out[key]; dup {
			r.errorf(k, path, "JSON path %q repeated", key)
			continue
		}
		if v, ok := r.value(rn.Content[i+1], path+"."+key); ok {
			out[key] = v
		}
	}
	return out
}

// headers reads `headers: {Content-Type: image/png, Server: /nginx/}`.
func (r *reader) headers(n *yaml.Node, path string) map[string]string {
	rn := r.resolve(n)
	if rn.Kind != yaml.MappingNode {
		r.errorf(rn, path, "want a mapping of header names to values, got %s", kindName(rn))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(rn.Content); i += 2 {
		k := r.resolve(rn.Content[i])
		if k.Kind != yaml.ScalarNode || !headerName.MatchString(k.Value) {
			r.errorf(k, path, "%s is not a header name", kindName(k))
			continue
		}
		v, ok := r.str(rn.Content[i+1], path+"."+k.Value)
		if !ok {
			continue
		}
		if len(v) >= 2 && strings.HasPrefix(v, "/") && strings.HasSuffix(v, "/") {
			if _, err := regexp.Compile(v[1 : len(v)-1]); err != nil {
				r.errorf(rn.Content[i+1], path+"."+k.Value, "%v", err)
			}
		}
		out[k.Value] = v
	}
	return out
}

var tlsKeys = []string{"warn_days", "critical_days", "issuer", "ca", "min_version", "acme_directory"}

// tls reads the `tls:` block; nil when it sets nothing.
func (r *reader) tls(n *yaml.Node, path, baseDir string, lines map[string]int) *tlsSpec {
	t := &tlsSpec{}
	var criticalNode *yaml.Node
	r.fields(n, path, tlsKeys, func(key string, v *yaml.Node) {
		p := path + "." + key
		lines["tls."+key] = r.resolve(v).Line
		switch key {
		case "warn_days":
			t.WarnDays, _ = r.integer(v, p, 1, maxDays)
		case "critical_days":
			criticalNode = v
			t.CriticalDays, _ = r.integer(v, p, 1, maxDays)
		case "issuer":
			if s, ok := r.str(v, p); ok {
				t.Issuer = s
				if s == "" {
					r.errorf(v, p, "empty: leave it out to accept any trusted issuer")
				}
			}
		case "ca":
			if s, ok := r.str(v, p); ok {
				t.CA = r.ca(v, p, s, baseDir)
			}
		case "acme_directory":
			if s, ok := r.str(v, p); ok {
				u, err := url.Parse(s)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					r.errorf(v, p, "%q is not an http(s) URL of an ACME directory", s)
				}
				t.ACMEDirectory = s
			}
		case "min_version":
			if s, ok := r.str(v, p); ok {
				t.MinVersion = tlsVersion(s)
				if t.MinVersion == "" {
					r.errorf(v, p, "%q is not a TLS version (1.0, 1.1, 1.2 or 1.3)", s)
				}
			}
		}
	})
	warn := t.WarnDays
	if warn == 0 {
		warn = 21 // the probe engine's default
	}
	if criticalNode != nil && t.CriticalDays > warn {
		r.errorf(r.resolve(criticalNode), path+".critical_days", "%d is more than warn_days %d", t.CriticalDays, warn)
	}
	if *t == (tlsSpec{}) {
		return nil
	}
	return t
}

// tlsVersion normalises "1.2", "TLS 1.2" or "TLSv1.2" to "1.2"; "" if unknown.
func tlsVersion(s string) string {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimLeft(strings.TrimPrefix(v, "tls"), " v")
	switch v {
	case "1", "1.0":
		return "1.0"
	case "1.1", "1.2", "1.3":
		return v
	}
	return ""
}

// ca returns the PEM roots of `tls.ca`: PEM text as written, or (from the
// command line only) the content of the file it names.
func (r *reader) ca(n *yaml.Node, path, value, baseDir string) string {
	pemText := value
	if !strings.Contains(value, "-----BEGIN") {
		if baseDir == "" {
			r.errorf(n, path, "paste the PEM certificate text; a file name is read only by `pharos apply -f`")
			return ""
		}
		file := value
		if !filepath.IsAbs(file) {
			file = filepath.Join(baseDir, file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			r.errorf(n, path, "read CA file: %v", err)
			return ""
		}
		pemText = string(b)
	}
	rest, found := []byte(pemText), 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			r.errorf(n, path, "bad certificate: %v", err)
			return ""
		}
		found++
	}
	if found == 0 {
		r.errorf(n, path, "no PEM certificate found")
		return ""
	}
	return strings.TrimSpace(pemText) + "\n"
}
