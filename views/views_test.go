package views

import (
	"strings"
	"testing"
	"time"
)

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

// TestChartDrawsALonePoint: a series of one point (a check's first hour)
// is drawn as a dot, a zero-length segment with round caps, since a
// polyline of one point draws nothing; longer series are plain lines.
func TestChartDrawsALonePoint(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := LatencyChart{ID: "c", From: from, To: from.Add(24 * time.Hour), Series: []LatencySeries{
		{Name: "fra", Points: []LatencyPoint{{Start: from.Add(time.Hour), Count: 7, P50MS: 5, P95MS: 54}}},
		{Name: "iad", Points: []LatencyPoint{{Start: from, Count: 1, P50MS: 9, P95MS: 9}, {Start: from.Add(time.Hour), Count: 1, P50MS: 8, P95MS: 8}}},
	}}
	lines := c.Draw().Lines
	if len(lines) != 4 {
		t.Fatalf("%d lines, want p95 and p50 for two series", len(lines))
	}
	for _, l := range lines {
		pts := strings.Fields(l.Points)
		dot := strings.Contains(l.Class, "dot")
		switch {
		case strings.HasPrefix(l.Label, "fra") && (len(pts) != 2 || pts[0] != pts[1] || !dot):
			t.Errorf("%s: points %q, class %q; want one point twice, drawn as a dot", l.Label, l.Points, l.Class)
		case strings.HasPrefix(l.Label, "iad") && (len(pts) != 2 || pts[0] == pts[1] || dot):
			t.Errorf("%s: points %q, class %q; want two points as a line", l.Label, l.Points, l.Class)
		}
	}
}
