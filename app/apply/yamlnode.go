package apply

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes one file may expand to (aliases
// included), so a file of nested anchors cannot make apply walk forever.
const maxNodes = 100_000

// reader walks a yaml.Node tree, collecting every mistake with its line
// instead of stopping at the first.
type reader struct {
	errs    errorList
	visited int
	// limits are the operator's: an interval out of range is told the
	// range they allow (Limits.IntervalRange). They are applied after
	// reading (Limits.intervalErrors).
	limits Limits
}

// parseDocument reads exactly one YAML (or JSON) document.
func parseDocument(data []byte) (*yaml.Node, *FieldError) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Line: 1, Message: "the file is empty"}
		}
		return nil, syntaxError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &FieldError{Line: max(next.Line, 1), Message: "only one YAML document per file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return nil, &FieldError{Line: 1, Message: "the file is empty"}
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// syntaxError turns "yaml: line 3: did not find expected key" into a
// FieldError on line 3.
func syntaxError(err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = n
		}
		msg = strings.Replace(msg, m[0], "", 1)
	}
	return &FieldError{Line: line, Message: "YAML syntax: " + msg}
}

func (r *reader) errorf(n *yaml.Node, path, format string, args ...any) {
	r.errs.add(n.Line, path, format, args...)
}

// resolve follows an alias to its anchor, counting visits against maxNodes.
func (r *reader) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	r.visited++
	return n
}

// exhausted reports (once) that the file expands to too many nodes.
func (r *reader) exhausted(n *yaml.Node) bool {
	if r.visited <= maxNodes {
		return false
	}
	if r.visited < maxNodes+1_000_000 { // report once, then stay quiet
		r.errorf(n, "", "the file expands to more than %d YAML nodes (check anchors and aliases)", maxNodes)
		r.visited = maxNodes + 1_000_000
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// fields walks a mapping, calling fn for each known key in file order.
// Unknown and repeated keys are mistakes on their own line.
func (r *reader) fields(n *yaml.Node, path string, known []string, fn func(key string, v *yaml.Node)) bool {
	n = r.resolve(n)
	if r.exhausted(n) {
		return false
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, path, "want a mapping of keys (%s), got %s", strings.Join(known, ", "), kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := r.resolve(n.Content[i]), n.Content[i+1]
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			r.errorf(k, path, "a key must be a plain word, got %s", kindName(k))
		case !contains(known, key):
			r.errorf(k, join(path, key), "unknown key %q (known: %s)", key, strings.Join(known, ", "))
		case seen[key]:
			r.errorf(k, join(path, key), "key %q repeated", key)
		default:
			seen[key] = true
			fn(key, v)
		}
	}
	return true
}

// items walks a sequence; a null value is an empty list.
func (r *reader) items(n *yaml.Node, path string, fn func(i int, v *yaml.Node)) {
	n = r.resolve(n)
	if r.exhausted(n) || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, path, "want a list, got %s", kindName(n))
		return
	}
	for i, v := range n.Content {
		fn(i, v)
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// str reads a scalar as text (`name: 2024` is the text "2024").
func (r *reader) str(n *yaml.Node, path string) (string, bool) {
	n = r.resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		r.errorf(n, path, "want text, got %s", kindName(n))
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// strList reads a list of texts; a single text is a list of one.
func (r *reader) strList(n *yaml.Node, path string) []string {
	n = r.resolve(n)
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		s, _ := r.str(n, path)
		return []string{s}
	}
	var out []string
	r.items(n, path, func(i int, v *yaml.Node) {
		if s, ok := r.str(v, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, s)
		}
	})
	return out
}

func (r *reader) integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	n = r.resolve(n)
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		r.errorf(n, path, "want a whole number, got %s", kindName(n))
		return 0, false
	}
	if v < lo || v > hi {
		r.errorf(n, path, "%d is out of range (%d to %d)", v, lo, hi)
		return 0, false
	}
	return v, true
}

func (r *reader) boolean(n *yaml.Node, path string) (bool, bool) {
	n = r.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		r.errorf(n, path, "want true or false, got %s", kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		r.errorf(n, path, "want true or false: %v", err)
		return false, false
	}
	return b, true
}

// duration reads a Go duration ("60s", "1m30s") within [lo, hi].
func (r *reader) duration(n *yaml.Node, path string, lo, hi time.Duration) (time.Duration, bool) {
	return r.durationIn(n, path, lo, hi, durationText(lo)+" to "+durationText(hi))
}

// durationIn is duration with the range worded as span says ("30s to
// 24h"), for a key whose allowed range is narrower than its bounds.
func (r *reader) durationIn(n *yaml.Node, path string, lo, hi time.Duration, span string) (time.Duration, bool) {
	d, ok := r.anyDuration(n, path)
	if ok && (d < lo || d > hi) {
		r.errorf(n, path, "%s is out of range (%s)", durationText(d), span)
		return 0, false
	}
	return d, ok
}

// anyDuration reads a Go duration ("60s", "1m30s"). Bare numbers are
// refused: their unit would be a guess.
func (r *reader) anyDuration(n *yaml.Node, path string) (time.Duration, bool) {
	n = r.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!int" || n.Tag == "!!float" || isNull(n) {
		r.errorf(n, path, "want a duration such as 30s, 5m or 2h, got %s", kindName(n))
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		r.errorf(n, path, "%q is not a duration (want e.g. 30s, 5m or 2h)", n.Value)
		return 0, false
	}
	return d, true
}

// value converts a node to a JSON-compatible value (for expect.json).
func (r *reader) value(n *yaml.Node, path string) (any, bool) {
	n = r.resolve(n)
	if r.exhausted(n) {
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			r.errorf(n, path, "%v", err)
			return nil, false
		}
		switch v.(type) {
		case nil, bool, int, int64, uint64, float64, string:
			return v, true
		}
		return n.Value, true // timestamps and other tags: keep the text
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, ok := r.value(c, fmt.Sprintf("%s[%d]", path, i))
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := r.resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				r.errorf(k, path, "a key must be text, got %s", kindName(k))
				return nil, false
			}
			v, ok := r.value(n.Content[i+1], join(path, k.Value))
			if !ok {
				return nil, false
			}
			out[k.Value] = v
		}
		return out, true
	}
	r.errorf(n, path, "unsupported YAML value")
	return nil, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
