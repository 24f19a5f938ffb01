package probes

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"pharos/probes/probetest"
)

// TestSpecFromDesignYAML decodes the checks of DESIGN §7 into Specs.
func TestSpecFromDesignYAML(t *testing.T) {
	t.Parallel()
	const doc = `
- url: https://media.acme.example/logo.png
  nodes: all
  expect: {status: [200], image: true}
  tls: {warn_days: 21, critical_days: 7, issuer: "Let's Encrypt"}
- url: https://api.acme.example/health
  timeout: 5s
  nodes: [203.0.113.7, "198.51.100.9:8443"]
  expect: {json: {"$.status": "ok"}, body_not_contains: ["maintenance"], max_latency: 2s, status: "200-299", headers: {X-Env: /prod/}}
`
	var specs []Spec
	if err := yaml.Unmarshal([]byte(doc), &specs); err != nil {
		t.Fatal(err)
	}
	want := []Spec{
		{URL: "https://media.acme.example/logo.png", Nodes: Nodes{All: true},
			Expect: Expect{Status: StatusSet{{200, 200}}, Image: true},
			TLS:    TLSSpec{WarnDays: 21, CriticalDays: 7, Issuer: "Let's Encrypt"}},
		{URL: "https://api.acme.example/health", Timeout: Duration(5 * time.Second),
			Nodes: Nodes{Addrs: []string{"203.0.113.7", "198.51.100.9:8443"}},
			Expect: Expect{JSON: map[string]any{"$.status": "ok"}, BodyNotContains: []string{"maintenance"},
				MaxLatency: Duration(2 * time.Second), Status: StatusSet{{200, 299}}, Headers: map[string]string{"X-Env": "/prod/"}}},
	}
	if diff := cmp.Diff(want, specs); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%s): %v", s.URL, err)
		}
	}
	// Specs travel through Redis as JSON: the round trip must be lossless.
	for _, s := range specs {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if diff := cmp.Diff(s, back); diff != "" {
			t.Errorf("JSON round trip of %s (-want +got):\n%s", b, diff)
		}
	}
}

func TestYAMLErrorsCarryLines(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		"url: https://x/\nexpect:\n  status: [200, 999]\n",
		"url: https://x/\nexpect:\n  max_latency: 2\n",
		"url: https://x/\ntimeout: soon\n",
		"url: https://x/\nnodes: {a: b}\n",
	} {
		var s Spec
		err := yaml.Unmarshal([]byte(doc), &s)
		if err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: got %v, want an error naming the line", doc, err)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		want []string // fields in error
	}{
		{"minimal", Spec{URL: "https://example.org/"}, nil},
		{"everything", Spec{URL: "http://example.org:8080/x", Nodes: Nodes{Addrs: []string{"192.0.2.1", "[2001:db8::1]:443"}},
			TLS:      TLSSpec{MinVersion: "TLS1.3", CA: probetest.NewRoot(probetest.CertOptions{CommonName: "x"}).PEM()},
			Expect:   Expect{BodyRegex: "^ok$", JSON: map[string]any{"$.a[0].b": 1.0}, Headers: map[string]string{"A": "/^x+$/"}},
			Severity: map[Code]Severity{CodeLatencyHigh: SeverityInfo}}, nil},
		{"no url", Spec{}, []string{"url"}},
		{"ftp", Spec{URL: "ftp://example.org/"}, []string{"url"}},
		{"no host", Spec{URL: "https:///x"}, []string{"url"}},
		{"bad everything", Spec{URL: "https://example.org/", Nodes: Nodes{Addrs: []string{"example.org"}},
			TLS:      TLSSpec{MinVersion: "1.4", CA: "not pem", WarnDays: 5, CriticalDays: 9},
			Expect:   Expect{BodyRegex: "(", JSON: map[string]any{"$[": 1}, Headers: map[string]string{"A": "/(/"}, Status: StatusSet{{600, 700}}},
			Severity: map[Code]Severity{"nope": SeverityInfo, CodeTimeout: "loud"}},
			[]string{"expect.body_regex", "expect.headers.A", "expect.json", "expect.status", "nodes[0]", "severity", "severity.timeout", "tls.ca", "tls.critical_days", "tls.min_version"}},
	}
	for _, tc := range tests {
		err := tc.spec.Validate()
		var ve *ValidationError
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: got %v, want valid", tc.name, err)
			}
			continue
		}
		if !errors.As(err, &ve) {
			t.Errorf("%s: got %v, want a *ValidationError", tc.name, err)
			continue
		}
		var fields []string
		for _, fe := range ve.Errors {
			fields = append(fields, fe.Field)
		}
		if diff := cmp.Diff(tc.want, sortedUnique(fields)); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s\n%v", tc.name, diff, err)
		}
	}
}

func sortedUnique(s []string) []string {
	ps := make([]Problem, len(s))
	for i, f := range s {
		ps[i] = Problem{Code: Code(f)}
	}
	return onlyCodes(ps)
}

func TestParseStatusSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want StatusSet
		ok   []int
		no   []int
	}{
		{"200", StatusSet{{200, 200}}, []int{200}, []int{201, 204}},
		{"200,204", StatusSet{{200, 200}, {204, 204}}, []int{200, 204}, []int{201, 302}},
		{"200-399", StatusSet{{200, 399}}, []int{200, 301, 399}, []int{199, 400, 503}},
		{" 200-299 , 304 ", StatusSet{{200, 299}, {304, 304}}, []int{250, 304}, []int{301}},
	}
	for _, tc := range tests {
		got, err := ParseStatusSet(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
		for _, c := range tc.ok {
			if !got.Contains(c) {
				t.Errorf("%q does not contain %d", tc.in, c)
			}
		}
		for _, c := range tc.no {
			if got.Contains(c) {
				t.Errorf("%q contains %d", tc.in, c)
			}
		}
	}
	for _, bad := range []string{"", "abc", "99", "600", "300-200", "200-", "2xx", ","} {
		if _, err := ParseStatusSet(bad); err == nil {
			t.Errorf("%q: got no error", bad)
		}
	}
}

func TestResolveCA(t *testing.T) {
	t.Parallel()
	pemText := probetest.NewRoot(probetest.CertOptions{CommonName: "x"}).PEM()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(pemText), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{pemText, "ca.pem", filepath.Join(dir, "ca.pem")} {
		got, err := ResolveCA(in, dir)
		if err != nil || got != pemText {
			t.Errorf("ResolveCA(%.20q): got %.20q, %v", in, got, err)
		}
	}
	if _, err := ResolveCA("missing.pem", dir); err == nil {
		t.Error("missing file: got no error")
	}
}

func TestParseJSONAssertion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		path string
		want any
	}{
		{"$.status=ok", "$.status", "ok"},
		{`$.status="ok"`, "$.status", "ok"},
		{"$.count=3", "$.count", 3.0},
		{"$.ok=true", "$.ok", true},
		{"$.v=a=b", "$.v", "a=b"},
		{"$.items[?(@.name=='db')].ok=true", "$.items[?(@.name=='db')].ok", true},
	}
	for _, tc := range tests {
		path, want, err := ParseJSONAssertion(tc.in)
		if err != nil || path != tc.path || !cmp.Equal(want, tc.want) {
			t.Errorf("%q: got %q %#v %v, want %q %#v", tc.in, path, want, err, tc.path, tc.want)
		}
	}
	for _, bad := range []string{"", "=x", "$.a", "$[=1"} {
		if _, _, err := ParseJSONAssertion(bad); err == nil {
			t.Errorf("%q: got no error", bad)
		}
	}
}

func TestJSONEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want any
		eq        bool
	}{
		{"ok", "ok", true}, {"ok", "OK", false},
		{int64(3), 3.0, true}, {int64(3), 3, true}, {int64(3), "3", true}, {3.5, "3.5", true},
		{true, true, true}, {true, "true", true}, {false, true, false},
		{nil, nil, true}, {nil, "null", true}, {"null", nil, false},
		{map[string]any{"a": int64(1)}, map[string]any{"a": 1.0}, true},
		{[]any{"x"}, "x", false},
	}
	for _, tc := range tests {
		if got := JSONEqual(tc.got, tc.want); got != tc.eq {
			t.Errorf("JSONEqual(%#v, %#v) = %v, want %v", tc.got, tc.want, got, tc.eq)
		}
	}
}

// Fuzz targets: parsing must never panic, and accepted input must round-trip.

func FuzzParseStatusSet(f *testing.F) {
	for _, s := range []string{"200", "200,204", "200-399", "100-599,", "-", "1-2-3", "٣٠٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseStatusSet(s)
		if err != nil {
			return
		}
		again, err := ParseStatusSet(set.String())
		if err != nil || !cmp.Equal(set, again) {
			t.Fatalf("%q → %q → %v, %v", s, set.String(), again, err)
		}
		var fromJSON StatusSet
		b, _ := json.Marshal(set)
		if err := json.Unmarshal(b, &fromJSON); err != nil || !cmp.Equal(set, fromJSON) {
			t.Fatalf("JSON %s: %v, %v", b, fromJSON, err)
		}
	})
}

func FuzzParseJSONAssertion(f *testing.F) {
	for _, s := range []string{"$.status=ok", "$.a[0].b=1", "$..x=null", "$.a[?(@.b=='c')]=1", "$[", "$.a[(", "$.*=x", "@.x=1", "$['a b']=\"c\""} {
		f.Add(s, []byte(`{"status":"ok","a":[{"b":1}],"x":null}`))
	}
	f.Fuzz(func(t *testing.T, s string, body []byte) {
		path, want, err := ParseJSONAssertion(s)
		if err != nil {
			return
		}
		spec := Spec{URL: "https://example.org/", Expect: Expect{JSON: map[string]any{path: want}}}
		p, err := spec.compile(nil)
		if err != nil {
			t.Fatalf("ParseJSONAssertion accepted %q but Validate refused it: %v", s, err)
		}
		p.assert(context.Background(), "n", &response{status: 200, body: body, header: map[string][]string{}})
	})
}
