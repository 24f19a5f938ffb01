package views

import (
	"fmt"
	"net/http"
	"strings"
)

// statusText is an error page's heading, in the sentence case the pages
// use everywhere ("404 Not found", never "Not Found" beside "Not found.").
func statusText(code int) string {
	if t := sentenceCase(http.StatusText(code)); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

// errorMessage is the line under an error page's heading. A message that
// only repeats the status ("Not Found", "Not found.") is replaced by one
// that says something, so each page spells "not found" once.
func errorMessage(code int, message string) string {
	bare := strings.TrimSuffix(strings.TrimSpace(message), ".")
	if bare != "" && !strings.EqualFold(bare, http.StatusText(code)) {
		return message
	}
	if code == http.StatusNotFound {
		return "There is nothing at this address, or it belongs to another organisation."
	}
	return ""
}

// sentenceCase keeps the first letter of s and lowers the rest of each
// word's capitals ("Service Unavailable" → "Service unavailable").
func sentenceCase(s string) string {
	if len(s) < 2 {
		return s
	}
	return s[:1] + strings.ToLower(s[1:])
}
