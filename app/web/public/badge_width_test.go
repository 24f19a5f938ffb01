package public

import "testing"

// TestBadgeTextWidth: widths match shields.io's for texts whose badges are
// known (its "build | passing" badge: 37 + 51 px) and anafanafo's
// measurement of "v1.2.511" in 11 px Verdana (49.48 px).
func TestBadgeTextWidth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want int
	}{
		{"build", 27}, {"passing", 41}, {"v1.2.511", 49}, {"m", 11}, {"", 0},
	} {
		if got := textWidth(tc.text); got != tc.want {
			t.Errorf("textWidth(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
}
