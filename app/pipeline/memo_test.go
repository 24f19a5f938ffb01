package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/probes"
)

// TestDecodeCertCache decodes results whose certificates the cache has
// seen, has seen with one byte changed, and holds with braces and quotes
// in their strings, and more certificates than two generations hold: every
// answer is encoding/json's, and the cache stays bounded.
func TestDecodeCertCache(t *testing.T) {
	decode := func(r Result) {
		t.Helper()
		b, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := referenceDecode(b)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the first may decode, the second finds it
			got, err := DecodeResult(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("DecodeResult differs (-encoding/json +DecodeResult):\n%s", diff)
			}
		}
	}
	r := realisticResult(7, probes.StateUp)
	decode(r)
	leaf := &r.Result.Nodes[0].TLS.Leaf
	leaf.DaysLeft-- // the next day: one byte of the leaf's object differs
	decode(r)
	leaf.Subject, leaf.DNSNames = `CN=}{"]["\,O=x`, []string{`a"}.example`, `b\{.example`}
	decode(r)
	r.Result.Nodes[0].TLS.Chain = nil
	for i := range 2*memoSize + 10 {
		leaf.Serial = fmt.Sprint(i)
		decode(r)
	}
	checkBounded(t, "certificates", decodedCerts)
}

// checkBounded fails t when a generation of m holds more than its size.
func checkBounded[V any](t *testing.T, what string, m *memo[V]) {
	t.Helper()
	m.mu.Lock()
	cur, prev := len(m.cur), len(m.prev)
	m.mu.Unlock()
	if cur > m.size || prev > m.size {
		t.Errorf("the memo holds %d + %d %s, want at most %d in each generation", cur, prev, what, m.size)
	}
}

// TestObjectEnd finds where an object ends, strings with braces and
// escaped quotes skipped, and no end where there is none.
func TestObjectEnd(t *testing.T) {
	for in, want := range map[string]int{
		`{}x`:                  2,
		`{"a":"}"}x`:           9,
		`{"a":"\"}"}x`:         11,
		`{"a":"\\"}x`:          10,
		`{"a":[{"b":"]"}]}x`:   17,
		`{"a":1`:               -1,
		`{"a":"}`:              -1,
		`x{}`:                  -1,
		``:                     -1,
		strings.Repeat("{", 3): -1,
	} {
		s := scanner{b: []byte(in)}
		end, ok := s.objectEnd()
		if !ok {
			end = -1
		}
		if end != want {
			t.Errorf("objectEnd(%q) = %d, want %d", in, end, want)
		}
	}
}
