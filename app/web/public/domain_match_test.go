package public

import "testing"

// TestRouteMatches: a route path matches request paths segment by segment,
// ":name" standing for one non-empty segment.
func TestRouteMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		route, path string
		want        bool
	}{
		{"/", "/", true}, {"/", "/x", false}, {"/", "", false},
		{"/history", "/history", true}, {"/history", "/history/", false}, {"/history", "/historyx", false},
		{"/incidents/:id", "/incidents/7", true}, {"/incidents/:id", "/incidents/", false},
		{"/incidents/:id", "/incidents/7/x", false}, {"/incidents/:id", "/incidents", false},
		{"/api/v2/summary.json", "/api/v2/summary.json", true}, {"/api/v2/summary.json", "/api/v2/status.json", false},
		{"/components/:id/badge.svg", "/components/3/badge.svg", true}, {"/components/:id/badge.svg", "/components/3/badge.json", false},
	} {
		if got := (Route{Path: tc.route}).matches(tc.path); got != tc.want {
			t.Errorf("route %q, path %q: got %v, want %v", tc.route, tc.path, got, tc.want)
		}
	}
}

func BenchmarkRouteMatches(b *testing.B) {
	r := Route{Path: "/components/:id/badge.svg"}
	for b.Loop() {
		r.matches("/p/acme/")
	}
}
