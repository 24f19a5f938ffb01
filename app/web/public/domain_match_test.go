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

// TestRouteIndex: the index answers as a scan of every route would,
// including for routes whose first segment is a parameter.
func TestRouteIndex(t *testing.T) {
	t.Parallel()
	routes := []Route{{Path: "/"}, {Path: "/history"}, {Path: "/incidents/:id"}, {Path: "/api/v2/summary.json"},
		{Path: "/api/v2/status.json"}, {Path: "/components/:id/badge.svg"}, {Path: "/:lang/about"}}
	ix := newRouteIndex(routes)
	for _, p := range []string{"", "/", "//", "/history", "/history/", "/incidents/7", "/incidents/", "/api/v2/summary.json",
		"/api/v2/status.json", "/api/v2/other.json", "/api", "/components/3/badge.svg", "/en/about", "/en/about/x",
		"/about", "/p/acme/", "/p/acme/api/v2/summary.json", "/admin/", "history"} {
		want := false
		for _, r := range routes {
			want = want || r.matches(p)
		}
		if got := ix.matches(p); got != want {
			t.Errorf("path %q: index says %v, the routes %v", p, got, want)
		}
	}
	if !ix.matches("/en/about") || ix.matches("/p/acme/") {
		t.Error("the cases above do not cover a parameter route that matches and a path that matches nothing")
	}
}
