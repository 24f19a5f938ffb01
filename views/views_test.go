package views

import "testing"

// TestErrorWording: an error page spells its status one way, and a
// message that only repeats it gives way to one that says something.
func TestErrorWording(t *testing.T) {
	for _, tc := range []struct {
		code           int
		message        string
		heading, under string
	}{
		{404, "Not Found", "404 Not found", "There is nothing at this address, or it belongs to another organisation."},
		{404, "Not found.", "404 Not found", "There is nothing at this address, or it belongs to another organisation."},
		{404, "That invitation was revoked.", "404 Not found", "That invitation was revoked."},
		{503, "Service Unavailable", "503 Service unavailable", ""},
		{403, "Your role (viewer) may not do this; it needs editor.", "403 Forbidden", "Your role (viewer) may not do this; it needs editor."},
		{599, "", "599", ""},
	} {
		if got := statusText(tc.code); got != tc.heading {
			t.Errorf("statusText(%d) = %q, want %q", tc.code, got, tc.heading)
		}
		if got := errorMessage(tc.code, tc.message); got != tc.under {
			t.Errorf("errorMessage(%d, %q) = %q, want %q", tc.code, tc.message, got, tc.under)
		}
	}
}
