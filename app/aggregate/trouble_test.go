package aggregate

import (
	"testing"

	"pharos/app/incident"
	"pharos/app/store/storetest"
)

// An incident's decoded auto_state is reused while its text is the same,
// decoded again when it changes, and the cache stays bounded.
func TestAutoStateOfFollowsTheText(t *testing.T) {
	t.Parallel()
	a, err := New(storetest.SQLite(t), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	one := `{"checks":[{"id":1,"state":"down"}]}`
	two := `{"checks":[{"id":1,"state":"down"},{"id":2,"state":"degraded"}]}`
	ids := func(st autoState) (out []int64) {
		for _, c := range st.Checks {
			out = append(out, c.ID)
		}
		return out
	}
	for _, step := range []struct {
		raw  string
		want int
	}{{one, 1}, {one, 1}, {two, 2}, {one, 1}, {"", 0}} {
		if got := a.autoStateOf(7, step.raw); len(got.Checks) != step.want {
			t.Fatalf("autoStateOf(7, %q): checks %v, want %d", step.raw, ids(got), step.want)
		}
	}
	if st := a.autoStateOf(7, two); st.worst() != incident.Down {
		t.Errorf("worst of %v: got %s, want down", ids(st), st.worst())
	}
	for id := range int64(3 * maxDecodedStates) {
		a.autoStateOf(id, one)
	}
	if n := len(a.autoStates); n > maxDecodedStates {
		t.Errorf("cache holds %d states, want at most %d", n, maxDecodedStates)
	}
}
