package probes

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ohler55/ojg/oj"
)

func TestScanJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body         string
		depth, nodes int
	}{
		{`1`, 0, 1},
		{`"a"`, 0, 1},
		{`{}`, 1, 1},
		{`[]`, 1, 1},
		{` [ ] `, 1, 1},
		{`[1]`, 1, 2},
		{`[1,2,3]`, 1, 4},
		{`{"a":1,"b":[true,null,{}]}`, 3, 6},
		{`{"a:[{":"],[[\"","b":"}"}`, 1, 3},
		{`[[[[]]],[]]`, 4, 5},
		{"[\n{\"a\" : [ 1 , 2 ] }\n]", 3, 5},
		{`{"esc\\":"\\\\"}`, 1, 2},
	}
	for _, tc := range tests {
		sh, err := scanJSON(context.Background(), []byte(tc.body), 10, 100)
		if err != nil || sh.depth != tc.depth || sh.nodes != tc.nodes {
			t.Errorf("%s: got depth %d, %d values, %v; want depth %d, %d values", tc.body, sh.depth, sh.nodes, err, tc.depth, tc.nodes)
		}
	}
}

func TestScanJSONLimits(t *testing.T) {
	t.Parallel()
	var se *shapeError
	if _, err := scanJSON(context.Background(), []byte(`[[[1]]]`), 2, 100); !errors.As(err, &se) ||
		se.Error() != "the body nests deeper than 2 levels (at byte 2)" {
		t.Errorf("depth: got %v, want the body nests deeper than 2 levels (at byte 2)", err)
	}
	if _, err := scanJSON(context.Background(), []byte(`[1,2,3,4]`), 10, 4); !errors.As(err, &se) ||
		se.Error() != "the body holds more than 4 JSON values (at byte 6)" {
		t.Errorf("values: got %v, want the body holds more than 4 JSON values (at byte 6)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := scanJSON(ctx, []byte(strings.Repeat(" ", 2*ctxCheckEvery)+"1"), 10, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: got %v, want context.Canceled", err)
	}
}

// treeShape measures a parsed value the way scanJSON measures its text.
func treeShape(v any) (depth, nodes int) {
	nodes = 1
	var children []any
	switch v := v.(type) {
	case map[string]any:
		depth = 1
		for _, c := range v {
			children = append(children, c)
		}
	case []any:
		depth = 1
		children = v
	}
	deepest := 0
	for _, c := range children {
		d, n := treeShape(c)
		deepest, nodes = max(deepest, d), nodes+n
	}
	return depth + deepest, nodes
}

// FuzzScanJSON: on any body oj accepts, the scan never under-counts (the
// limits hold for what is built); without duplicate keys it is exact.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":null}],"c":"]}"}`, `[[],[[]],{}]`, `"x"`, `{"a":1,"a":{"b":[2]}}`, `[1,"\"[",{"\\":2}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := oj.Parse([]byte(body))
		if err != nil {
			return
		}
		sh, err := scanJSON(context.Background(), []byte(body), math.MaxInt, math.MaxInt)
		if err != nil {
			t.Fatalf("scan of %q: %v", body, err)
		}
		depth, nodes := treeShape(v)
		if sh.depth < depth || sh.nodes < nodes {
			t.Fatalf("%q: scan found depth %d, %d values; the parsed value has depth %d, %d values", body, sh.depth, sh.nodes, depth, nodes)
		}
	})
}

func TestDescents(t *testing.T) {
	t.Parallel()
	tests := map[string]int{
		"$.a":                  0,
		"$..a":                 1,
		"$..a..b":              2,
		"$..[?(@..x == 1)]":    2,
		"$['a..b']":            0,
		`$["a..b"]..c`:         1,
		`$[?(@.a == 'x\'..')]`: 0,
	}
	for path, want := range tests {
		if got := descents(path); got != want {
			t.Errorf("descents(%q): got %d, want %d", path, got, want)
		}
	}
	if got := pathCost("$..a..b..c", jsonShape{depth: 10, nodes: 1000}); got != 100_000 {
		t.Errorf("pathCost: got %d, want 100000 (1000 values × 10 × 10)", got)
	}
}

func TestJSONEqualStructural(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		got, want any
		eq        bool
	}{
		{"nested numbers of any type", map[string]any{"a": []any{int64(1), 2.5}}, map[string]any{"a": []any{1, 2.5}}, true},
		{"a missing key", map[string]any{"a": int64(1), "b": int64(2)}, map[string]any{"a": 1, "c": 2}, false},
		{"an extra key", map[string]any{"a": int64(1), "b": int64(2)}, map[string]any{"a": 1}, false},
		{"array lengths", []any{int64(1)}, []any{1, 1}, false},
		{"array order", []any{int64(1), int64(2)}, []any{2, 1}, false},
		{"nested string is not a number", map[string]any{"a": "1"}, map[string]any{"a": 1}, false},
		{"null inside", []any{nil}, []any{nil}, true},
		{"typed map from a decoder", map[string]any{"a": "b"}, map[string]string{"a": "b"}, true},
		{"timestamp from YAML", when.Format(time.RFC3339), when, true},
		{"object against scalar", map[string]any{}, 1, false},
	}
	for _, tc := range tests {
		if got := JSONEqual(tc.got, tc.want); got != tc.eq {
			t.Errorf("%s: JSONEqual(%#v, %#v) = %v, want %v", tc.name, tc.got, tc.want, got, tc.eq)
		}
	}
}

func TestJSONEqualBudget(t *testing.T) {
	t.Parallel()
	want := make([]any, 100)
	got := make([]any, 100)
	for i := range want {
		want[i], got[i] = 1, int64(1)
	}
	if eq, err := jsonEqual(got, want, newBudget(context.Background(), 1000)); !eq || err != nil {
		t.Errorf("within budget: got %v, %v; want equal", eq, err)
	}
	if _, err := jsonEqual(got, want, newBudget(context.Background(), 50)); !errors.Is(err, errBudget) {
		t.Errorf("beyond budget: got %v, want errBudget", err)
	}
}

func TestJSONExcerpt(t *testing.T) {
	t.Parallel()
	small := []any{"ok", int64(3), 3.5, true, nil, "<b>", map[string]any{"b": []any{int64(1)}, "a": "x"}, []any{}}
	for _, v := range small {
		b, _ := json.Marshal(v)
		if got := jsonText(v); got != string(b) {
			t.Errorf("jsonText(%#v): got %s, want %s as encoding/json writes it", v, got, b)
		}
	}
	long := strings.Repeat("é", 200)
	if got := jsonText(long); len(got) > excerptLimit || !strings.HasSuffix(got, "...") || !strings.HasPrefix(got, `"éé`) {
		t.Errorf("long string: got %q (%d bytes), want a cut excerpt of at most %d bytes", got, len(got), excerptLimit)
	}
	wide := make(map[string]any, MaxJSONNodes)
	for i := range MaxJSONNodes / 10 {
		wide[strings.Repeat("k", i%7+1)+string(rune('a'+i%26))+strings.Repeat("z", i/26%5)] = []any{int64(i)}
	}
	var deep any = "x"
	for range MaxJSONDepth {
		deep = []any{deep}
	}
	for _, v := range []any{wide, deep} {
		if got := jsonText(v); len(got) > excerptLimit {
			t.Errorf("excerpt of %.40s…: %d bytes, want at most %d", got, len(got), excerptLimit)
		}
	}
}
