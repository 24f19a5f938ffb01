package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, and
// any mistake it reports must carry a line number.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*")
	seeds = append(seeds, "../../deploy/pharos.example.yaml")
	for _, name := range seeds {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a]\nc: &c [*b, *b]\npage: *c\n"))
	f.Add([]byte("page: {slug: a, title: b}\ncomponents: [{name: x, checks: [{name: y, url: 'http://[::1]:80/', nodes: ['[::1]:443'], expect: {json: {$: [1, {a: null}]}, status: '200-299,304'}}]}]\n"))
	f.Add([]byte("page:\n  <<: {slug: a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, errs := parseConfig(data, "", Limits{})
		if len(errs) == 0 {
			if c == nil {
				t.Fatal("no mistakes and no config")
			}
			errs = probeValidate(c)
		}
		for _, e := range errs {
			if e.Line < 1 {
				t.Errorf("mistake without a line: %+v", e)
			}
			if strings.TrimSpace(e.Message) == "" {
				t.Errorf("mistake without a message: %+v", e)
			}
		}
	})
}

// A file of nested aliases ("billion laughs") is refused quickly instead of
// being walked exponentially.
func TestParseAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("page: {slug: a, title: a}\ncomponents:\n  - name: c\n    checks:\n      - name: k\n        url: https://a.example/\n        expect:\n          json:\n")
	b.WriteString("            $.a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "            $.a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	_, errs := parseConfig([]byte(b.String()), "", Limits{})
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "more than 100000 YAML nodes") {
		t.Fatalf("got %v, want the alias expansion refused", errs)
	}
}
