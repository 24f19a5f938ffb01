package probes

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"pharos/probes/probetest"
)

// TestRegexPathologicalBody: a nested-quantifier regex over a 1 MiB body
// (the body cap) finishes quickly, RE2 being linear; a pattern whose
// compiled program is huge is linear with a factor of minutes, and is
// stopped by the check's timeout.
func TestRegexPathologicalBody(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	body := strings.Repeat("a", DefaultBodyCap-1) + "!"
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}), handler: probetest.Text(200, "text/plain", body)})
	tests := []struct {
		name    string
		re      string
		timeout time.Duration
		code    Code
		parts   []string
	}{
		// Linear, so quick (asserted below without -race); the generous
		// timeout only keeps a race-instrumented run on a loaded machine
		// from being cut short.
		{name: "nested quantifier", re: `(a+)+b`, timeout: time.Minute, code: CodeBodyMismatch, parts: []string{"does not match /(a+)+b/"}},
		{name: "nested star, anchored", re: `^(a|aa)*$`, timeout: time.Minute, code: CodeBodyMismatch},
		{name: "word runs", re: `^(\w+\s?)*$`, timeout: time.Minute, code: CodeBodyMismatch},
		{name: "huge program", re: `(\w+\s?){1,1000}x`, timeout: 2 * time.Second, code: CodeTimeout,
			parts: []string{"the body regex did not finish within the 2s timeout"}},
	}
	pr := k.prober(nil, nil)
	for _, tc := range tests { // one at a time: each is CPU-bound
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res := pr.Run(context.Background(), Spec{URL: url, Timeout: Duration(tc.timeout), Expect: Expect{BodyRegex: tc.re}})
			took := time.Since(start)
			t.Logf("%s over 1 MiB: %s", tc.re, took)
			if took > tc.timeout+time.Second {
				t.Errorf("took %s, want at most the %s timeout and a second", took, tc.timeout)
			}
			if quick := 3 * time.Second; tc.code != CodeTimeout && took > quick && !raceEnabled {
				t.Errorf("took %s, want under %s", took, quick)
			}
			if got := onlyCodes(res.Problems); len(got) != 1 || got[0] != string(tc.code) {
				t.Fatalf("codes: got %v, want [%s]; problems %v", got, tc.code, res.Problems)
			}
			wantMessage(t, findProblem(t, res, tc.code), tc.parts...)
		})
	}
}

// TestMatchReadingAgrees: the deadline-watching reader matches exactly as
// regexp does on the bytes.
func TestMatchReadingAgrees(t *testing.T) {
	t.Parallel()
	bodies := []string{"", "ok", "status: ok\n", "\xff\xfeok", "é ok ü", "line1\nline2", strings.Repeat("ab", 5000) + "c"}
	patterns := []string{`ok`, `^ok$`, `(?m)^line2$`, `\xff`, `[^\x00-\x7f]`, `(?s)a.*c$`, `^$`, `\bok\b`, `(ab)+c`, `ü`}
	for _, b := range bodies {
		for _, p := range patterns {
			re := regexp.MustCompile(p)
			want := re.Match([]byte(b))
			got, err := matchReading(context.Background(), re, []byte(b), 1)
			if err != nil || got != want {
				t.Errorf("/%s/ on %q: got %v, %v; want %v", p, b, got, err, want)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := matchReading(ctx, regexp.MustCompile(`x`), bytes.Repeat([]byte("a"), 100), 10); err == nil {
		t.Error("ended context: got no error, want the context's")
	}
}

// TestHeaderRegexHonoursDeadline: a header regex is bounded like the body's.
func TestHeaderRegexHonoursDeadline(t *testing.T) {
	t.Parallel()
	p, err := Spec{URL: "https://example.org/", Expect: Expect{Headers: map[string]string{"X-Big": `/(\w+\s?){1,1000}x/`}}}.compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &response{status: 200, url: "https://example.org/", header: map[string][]string{"X-Big": {strings.Repeat("a", 60<<10)}}}
	start := time.Now()
	got := p.assert(newDeadlineAfter(3), "n", r)
	if len(got) != 1 || got[0].Code != CodeTimeout {
		t.Fatalf("got %v, want one timeout", got)
	}
	wantMessage(t, got[0], "the header assertions did not finish")
	if took := time.Since(start); took > time.Second && !raceEnabled {
		t.Errorf("took %s, want the deadline noticed at once", took)
	}
}
