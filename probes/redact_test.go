package probes

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"pharos/probes/probetest"
)

func TestRedactSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"ok", "ok"},
		{"maintenance until 10:00 UTC", "maintenance until 10:00 UTC"},
		{"password=hunter2 next", "password=[redacted] next"},
		{`{"api_key": "abc"}`, `{"api_key": "[redacted]"}`},
		{"Authorization: Bearer abc.def", "Authorization: [redacted]"},
		{"token sk_live_51HxYzAbCdEf1234567890", "token [redacted]"},
		{"id AKIAIOSFODNN7EXAMPLE ok", "id [redacted] ok"},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "[redacted]"},
		{"-----BEGIN PRIVATE KEY-----\nMIIE", "[redacted]"},
		{"averyveryverylongwordwithoutdigits", "averyveryverylongwordwithoutdigits"},
	} {
		if got := redactSecrets(tc.in); got != tc.want {
			t.Errorf("redactSecrets(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDescribeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"degraded", `the string "degraded" (8 characters)`},
		{"a rather long status text here", `the string "a rather long st…" (30 characters)`},
		{"ghp_0123456789abcdefghijABCDEFGHIJ", `the string "[redacted]" (34 characters)`},
		{"session=0123456789abcdef x", `the string "session=[redacted]…" (26 characters)`},
		{3.5, "the number 3.5"},
		{true, "true"},
		{nil, "null"},
		{map[string]any{"token": "x", "b": 1}, "an object of 2 keys"},
		{[]any{"secret"}, "an array of 1 value"},
	} {
		if got := describeJSON("$.status", tc.v); got != tc.want {
			t.Errorf("describeJSON(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	if got, want := describeJSON("$.config.db_password", "hunter2"), "a string of 7 characters ([redacted]: the path names a credential)"; got != want {
		t.Errorf("a value under a credential's name: got %s, want %s", got, want)
	}
}

// TestMessagesDoNotEchoSecrets: a target whose body and headers carry
// credentials fails its json, body and header assertions, and no message
// repeats the credentials — nor more than a short excerpt of the body.
func TestMessagesDoNotEchoSecrets(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	secrets := []string{"sk_live_51HxYzAbCdEf1234567890", "hunter2", "AKIAIOSFODNN7EXAMPLE", "s3ss10nc00k1e", "tok-9f8e7d6c5b4a"}
	body := `{"status":"sk_live_51HxYzAbCdEf1234567890","config":{"db_password":"hunter2"},` +
		`"note":"maintenance aws_access_key_id=AKIAIOSFODNN7EXAMPLE","list":["hunter2"],` +
		`"long":"` + strings.Repeat("lorem ipsum ", 20) + `"}`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "sid=s3ss10nc00k1e; HttpOnly")
		w.Header().Set("X-Debug", "token=tok-9f8e7d6c5b4a")
		_, _ = w.Write([]byte(body))
	})
	url := serveNodes(t, "/", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}), handler: h})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{
		JSON: map[string]any{"$.status": "ok", "$.config": "x", "$.config.db_password": "x", "$.list": "x", "$.long": "x"},
		// "maintenance" sits next to the access key: the excerpt around it
		// must mask the key.
		BodyNotContains: []string{"maintenance"},
		Headers:         map[string]string{"Set-Cookie": "none", "X-Debug": "none"},
	}})
	var codes = map[Code]int{}
	for _, p := range res.Problems {
		codes[p.Code]++
		for _, s := range secrets {
			if strings.Contains(p.Message, s) || strings.Contains(p.Message, s[:6]) {
				t.Errorf("%s message echoes a secret (%s): %s", p.Code, s, p.Message)
			}
		}
		if strings.Contains(p.Message, "lorem ipsum lorem") {
			t.Errorf("%s message quotes more than a short excerpt: %s", p.Code, p.Message)
		}
	}
	if codes[CodeJSONMismatch] != 5 || codes[CodeBodyMismatch] != 1 || codes[CodeHeaderMismatch] != 2 {
		t.Fatalf("problems %v, want 5 json_mismatch, 1 body_mismatch, 2 header_mismatch", res.Problems)
	}
	// Still useful: the path, the expected value and the kind of value found.
	wantMessage(t, findProblem(t, res, CodeBodyMismatch), `contains "maintenance" at byte`, "[redacted]")
	for _, p := range res.Problems {
		if p.Code == CodeJSONMismatch && strings.Contains(p.Message, "$.status ") {
			wantMessage(t, p, `$.status is the string "[redacted]" (30 characters), expected "ok"`)
		}
		if p.Code == CodeHeaderMismatch && strings.Contains(p.Message, "Set-Cookie") {
			wantMessage(t, p, `header Set-Cookie does not match, expected "none" (1 value not quoted`)
		}
		if p.Code == CodeHeaderMismatch && strings.Contains(p.Message, "X-Debug") {
			wantMessage(t, p, `header X-Debug is "token=[redacted]", expected "none"`)
		}
	}
}
