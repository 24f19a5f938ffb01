package probes

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// JSONEqual compares a value found in a JSON body with an expected value
// from a spec. Numbers compare numerically whatever their Go type, and an
// expected string also matches the JSON text of a scalar (so the CLI's
// --json-path '$.count=3' matches 3 and "3"). Objects and arrays compare
// member by member, never by serialising them.
func JSONEqual(got, want any) bool {
	eq, _ := jsonEqual(got, want, newBudget(context.Background(), math.MaxInt))
	return eq
}

// jsonEqual is JSONEqual under a budget: it fails with the budget's error
// when the comparison would take more steps than are left.
func jsonEqual(got, want any, b *budget) (bool, error) {
	if g, ok := toFloat(got); ok {
		if w, ok := toFloat(want); ok {
			return g == w, nil
		}
	}
	if ws, ok := want.(string); ok {
		switch g := got.(type) {
		case string:
			return g == ws, nil
		case bool, nil, int64, float64, int:
			return jsonExcerpt(got, len(ws)+1) == ws, nil
		}
		return false, nil
	}
	return sameJSON(got, want, b)
}

// sameJSON compares got with want strictly (numbers numerically), walking
// both together: the cost is at most the size of want, which comes from
// the spec, and every value visited spends one step of b.
func sameJSON(got, want any, b *budget) (bool, error) {
	if err := b.spend(1); err != nil {
		return false, err
	}
	switch w := want.(type) {
	case nil:
		return got == nil, nil
	case bool:
		g, ok := got.(bool)
		return ok && g == w, nil
	case string:
		g, ok := got.(string)
		return ok && g == w, nil
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false, nil
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return false, nil
			}
			if eq, err := sameJSON(gv, wv, b); !eq || err != nil {
				return false, err
			}
		}
		return true, nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false, nil
		}
		for i := range w {
			if eq, err := sameJSON(g[i], w[i], b); !eq || err != nil {
				return false, err
			}
		}
		return true, nil
	}
	if wf, ok := toFloat(want); ok {
		gf, ok := toFloat(got)
		return ok && gf == wf, nil
	}
	// Another Go type from the spec's decoder (a YAML timestamp, a typed
	// map): compare with its JSON form. want is small, it comes from the spec.
	raw, err := json.Marshal(want)
	if err != nil {
		return false, nil
	}
	var norm any
	if err := json.Unmarshal(raw, &norm); err != nil {
		return false, nil
	}
	switch norm.(type) {
	case nil, bool, string, float64, map[string]any, []any:
		return sameJSON(got, norm, b)
	}
	return false, nil
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

// excerptLimit is how many characters of a JSON value a message shows.
const excerptLimit = 120

// jsonText is v as compact JSON for a message, cut at excerptLimit.
func jsonText(v any) string { return jsonExcerpt(v, excerptLimit) }

// jsonExcerpt writes v as compact JSON (keys sorted, as encoding/json
// does) and stops once limit characters are written, so a large or deep
// value costs no more than its excerpt; a cut excerpt ends in "...".
func jsonExcerpt(v any, limit int) string {
	x := excerptWriter{limit: limit}
	x.value(v, 0)
	s := x.sb.String()
	if len(s) > limit {
		cut := max(limit-3, 0)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "..."
	}
	return s
}

type excerptWriter struct {
	sb    strings.Builder
	limit int
}

// full reports whether the excerpt already overflows its limit.
func (x *excerptWriter) full() bool { return x.sb.Len() > x.limit }

func (x *excerptWriter) value(v any, depth int) {
	if x.full() {
		return
	}
	switch v := v.(type) {
	case string:
		x.raw(truncateUTF8(v, x.limit+1))
	case map[string]any:
		if depth > MaxJSONDepth {
			x.sb.WriteString("{...}")
			return
		}
		x.sb.WriteByte('{')
		keys := slices.Sorted(maps.Keys(v))
		for i, k := range keys {
			if x.full() {
				return
			}
			if i > 0 {
				x.sb.WriteByte(',')
			}
			x.raw(truncateUTF8(k, x.limit+1))
			x.sb.WriteByte(':')
			x.value(v[k], depth+1)
		}
		x.sb.WriteByte('}')
	case []any:
		if depth > MaxJSONDepth {
			x.sb.WriteString("[...]")
			return
		}
		x.sb.WriteByte('[')
		for i, e := range v {
			if x.full() {
				return
			}
			if i > 0 {
				x.sb.WriteByte(',')
			}
			x.value(e, depth+1)
		}
		x.sb.WriteByte(']')
	default:
		x.raw(v)
	}
}

// raw writes a scalar as encoding/json does (HTML-escaped).
func (x *excerptWriter) raw(v any) {
	b, err := json.Marshal(v)
	if err != nil { // NaN, infinities
		x.sb.WriteString(fmt.Sprint(v))
		return
	}
	x.sb.Write(b)
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
