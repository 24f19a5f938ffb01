package apply_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func example(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/pharos.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newOrg(t *testing.T, st *store.Store, slug string) int64 {
	t.Helper()
	o, err := st.CreateOrg(context.Background(), strings.ToUpper(slug), slug)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func mustApply(t *testing.T, st *store.Store, orgID int64, file string, dryRun bool) apply.Report {
	t.Helper()
	rep, err := apply.Apply(context.Background(), st, orgID, "pharos.yaml", []byte(file), dryRun, "test")
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return rep
}

func wantCounts(t *testing.T, rep apply.Report, created, changed, removed int) {
	t.Helper()
	if rep.Created != created || rep.Changed != changed || rep.Removed != removed {
		t.Errorf("got %s\n%s\nwant %d created, %d changed, %d removed", rep.Summary(), strings.Join(rep.Lines, "\n"), created, changed, removed)
	}
}

func TestApplyExampleTwice(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "acme-inc")
		rep := mustApply(t, st, org, example(t), false)
		// page, 2 groups, 3 components, 4 checks, 1 maintenance window
		wantCounts(t, rep, 11, 0, 0)
		if !contains(rep.Lines, `+ check "api health"`) || !contains(rep.Lines, `+ maintenance "weekly window"`) {
			t.Errorf("got lines %q, want the created check and window", rep.Lines)
		}
		if n := count(t, st, "audit_log", org); n != 11 {
			t.Errorf("got %d audit rows, want 11 (one per change)", n)
		}
		before := dump(t, st, org)

		rep = mustApply(t, st, org, example(t), false)
		wantCounts(t, rep, 0, 0, 0)
		if got, want := rep.Summary(), "apply: 0 created, 0 changed, 0 removed"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("second apply changed the database (-before +after):\n%s", diff)
		}

		page, err := st.PageBySlug(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		checks, err := st.Checks(context.Background(), org, page.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			if c.Name == "api health" {
				if c.Interval.String() != "30s" || c.Quorum != 2 || c.ConfirmRounds != 2 || len(c.Regions) != 3 {
					t.Errorf("got %+v, want interval 30s, quorum 2, confirm 2, 3 regions", c)
				}
			}
			if c.Name == "images standby" && fmt.Sprint(c.Regions) != "[fra]" {
				t.Errorf("got regions %v, want the check's own [fra]", c.Regions)
			}
		}
	})
}

func TestApplyChangeAndRemove(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "acme-inc")
		mustApply(t, st, org, example(t), false)

		changed := strings.Replace(example(t), "interval: 60s", "interval: 30s", 1)
		rep := mustApply(t, st, org, changed, false)
		wantCounts(t, rep, 0, 1, 0)
		if diff := cmp.Diff([]string{`~ check "images" (interval 1m → 30s)`}, rep.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}

		expect := strings.Replace(changed, `max_latency: 2s`, `max_latency: 1500ms`, 1)
		rep = mustApply(t, st, org, expect, false)
		if diff := cmp.Diff([]string{`~ check "api health" (expect.max_latency "2s" → "1.5s")`}, rep.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}

		removed := cut(t, expect, "      - name: images standby", "  - name: API")
		rep = mustApply(t, st, org, removed, false)
		wantCounts(t, rep, 0, 0, 1)
		if diff := cmp.Diff([]string{`- check "images standby"`}, rep.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if n := count(t, st, "checks", org); n != 3 {
			t.Errorf("got %d checks, want 3", n)
		}

		// Dropping the Console component removes it and changes the
		// window that covered it; the group Platform still has API.
		noConsole := cut(t, removed, "  - name: Console", "maintenance:")
		noConsole = strings.Replace(noConsole, "components: [API, Console]", "components: [API]", 1)
		rep = mustApply(t, st, org, noConsole, false)
		want := []string{
			`~ maintenance "weekly window" (components ["API","Console"] → ["API"])`,
			`- check "console login page"`,
			`- component "Console"`,
		}
		if diff := cmp.Diff(want, rep.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		rep = mustApply(t, st, org, noConsole, false)
		wantCounts(t, rep, 0, 0, 0)
	})
}

// cut removes the text from the line starting with from up to (not
// including) the line starting with to.
func cut(t *testing.T, s, from, to string) string {
	t.Helper()
	i, j := strings.Index(s, from+"\n"), strings.Index(s, to)
	if to == "" {
		j = len(s)
	}
	if i < 0 || j < i {
		t.Fatalf("cut: %q … %q not found", from, to)
	}
	return s[:i] + s[j:]
}

func TestBadFileChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "acme-inc")
		mustApply(t, st, org, example(t), false)
		before := dump(t, st, org)

		// Valid changes next to one bad URL: the whole file is refused.
		bad := strings.Replace(example(t), "title: ACME status", "title: New title", 1)
		bad = strings.Replace(bad, "url: https://api.acme.example/health", "url: https//api.acme.example/health", 1)
		bad = strings.Replace(bad, `schedule: "0 8 * * THU"`, `schedule: "0 8 * * THURSDAY"`, 1)
		_, err := apply.Apply(context.Background(), st, org, "pharos.yaml", []byte(bad), false, "test")
		var verr *apply.ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("got %v, want a *ValidationError", err)
		}
		urlLine, cronLine := lineOf(t, bad, "url: https//api"), lineOf(t, bad, "THURSDAY")
		if len(verr.Errors) != 2 || verr.Errors[0].Line != urlLine || verr.Errors[1].Line != cronLine {
			t.Errorf("got %v, want mistakes on lines %d (url) and %d (schedule)", verr.Errors, urlLine, cronLine)
		}
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("a refused file changed the database (-before +after):\n%s", diff)
		}
	})
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "acme-inc")
		before := dump(t, st, org)
		rep := mustApply(t, st, org, example(t), true)
		wantCounts(t, rep, 11, 0, 0)
		if got, want := rep.Summary(), "apply: 11 created, 0 changed, 0 removed (dry run, nothing written)"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("dry run wrote (-before +after):\n%s", diff)
		}

		mustApply(t, st, org, example(t), false)
		before = dump(t, st, org)
		rep = mustApply(t, st, org, strings.Replace(example(t), "duration: 2h", "duration: 3h", 1), true)
		if diff := cmp.Diff([]string{`~ maintenance "weekly window" (duration 2h → 3h)`}, rep.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("dry run wrote (-before +after):\n%s", diff)
		}
	})
}

func TestTenancy(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a, b := newOrg(t, st, "org-a"), newOrg(t, st, "org-b")
		mustApply(t, st, a, example(t), false)
		beforeA := dump(t, st, a)

		// B may not take A's slug, nor A's custom domain.
		_, err := apply.Apply(context.Background(), st, b, "b.yaml", []byte(example(t)), false, "b")
		var verr *apply.ValidationError
		slugLine := lineOf(t, example(t), "slug: acme")
		if !errors.As(err, &verr) || len(verr.Errors) != 2 || verr.Errors[0].Line != slugLine || !strings.Contains(verr.Errors[0].Message, "already taken") {
			t.Fatalf("got %v, want the slug (line %d) and domain refused", err, slugLine)
		}

		// B's own page with the same component and check names never
		// touches A's rows, and removing everything on it stays on B's page.
		own := strings.Replace(example(t), "slug: acme ", "slug: acme-b ", 1)
		own = strings.Replace(own, "domain: status.acme.example", "domain: status.b.example", 1)
		mustApply(t, st, b, own, false)
		emptied := cut(t, own, "components:", "maintenance:")
		emptied = cut(t, emptied, "maintenance:", "")
		rep := mustApply(t, st, b, emptied, false)
		wantCounts(t, rep, 0, 0, 10)
		if diff := cmp.Diff(beforeA, dump(t, st, a)); diff != "" {
			t.Errorf("B's applies changed A's rows (-before +after):\n%s", diff)
		}
	})
}

func TestApplyJSON(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "acme-inc")
		data, err := os.ReadFile("testdata/valid.json")
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{3, 0} {
			rep, err := apply.Apply(context.Background(), st, org, "valid.json", data, false, "test")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Created != want || rep.Changed != 0 || rep.Removed != 0 {
				t.Errorf("apply %d: got %s, want %d created", i+1, rep.Summary(), want)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// lineOf is the 1-based line of the first occurrence of substr.
func lineOf(t *testing.T, text, substr string) int {
	t.Helper()
	i := strings.Index(text, substr)
	if i < 0 {
		t.Fatalf("%q not found", substr)
	}
	return strings.Count(text[:i], "\n") + 1
}
