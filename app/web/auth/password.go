package auth

import (
	"fmt"
	"strings"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"

	"pharos/app/store"
)

// MinPasswordGuesses is how many guesses zxcvbn must estimate a new
// password to need. A billion is days of a GPU per account against the
// bcrypt hashes offline, and out of reach online under the sign-in limits.
// zxcvbn's own "score 3" starts a hundred times lower, at 1e8, which still
// lets two common words through ("correct horse" is about 1.5e8); a random
// ten-character password (1e10) passes.
const MinPasswordGuesses = 1e9

// WeakPasswordError is a new password refused by CheckNewPassword; its
// message says why, for the form or the terminal.
type WeakPasswordError struct{ Reason string }

func (e *WeakPasswordError) Error() string { return "the password " + e.Reason }

// CheckNewPassword refuses a password that is too short, too long for
// bcrypt, or too easy to guess: zxcvbn (a port of Dropbox's estimator)
// matches it against its lists of the most common leaked passwords,
// English words and names, keyboard patterns, sequences, repeats and
// dates, and against related, the account's own words (its email, the
// organisation's name). Nothing leaves the process.
func CheckNewPassword(password string, related ...string) error {
	switch {
	case len(password) < store.MinPasswordLen:
		return &WeakPasswordError{fmt.Sprintf("is too short: it needs at least %d characters", store.MinPasswordLen)}
	case len(password) > store.MaxPasswordBytes:
		return &WeakPasswordError{fmt.Sprintf("is too long: it may have at most %d bytes", store.MaxPasswordBytes)}
	}
	res := zxcvbn.PasswordStrength(password, relatedWords(related))
	if res.Guesses >= MinPasswordGuesses {
		return nil
	}
	return &WeakPasswordError{"is too easy to guess: " + weakness(password, res.Sequence) +
		". Choose a longer one, for example a few unrelated words"}
}

// relatedWords are the account's own words zxcvbn should treat as known
// to an attacker: each input, and an email's local part and domain labels.
func relatedWords(related []string) []string {
	var words []string
	for _, r := range related {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" {
			continue
		}
		words = append(words, r)
		if local, domain, ok := strings.Cut(r, "@"); ok {
			words = append(words, local)
			words = append(words, strings.Split(domain, ".")...)
		}
	}
	return words
}

// weakness names what made a password guessable, from the matches zxcvbn
// built it from, without repeating any part of it.
func weakness(password string, seq []*match.Match) string {
	if len(seq) == 1 && seq[0].Pattern == "dictionary" && seq[0].DictionaryName == "passwords" &&
		seq[0].I == 0 && seq[0].J == len(password)-1 {
		return "it is one of the most common passwords, found in lists of leaked passwords"
	}
	var parts []string
	seen := map[string]bool{}
	for _, m := range seq {
		p := matchKind(m)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		parts = append(parts, p)
	}
	switch len(parts) {
	case 0:
		return "it is short and simple"
	case 1:
		return "it is made of " + parts[0]
	}
	return "it is made of " + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func matchKind(m *match.Match) string {
	switch m.Pattern {
	case "dictionary":
		switch m.DictionaryName {
		case "passwords":
			return "common passwords from lists of leaked passwords"
		case "user_inputs":
			return "your email address or the organisation's name"
		case "female_names", "male_names", "surnames":
			return "common names"
		}
		return "common words"
	case "spatial":
		return "keyboard patterns (like qwerty)"
	case "repeat":
		return "repeated characters"
	case "sequence":
		return "sequences (like abc or 123)"
	case "regex", "date":
		return "dates or years"
	}
	return "" // bruteforce: the unguessable part
}
