package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNewPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		password string
		related  []string
		refused  string // substring of the reason; "" when accepted
	}{
		{"tiny", nil, "at least 10 characters"},
		{strings.Repeat("x", 73), nil, "at most 72 bytes"},
		{"password123", nil, "one of the most common passwords, found in lists of leaked passwords"},
		{"Password1234", nil, "common passwords from lists of leaked passwords"},
		{"qwertyuiop", nil, "one of the most common passwords"},
		{"correct horse", nil, "common words"},
		{"mountain sunrise", nil, "too easy to guess"},
		{"1234567890", nil, "one of the most common passwords"},
		{"zzzzzzzzzzzz", nil, "repeated characters"},
		{"abcdefghijk", nil, "sequences"},
		{"mnbvcxzlkjhg", nil, "keyboard patterns"},
		{"ada@example.org1", []string{"ada@example.org"}, "your email address"},
		{"acme corp 2024", []string{"x@y.example", "ACME Corp"}, "your email address or the organisation's name"},
		{"correct horse battery", nil, ""},
		{"a brand new password", nil, ""},
		{"x7Qp2mZr9K", nil, ""},
		{"soak-password-81234", nil, ""},
	} {
		err := CheckNewPassword(tc.password, tc.related...)
		var we *WeakPasswordError
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%q: refused (%v), want accepted", tc.password, err)
		case tc.refused != "" && (!errors.As(err, &we) || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%q: got %v, want refused as %q", tc.password, err, tc.refused)
		case err != nil && strings.Contains(err.Error(), tc.password):
			t.Errorf("%q: the message repeats the password: %v", tc.password, err)
		}
	}
}

// BenchmarkCheckNewPassword: the estimator's cost for the longest
// password bcrypt takes, all one repeated pattern (its worst case).
func BenchmarkCheckNewPassword(b *testing.B) {
	for _, p := range map[string]string{
		"typical":  "a brand new password",
		"repeated": strings.Repeat("ab1", 24),
		"random":   "x7Qp2mZr9K-4hT4vN9wq2z-Kj8#mPq2vL-rubicon-ferret-sunrise-mountain-72",
	} {
		b.Run(p[:4], func(b *testing.B) {
			for b.Loop() {
				_ = CheckNewPassword(p, "ada@example.org", "ACME Corp")
			}
		})
	}
}
