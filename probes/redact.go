package probes

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Problem messages travel further than the response they describe: into
// results, the console, alerts and public incident text. So a message
// never quotes more of a response than a short excerpt, and masks what
// looks like a secret in it — the response of a misconfigured or hostile
// target may carry tokens, keys and session cookies.

// responseExcerptLimit is the most characters of a response value a
// message quotes.
const responseExcerptLimit = 16

// redacted stands in for a masked secret.
const redacted = "[redacted]"

var (
	// credentialPair is key=value or "key": "value" with a key that names
	// a credential; the value is masked, the key kept so the operator sees
	// what was there.
	credentialPair = regexp.MustCompile(`(?i)((?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth(?:orization)?|session(?:id)?|cookie|credentials?|signature|sig|key)["']?\s*[:=]\s*["']?)((?:(?i:bearer|basic|token)\s+)?[^\s"'&,;}]+)`)
	// authScheme is an Authorization-style value: Bearer xyz, Basic xyz.
	authScheme = regexp.MustCompile(`(?i)\b(bearer|basic|token|oauth)\s+[^\s"',;]+`)
	// longToken is a run of token characters long enough to be a key, a
	// JWT or a hash; masked when it mixes letters and digits.
	longToken = regexp.MustCompile(`[A-Za-z0-9+/=_\-.~]{20,}`)
	// pemBlock is anything from a PEM header on.
	pemBlock = regexp.MustCompile(`-----BEGIN[^-]*-----[\s\S]*`)
)

// redactSecrets masks what looks like a secret in s: PEM blocks,
// credential key=value pairs, Authorization-style values and long mixed
// tokens.
func redactSecrets(s string) string {
	s = pemBlock.ReplaceAllString(s, redacted)
	s = credentialPair.ReplaceAllString(s, "${1}"+redacted)
	s = authScheme.ReplaceAllString(s, "${1} "+redacted)
	return longToken.ReplaceAllStringFunc(s, func(tok string) string {
		if tok == redacted || !strings.ContainsAny(tok, "0123456789") || !strings.ContainsFunc(tok, isLetter) {
			return tok
		}
		return redacted
	})
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// shortExcerpt is s redacted, with whitespace collapsed, cut at
// responseExcerptLimit characters ("…" marks a cut).
func shortExcerpt(s string) string {
	s = redactSecrets(strings.TrimSpace(collapse(s)))
	if cut := keepRunes(s, responseExcerptLimit, false); cut != s {
		return cut + "…"
	}
	return s
}

// collapse makes s valid UTF-8 with its whitespace runs as single spaces.
func collapse(s string) string { return whitespace.ReplaceAllString(strings.ToValidUTF8(s, ""), " ") }

var whitespace = regexp.MustCompile(`\s+`)

// keepRunes keeps n runes of s from its start (or, fromEnd, its end),
// moving the cut out of a redaction mark rather than splitting it.
func keepRunes(s string, n int, fromEnd bool) string {
	count := utf8.RuneCountInString(s)
	if count <= n {
		return s
	}
	skip := n
	if fromEnd {
		skip = count - n
	}
	cut := len(s)
	for i := range s {
		if skip == 0 {
			cut = i
			break
		}
		skip--
	}
	for _, loc := range redactedMark.FindAllStringIndex(s, -1) {
		if loc[0] < cut && cut < loc[1] {
			if fromEnd {
				cut = loc[0]
			} else {
				cut = loc[1]
			}
		}
	}
	if fromEnd {
		return s[cut:]
	}
	return s[:cut]
}

var redactedMark = regexp.MustCompile(regexp.QuoteMeta(redacted))

// describeJSON names the JSON value found at path in a response for a
// message: its type and, for a scalar, a short redacted excerpt — none at
// all when the path names a credential. Objects and arrays are described
// by their size only.
func describeJSON(path string, v any) string {
	if s, ok := v.(string); ok && sensitiveName(path) {
		return fmt.Sprintf("a string of %s (%s: the path names a credential)", plural(utf8.RuneCountInString(s), "character"), redacted)
	}
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprint(v)
	case string:
		return fmt.Sprintf("the string %q (%s)", shortExcerpt(v), plural(utf8.RuneCountInString(v), "character"))
	case map[string]any:
		return "an object of " + plural(len(v), "key")
	case []any:
		return "an array of " + plural(len(v), "value")
	}
	if f, ok := toFloat(v); ok {
		return "the number " + shortExcerpt(fmt.Sprint(f))
	}
	return fmt.Sprintf("a %T", v)
}

// bodyExcerpt is body[i:i+n] (a text the operator configured) with at most
// half of responseExcerptLimit characters of redacted context on each
// side, for a body_mismatch message. Each side is redacted over a wider
// window before it is cut, so a secret next to the match is masked even
// when only its end would show.
func bodyExcerpt(body []byte, i, n int) string {
	const around, window = responseExcerptLimit / 2, 64
	lo, hi := max(0, i-window), min(len(body), i+n+window)
	fullBefore := redactSecrets(collapse(string(body[lo:i])))
	fullAfter := redactSecrets(collapse(string(body[i+n : hi])))
	before, after := keepRunes(fullBefore, around, true), keepRunes(fullAfter, around, false)
	s := before + string(body[i:i+n]) + after
	if lo > 0 || before != fullBefore {
		s = "…" + s
	}
	if hi < len(body) || after != fullAfter {
		s += "…"
	}
	return s
}

// sensitiveHeader reports whether a response header's values are never
// quoted: cookies, credentials and anything named like a key or token.
func sensitiveHeader(name string) bool {
	switch strings.ToLower(name) {
	case "set-cookie", "cookie", "www-authenticate", "proxy-authenticate":
		return true
	}
	return sensitiveName(name)
}

// sensitiveName reports whether a header name or JSON path names a
// credential.
func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "secret", "key", "auth", "session", "passw", "pwd", "credential", "signature", "cookie"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
