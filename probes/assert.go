package probes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ohler55/ojg/oj"
)

// response is what the content assertions look at.
type response struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool // the body was longer than the cap
	total     time.Duration
	url       string
}

// assert runs every content assertion of p against r. It is pure: the same
// response always yields the same problems.
func (p *plan) assert(node string, r *response) []Problem {
	e := p.spec.Expect
	var out []Problem
	add := func(code Code, format string, args ...any) {
		out = append(out, problemf(code, node, format, args...))
	}
	capNote := ""
	if r.truncated {
		capNote = fmt.Sprintf(" (only the first %s of the body were read)", formatBytes(p.bodyCap))
	}
	if !e.Status.Contains(r.status) {
		add(CodeStatusUnexpected, "%s answered %d %s on %s, expected %s",
			r.url, r.status, http.StatusText(r.status), node, e.Status)
	}
	for _, s := range e.BodyContains {
		if !bytes.Contains(r.body, []byte(s)) {
			add(CodeBodyMismatch, "body of %s on %s does not contain %q%s", r.url, node, s, capNote)
		}
	}
	for _, s := range e.BodyNotContains {
		if i := bytes.Index(r.body, []byte(s)); i >= 0 && s != "" {
			add(CodeBodyMismatch, "body of %s on %s contains %q: %q", r.url, node, s, excerpt(r.body, i, len(s)))
		}
	}
	if p.bodyRe != nil && !p.bodyRe.Match(r.body) {
		add(CodeBodyMismatch, "body of %s on %s does not match /%s/%s", r.url, node, p.bodyRe, capNote)
	}
	if len(p.jsonChecks) > 0 {
		out = append(out, p.assertJSON(node, r, capNote)...)
	}
	for _, hc := range p.headerChecks {
		if msg := hc.check(r.header); msg != "" {
			add(CodeHeaderMismatch, "%s on %s: %s", r.url, node, msg)
		}
	}
	if e.Image {
		if err := checkImage(r.body, r.header.Get("Content-Type")); err != nil {
			add(CodeImageInvalid, "%s on %s is not a valid image: %v%s", r.url, node, err, capNote)
		}
	}
	if max := e.MaxLatency.D(); max > 0 && r.total > max {
		add(CodeLatencyHigh, "%s on %s answered in %s, slower than %s", r.url, node, r.total.Round(time.Millisecond), max)
	}
	return out
}

func (p *plan) assertJSON(node string, r *response, capNote string) []Problem {
	data, err := oj.Parse(r.body)
	if err != nil {
		return []Problem{problemf(CodeJSONMismatch, node, "body of %s on %s is not JSON (%s): %v%s",
			r.url, node, r.header.Get("Content-Type"), err, capNote)}
	}
	var out []Problem
	for _, jc := range p.jsonChecks {
		got := jc.expr.Get(data)
		switch {
		case len(got) == 0:
			out = append(out, problemf(CodeJSONMismatch, node, "%s on %s: %s not found in the JSON body, expected %s",
				r.url, node, jc.path, jsonText(jc.want)))
		case !slices.ContainsFunc(got, func(v any) bool { return JSONEqual(v, jc.want) }):
			out = append(out, problemf(CodeJSONMismatch, node, "%s on %s: %s is %s, expected %s",
				r.url, node, jc.path, jsonText(got[0]), jsonText(jc.want)))
		}
	}
	return out
}

// JSONEqual compares a value found in a JSON body with an expected value
// from a spec. Numbers compare numerically whatever their Go type, and an
// expected string also matches the JSON text of a scalar (so the CLI's
// --json-path '$.count=3' matches 3 and "3").
func JSONEqual(got, want any) bool {
	if g, ok := toFloat(got); ok {
		if w, ok := toFloat(want); ok {
			return g == w
		}
	}
	if ws, ok := want.(string); ok {
		if gs, ok := got.(string); ok {
			return gs == ws
		}
		switch got.(type) {
		case bool, nil, int64, float64, int:
			return jsonText(got) == ws
		}
		return false
	}
	return jsonText(got) == jsonText(want)
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, !math.IsNaN(v)
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 120 {
		return string(b[:117]) + "..."
	}
	return string(b)
}

func (hc headerCheck) check(h http.Header) string {
	values := h.Values(hc.name)
	if len(values) == 0 {
		return fmt.Sprintf("header %s is missing, expected %q", http.CanonicalHeaderKey(hc.name), hc.want)
	}
	for _, v := range values {
		if hc.re != nil && hc.re.MatchString(v) || hc.re == nil && strings.TrimSpace(v) == hc.want {
			return ""
		}
	}
	return fmt.Sprintf("header %s is %q, expected %q", http.CanonicalHeaderKey(hc.name), strings.Join(values, ", "), hc.want)
}

// ParseJSONAssertion splits the CLI's --json-path 'PATH=VALUE'. VALUE is
// read as JSON when it is valid JSON (3, true, "ok", null) and as a plain
// string otherwise. The split is at the first '=' outside brackets so that
// filter expressions such as $.a[?(@.b=='x')] keep their '='.
func ParseJSONAssertion(s string) (path string, want any, err error) {
	depth, cut := 0, -1
	for i, r := range s {
		switch r {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
		case '=':
			if depth == 0 && cut < 0 {
				cut = i
			}
		}
	}
	if cut <= 0 {
		return "", nil, fmt.Errorf("json path assertion %q: want PATH=VALUE", s)
	}
	path, raw := strings.TrimSpace(s[:cut]), s[cut+1:]
	if _, err := ParseJSONPath(path); err != nil {
		return "", nil, err
	}
	if err := json.Unmarshal([]byte(raw), &want); err != nil || !utf8.ValidString(raw) {
		want = raw
	}
	return path, want, nil
}

// excerpt returns up to 40 bytes around body[i:i+n], for messages.
func excerpt(body []byte, i, n int) string {
	lo, hi := max(0, i-40), min(len(body), i+n+40)
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(body[lo:hi], nil))), " ")
	if lo > 0 {
		s = "…" + s
	}
	if hi < len(body) {
		s += "…"
	}
	return s
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func sortChecks(js []jsonCheck, hs []headerCheck) {
	slices.SortFunc(js, func(a, b jsonCheck) int { return strings.Compare(a.path, b.path) })
	slices.SortFunc(hs, func(a, b headerCheck) int { return strings.Compare(a.name, b.name) })
}
