package apply

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// One page, component group, component or check at a time, for the
// console's forms. A form's fields are named after the configuration
// file's keys ("url", "expect.status", "tls.warn_days"); they are built
// into the YAML node a file would hold and read by the same reader, so the
// browser and `pharos apply` accept and refuse exactly the same values, in
// the same words.

// Fields are a form's values, by configuration key. An empty value is a
// key left out of the file.
type Fields map[string]string

// The keys each form has, in the order the forms show them. Lists
// (regions, nodes) are written one item per line or separated by commas
// or spaces; body texts one per line; expect.json as lines of
// "$.path = value" and expect.headers as lines of "Name: value".
var (
	PageKeys      = []string{"slug", "title", "domain", "timezone", "auto_incidents", "public_detail", "regions"}
	GroupKeys     = []string{"name", "position"}
	ComponentKeys = []string{"name", "description", "group", "position"}
	CheckKeys     = []string{"component", "name", "url", "interval", "timeout", "regions", "quorum", "confirm", "nodes",
		"expect.status", "expect.body_contains", "expect.body_not_contains", "expect.body_regex", "expect.json",
		"expect.headers", "expect.image", "expect.max_latency",
		"tls.warn_days", "tls.critical_days", "tls.issuer", "tls.ca", "tls.min_version", "tls.acme_directory"}
)

// maxPosition bounds a component's or group's position.
const maxPosition = 10000

// FormError returns the mistakes of a form the console must show next to
// their fields (Path is the field's key, Line is 0), or nil when err is
// something else.
func FormError(err error) []FieldError {
	var ve *ValidationError
	if errors.As(err, &ve) && ve.File == formFile {
		return ve.Errors
	}
	return nil
}

// formFile names a form in a ValidationError.
const formFile = "form"

// formErrors turns the reader's mistakes into a form's: each path
// ("check.expect.json.$.x", "check.nodes[1]") becomes the key of the
// field it is about ("expect.json", "nodes").
func formErrors(errs errorList, prefix string, keys []string) error {
	if len(errs) == 0 {
		return nil
	}
	out := make([]FieldError, 0, len(errs))
	for _, e := range errs {
		out = append(out, FieldError{Path: fieldOf(e.Path, prefix, keys), Message: e.Message})
	}
	return &ValidationError{File: formFile, Errors: out}
}

// fieldOf finds the form key a reader path is about: the longest key the
// path starts with, or "" (a mistake about the form as a whole).
func fieldOf(path, prefix string, keys []string) string {
	path = strings.TrimPrefix(strings.TrimPrefix(path, prefix), ".")
	best := ""
	for _, k := range keys {
		if (path == k || strings.HasPrefix(path, k+".") || strings.HasPrefix(path, k+"[")) && len(k) > len(best) {
			best = k
		}
	}
	return best
}

func formError(key, format string, args ...any) error {
	return &ValidationError{File: formFile, Errors: []FieldError{{Path: key, Message: fmt.Sprintf(format, args...)}}}
}

// node builds the YAML of a form, key by key.
type node struct {
	n    *yaml.Node
	errs errorList // values that are not even YAML (expect.json)
}

func newNode() *node { return &node{n: &yaml.Node{Kind: yaml.MappingNode}} }

func (b *node) set(key string, v *yaml.Node) {
	b.n.Content = append(b.n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// text sets key to v as a quoted YAML string would.
func (b *node) text(key, v string) {
	if v = strings.TrimSpace(v); v != "" {
		b.set(key, textNode(v))
	}
}

// plain sets key to v as an unquoted YAML value would read: "30" is a
// number (refused where a duration is wanted, as in a file), "30s" text.
func (b *node) plain(key, v string) {
	if v = strings.TrimSpace(v); v != "" {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: v}
		n.Tag = n.ShortTag()
		b.set(key, n)
	}
}

// list sets key to the items of v (split by sep, or by commas and white
// space when sep is ""); one item stays a single value, as a file may
// write it.
func (b *node) list(key, v string, sep string) {
	var items []string
	if sep == "" {
		items = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	} else {
		for _, s := range strings.Split(v, sep) {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
	}
	if len(items) == 0 {
		return
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range items {
		seq.Content = append(seq.Content, textNode(s))
	}
	b.set(key, seq)
}

// pairs sets key to a mapping read from lines of "KEY<sep>VALUE"; with
// typed, values are read as YAML values (3, true, "3"), else as text.
func (b *node) pairs(key, v, sep string, typed bool) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, line := range strings.Split(v, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, " "+strings.TrimSpace(sep)+" ")
		if !ok {
			k, val, ok = strings.Cut(line, strings.TrimSpace(sep))
		}
		if !ok {
			b.errs.add(0, key, "%q: write each line as KEY%sVALUE", line, sep)
			continue
		}
		vn := textNode(strings.TrimSpace(val))
		if typed {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(val), &doc); err != nil || len(doc.Content) != 1 {
				b.errs.add(0, key, "%q is not a value (write text, a number, true or false, or \"quoted text\")", strings.TrimSpace(val))
				continue
			}
			vn = doc.Content[0]
		}
		m.Content = append(m.Content, textNode(strings.TrimSpace(k)), vn)
	}
	if len(m.Content) > 0 {
		b.set(key, m)
	}
}

func (b *node) sub(key string, fill func(*node)) {
	s := newNode()
	fill(s)
	for _, e := range s.errs {
		b.errs.add(e.Line, join(key, e.Path), "%s", e.Message)
	}
	if len(s.n.Content) > 0 {
		b.set(key, s.n)
	}
}

func textNode(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// pageNode is the `page:` mapping of a page form (regions apart: a file
// writes them at the top).
func pageNode(f Fields) *node {
	b := newNode()
	for _, k := range []string{"slug", "title", "domain", "timezone", "auto_incidents", "public_detail"} {
		b.text(k, f[k])
	}
	return b
}

// readPage validates a page form as apply validates a file's page.
func readPage(f Fields) (pageConfig, error) {
	r := &reader{}
	pc := r.page(pageNode(f).n)
	regions := newNode()
	regions.list("regions", f["regions"], "")
	if len(regions.n.Content) == 2 {
		pc.regions = r.regions(regions.n.Content[1], "regions")
	}
	return pc, formErrors(r.errs, "page", PageKeys)
}

// readPosition reads a position field; an empty one is -1 (the caller
// puts the row last).
func readPosition(r *reader, v string) int {
	b := newNode()
	b.plain("position", v)
	if len(b.n.Content) == 0 {
		return -1
	}
	pos, _ := r.integer(b.n.Content[1], "position", 0, maxPosition)
	return pos
}

// readGroup validates a component group form.
func readGroup(f Fields) (name string, pos int, err error) {
	r := &reader{}
	b := newNode()
	b.text("name", f["name"])
	if len(b.n.Content) == 0 {
		r.errs.add(0, "name", "missing")
	} else {
		name = r.name(b.n.Content[1], "name")
	}
	pos = readPosition(r, f["position"])
	return name, pos, formErrors(r.errs, "", GroupKeys)
}

// readComponent validates a component form as apply validates a file's
// component; group is the group's name ("" for none).
func readComponent(f Fields, group string) (componentConfig, int, error) {
	r := &reader{}
	b := newNode()
	b.text("name", f["name"])
	b.text("description", f["description"])
	b.text("group", group)
	comp := r.component(b.n, "component", "")
	pos := readPosition(r, f["position"])
	return comp, pos, formErrors(r.errs, "component", ComponentKeys)
}

// checkNode is the YAML a file would hold for a check form.
func checkNode(f Fields) *node {
	b := newNode()
	b.text("name", f["name"])
	b.text("url", f["url"])
	b.plain("interval", f["interval"])
	b.plain("timeout", f["timeout"])
	b.list("regions", f["regions"], "")
	b.plain("quorum", f["quorum"])
	b.plain("confirm", f["confirm"])
	if nodes := strings.TrimSpace(f["nodes"]); strings.ContainsAny(nodes, ", \n\t") {
		b.list("nodes", nodes, "")
	} else {
		b.text("nodes", nodes)
	}
	b.sub("expect", func(e *node) {
		e.text("status", f["expect.status"])
		e.list("body_contains", f["expect.body_contains"], "\n")
		e.list("body_not_contains", f["expect.body_not_contains"], "\n")
		e.text("body_regex", f["expect.body_regex"])
		e.pairs("json", f["expect.json"], " = ", true)
		e.pairs("headers", f["expect.headers"], ": ", false)
		if f["expect.image"] == "true" {
			e.plain("image", "true")
		}
		e.plain("max_latency", f["expect.max_latency"])
	})
	b.sub("tls", func(t *node) {
		t.plain("warn_days", f["tls.warn_days"])
		t.plain("critical_days", f["tls.critical_days"])
		t.text("issuer", f["tls.issuer"])
		t.text("ca", f["tls.ca"])
		t.text("min_version", f["tls.min_version"])
		t.text("acme_directory", f["tls.acme_directory"])
	})
	return b
}

// readCheck validates a check form as apply validates a file's check: the
// same reader, the page's default regions, the probe engine's own reading.
// The check belongs to the component named component; lim words the range
// of an interval out of bounds (the caller applies it: Limits.withInterval).
func readCheck(f Fields, component string, pageRegions []string, lim Limits) (checkConfig, error) {
	r := &reader{limits: lim}
	b := checkNode(f)
	chk := r.check(b.n, "check", "")
	chk.component = component
	r.errs = append(r.errs, b.errs...)
	if len(r.errs) == 0 {
		chk.resolveRegions(r, pageRegions, "check")
	}
	if len(r.errs) == 0 {
		r.errs = chk.probeValidate("check")
	}
	return chk, formErrors(r.errs, "check", CheckKeys)
}

// singleConfig is a file holding one check, for apply's warnings.
func singleConfig(pc pageConfig, chk checkConfig) *config {
	return &config{page: pc, components: []componentConfig{{name: chk.component, checks: []checkConfig{chk}}}}
}

// warningKeys points warnings about a single check at its form's fields.
func warningKeys(ws []Warning) []Warning {
	out := slices.Clone(ws)
	for i := range out {
		path := out[i].Path
		if j := strings.Index(path, ".checks[0]"); j >= 0 {
			path = path[j+len(".checks[0]"):]
		}
		out[i].Path = fieldOf(path, "", CheckKeys)
		out[i].Line = 0
	}
	return out
}
