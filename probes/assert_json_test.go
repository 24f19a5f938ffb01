package probes

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// deepJSON is {"a": nested n deep: the body that used to jam workers.
func deepJSON(n int) string {
	return strings.Repeat(`{"a":`, n) + `"x"` + strings.Repeat("}", n)
}

// TestDeepJSONBodies: bodies nested 8,000 and 100,000 deep, from a real TLS
// server, are refused by the depth limit long before the check's timeout
// (8,000 deep used to take 24 s of CPU, 100,000 deep never finished).
func TestDeepJSONBodies(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	const timeout = 10 * time.Second
	for _, depth := range []int{8_000, 100_000} {
		t.Run(fmt.Sprint(depth), func(t *testing.T) {
			t.Parallel()
			url := serveNodes(t, "/deep", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}),
				handler: probetest.Text(200, "application/json", deepJSON(depth))})
			spec := Spec{URL: url, Timeout: Duration(timeout), Expect: Expect{JSON: map[string]any{
				"$..a": map[string]any{"a": "y"}, "$.a.a": "x"}}}
			start := time.Now()
			res := k.prober(nil, nil).Run(context.Background(), spec)
			if took := time.Since(start); took >= timeout {
				t.Fatalf("the probe took %s, want less than its %s timeout", took, timeout)
			}
			if got := onlyCodes(res.Problems); len(got) != 1 || got[0] != "json_mismatch" {
				t.Fatalf("codes: got %v, want [json_mismatch]; problems: %v", got, res.Problems)
			}
			pb := findProblem(t, res, CodeJSONMismatch)
			wantMessage(t, pb, fmt.Sprintf("the body nests deeper than %d levels", MaxJSONDepth))
			if strings.Contains(pb.Message, `{"a"`) || len(pb.Message) > 300 {
				t.Errorf("message %q echoes the body or is long, want a short message naming the limit", pb.Message)
			}
		})
	}
}

func assertOn(t testing.TB, ctx context.Context, expect Expect, body string) []Problem {
	t.Helper()
	p, err := Spec{URL: "https://example.org/", Expect: expect}.compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.assert(ctx, "n", &response{status: 200, body: []byte(body), header: map[string][]string{}, url: "https://example.org/"})
}

// wideJSON is an array of n objects {"a":{"b":1}}.
func wideJSON(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(`{"a":{"b":1}},`, n), ",") + "]"
}

// deepWide is {"a": nested depth deep around an array of width objects {"b":1}.
func deepWide(depth, width int) string {
	return strings.Repeat(`{"a":`, depth) + "[" + strings.TrimSuffix(strings.Repeat(`{"b":1},`, width), ",") + "]" + strings.Repeat("}", depth)
}

func TestJSONLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		expect map[string]any
		want   []string // parts of the one json_mismatch message; none: no problem
	}{
		{name: "nesting at the limit", body: deepJSON(MaxJSONDepth), expect: map[string]any{"$..a": "x"}},
		{name: "nesting beyond the limit", body: deepJSON(MaxJSONDepth + 1), expect: map[string]any{"$..a": "x"},
			want: []string{"nests deeper than 64 levels (at byte 320)", "not evaluated"}},
		{name: "deep arrays", body: strings.Repeat("[", 1000) + strings.Repeat("]", 1000), expect: map[string]any{"$[0]": 1},
			want: []string{"nests deeper than"}},
		{name: "values at the limit", body: "[" + strings.Repeat("0,", MaxJSONNodes-2) + "0]", expect: map[string]any{"$[0]": 0}},
		{name: "values beyond the limit", body: "[" + strings.Repeat("0,", MaxJSONNodes-1) + "0]", expect: map[string]any{"$[0]": 0},
			want: []string{"more than 100000 JSON values"}},
		{name: "many matches compared structurally", body: wideJSON(30_000), expect: map[string]any{"$..a": map[string]any{"b": 2.0}},
			want: []string{`$..a is an object of 1 key, expected {"b":2}`}},
		{name: "many matches, one equal", body: wideJSON(30_000), expect: map[string]any{"$..a": map[string]any{"b": 1}}},
		{name: "nested descents over a small body", body: `{"a":{"b":{"c":1}}}`, expect: map[string]any{"$..b..c": 1}},
		{name: "nested descents too costly", body: deepWide(50, 5_000), expect: map[string]any{"$..*..*..*": 1},
			want: []string{"$..*..*..* was not evaluated: its 3 recursive descents (..) over a body of 10051 values nested 52 deep would visit more than 1000000 values"}},
		{name: "descent in a filter counts", body: deepWide(50, 20_000), expect: map[string]any{"$..[?(@..b == 2)]": 1},
			want: []string{"was not evaluated: its 2 recursive descents"}},
		{name: "two descents over a shallow body", body: deepWide(2, 5_000), expect: map[string]any{"$..[?(@..b == 2)]": 1},
			want: []string{"not found in the JSON body"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			got := assertOn(t, context.Background(), Expect{JSON: tc.expect}, tc.body)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s, want well under the default timeout", took)
			}
			if len(tc.want) == 0 {
				if len(got) != 0 {
					t.Errorf("got %v, want no problem", got)
				}
				return
			}
			if len(got) != 1 || got[0].Code != CodeJSONMismatch {
				t.Fatalf("got %v, want one json_mismatch", got)
			}
			wantMessage(t, got[0], tc.want...)
		})
	}
}

// deadlineAfter is a context whose Err reports the deadline passed after
// it has been asked n times: it shows where assertions look at the deadline.
type deadlineAfter struct {
	context.Context
	n atomic.Int64
}

func newDeadlineAfter(n int64) *deadlineAfter {
	c := &deadlineAfter{Context: context.Background()}
	c.n.Store(n)
	return c
}

func (c *deadlineAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestAssertionsHonourDeadline: once the probe's deadline passes, the
// assertions stop, inside their loops too, and say timeout.
func TestAssertionsHonourDeadline(t *testing.T) {
	t.Parallel()
	big := "[" + strings.Repeat(`{"name":"db","ok":true},`, 20_000) + "0]" // 480 KB, within the limits
	tests := []struct {
		name   string
		asks   int64 // how often the deadline may be looked at before it has passed
		expect Expect
		body   string
		what   string
	}{
		{name: "before the body assertions", asks: 0, expect: Expect{BodyContains: []string{"db"}}, body: big, what: "body assertions"},
		{name: "inside the JSON scan", asks: 3, expect: Expect{JSON: map[string]any{"$[0].ok": true}}, body: big, what: "JSON assertions"},
		{name: "inside the comparison", asks: int64(len(big)/ctxCheckEvery + 4), expect: Expect{JSON: map[string]any{"$..name": map[string]any{"x": 1}}},
			body: big, what: "JSON assertions"},
		{name: "inside the regex", asks: 5, expect: Expect{BodyRegex: `(\w+\s?){1,300}x`}, body: big, what: "body regex"},
		{name: "before the image check", asks: 0, expect: Expect{Image: true}, body: big, what: "image check"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := newDeadlineAfter(tc.asks)
			got := assertOn(t, ctx, tc.expect, tc.body)
			if len(got) == 0 || got[len(got)-1].Code != CodeTimeout {
				t.Fatalf("got %v, want a timeout problem last", got)
			}
			wantMessage(t, got[len(got)-1], "the "+tc.what+" did not finish within the 10s timeout")
			if left := ctx.n.Load(); left >= 0 {
				t.Errorf("the deadline was looked at %d times, want all %d looks used and one more", tc.asks-left, tc.asks)
			}
		})
	}
}
