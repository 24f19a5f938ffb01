package probes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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

// assert runs every content assertion of p against r. The same response
// always yields the same problems, unless the probe's deadline (ctx)
// passes first: then the assertions stop where they are and a timeout
// problem says so, next to the problems already found.
func (p *plan) assert(ctx context.Context, node string, r *response) []Problem {
	e := p.spec.Expect
	var out []Problem
	add := func(code Code, format string, args ...any) {
		out = append(out, problemf(code, node, format, args...))
	}
	timedOut := func(what string) []Problem {
		return append(out, problemf(CodeTimeout, node, "%s on %s: the %s did not finish within the %s timeout",
			r.url, node, what, p.timeout))
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
		if ctx.Err() != nil {
			return timedOut("body assertions")
		}
		if !bytes.Contains(r.body, []byte(s)) {
			add(CodeBodyMismatch, "body of %s on %s does not contain %q%s", r.url, node, s, capNote)
		}
	}
	for _, s := range e.BodyNotContains {
		if ctx.Err() != nil {
			return timedOut("body assertions")
		}
		if i := bytes.Index(r.body, []byte(s)); i >= 0 && s != "" {
			add(CodeBodyMismatch, "body of %s on %s contains %q at byte %d: %q", r.url, node, s, i, bodyExcerpt(r.body, i, len(s)))
		}
	}
	if p.bodyRe != nil {
		ok, err := matchBody(ctx, p.bodyRe, r.body[:min(int64(len(r.body)), p.bodyCap)])
		if err != nil {
			return timedOut("body regex")
		}
		if !ok {
			add(CodeBodyMismatch, "body of %s on %s does not match /%s/%s", r.url, node, p.bodyRe, capNote)
		}
	}
	if len(p.jsonChecks) > 0 {
		problems, err := p.assertJSON(ctx, node, r, capNote)
		out = append(out, problems...)
		if err != nil {
			return timedOut("JSON assertions")
		}
	}
	for _, hc := range p.headerChecks {
		msg, err := hc.check(ctx, r.header)
		if err != nil {
			return timedOut("header assertions")
		}
		if msg != "" {
			add(CodeHeaderMismatch, "%s on %s: %s", r.url, node, msg)
		}
	}
	if e.Image {
		if ctx.Err() != nil {
			return timedOut("image check")
		}
		if err := checkImage(r.body, r.header.Get("Content-Type")); err != nil {
			add(CodeImageInvalid, "%s on %s is not a valid image: %v%s", r.url, node, err, capNote)
		}
	}
	if max := e.MaxLatency.D(); max > 0 && r.total > max {
		add(CodeLatencyHigh, "%s on %s answered in %s, slower than %s", r.url, node, r.total.Round(time.Millisecond), max)
	}
	return out
}

// check returns what is wrong with the header, or "". A /regex/ runs like
// the body regex, under the probe's deadline (ctx's error when it passed).
func (hc headerCheck) check(ctx context.Context, h http.Header) (string, error) {
	values := h.Values(hc.name)
	if len(values) == 0 {
		return fmt.Sprintf("header %s is missing, expected %q", http.CanonicalHeaderKey(hc.name), hc.want), nil
	}
	for _, v := range values {
		if hc.re == nil && strings.TrimSpace(v) == hc.want {
			return "", nil
		}
		if hc.re == nil {
			continue
		}
		ok, err := matchBody(ctx, hc.re, []byte(v))
		if ok || err != nil {
			return "", err
		}
	}
	name := http.CanonicalHeaderKey(hc.name)
	if sensitiveHeader(name) {
		return fmt.Sprintf("header %s does not match, expected %q (%s not quoted: it may carry credentials)",
			name, hc.want, plural(len(values), "value")), nil
	}
	return fmt.Sprintf("header %s is %q, expected %q", name, shortExcerpt(strings.Join(values, ", ")), hc.want), nil
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
