package apply_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// quotaFile is a page with one component per entry of checks, holding
// that many checks named prefix-1, prefix-2…, every interval (none: left
// out).
func quotaFile(slug string, checks []int, prefix, interval string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "page: {slug: %s, title: Quota}\ncomponents:\n", slug)
	n := 0
	for i, k := range checks {
		fmt.Fprintf(&b, "  - name: C%d\n", i+1)
		if k == 0 {
			continue
		}
		b.WriteString("    checks:\n")
		for range k {
			n++
			fmt.Fprintf(&b, "      - name: %s-%d\n        url: https://api.acme.io/%d\n", prefix, n, n)
			if interval != "" {
				fmt.Fprintf(&b, "        interval: %s\n", interval)
			}
		}
	}
	return b.String()
}

// refused asserts err refuses the file with exactly want.
func refused(t *testing.T, err error, want ...apply.FieldError) {
	t.Helper()
	var ve *apply.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a refusal %v", err, want)
	}
	if diff := cmp.Diff(want, ve.Errors); diff != "" {
		t.Errorf("refusal (-want +got):\n%s", diff)
	}
}

var quotaLimits = apply.Limits{Checks: 3, Components: 2, Pages: 1, MinInterval: 30 * time.Second}

// TestApplyQuotas: through the API's apply, a file exactly at each limit
// passes, one beyond any limit is refused whole (dry run too) with the
// limit, its value and its variable, and nothing is written; replacing
// checks is measured by what the page keeps, and an organisation over a
// lowered limit may still apply what does not add to it.
func TestApplyQuotas(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org, other := newOrg(t, st, "quota"), newOrg(t, st, "other")
		do := func(lim apply.Limits, file string, dryRun bool) (apply.Report, error) {
			return apply.ApplyRequested(ctx, st, lim, org, "pharos.yaml", []byte(file), dryRun, actor)
		}
		// Another organisation's rows are its own business.
		mustApply(t, st, other, quotaFile("elsewhere", []int{3, 2}, "x", "30s"), false)

		atLimit := quotaFile("shop", []int{2, 1}, "a", "30s")
		rep, err := do(quotaLimits, atLimit, false)
		if err != nil {
			t.Fatalf("at every limit: %v", err)
		}
		wantCounts(t, rep, 6, 0, 0)
		before := dump(t, st, org)

		// Three new checks for three old ones: never six at once.
		replaced := quotaFile("shop", []int{1, 2}, "b", "1m")
		if rep, err = do(quotaLimits, replaced, true); err != nil {
			t.Fatalf("replacing every check, dry run: %v", err)
		}
		wantCounts(t, rep, 3, 0, 3)

		for _, tt := range []struct {
			name string
			lim  apply.Limits
			file string
			want func(file string) apply.FieldError
		}{
			{"checks", quotaLimits, quotaFile("shop", []int{2, 2}, "a", "30s"), func(f string) apply.FieldError {
				return apply.FieldError{Line: lineOf(t, f, "a-4"), Path: "checks",
					Message: "4 checks would exceed this organisation's limit of 3 (PHAROS_MAX_CHECKS)"}
			}},
			{"thousands", apply.Limits{Checks: 1000}, quotaFile("shop", []int{1001}, "a", ""), func(f string) apply.FieldError {
				return apply.FieldError{Line: lineOf(t, f, "a-1001"), Path: "checks",
					Message: "1,001 checks would exceed this organisation's limit of 1,000 (PHAROS_MAX_CHECKS)"}
			}},
			{"components", quotaLimits, quotaFile("shop", []int{1, 1, 0}, "a", "30s"), func(f string) apply.FieldError {
				return apply.FieldError{Line: lineOf(t, f, "C3"), Path: "components",
					Message: "3 components would exceed this organisation's limit of 2 (PHAROS_MAX_COMPONENTS)"}
			}},
			{"pages", apply.Limits{Pages: 1}, quotaFile("blog", []int{0}, "a", ""), func(f string) apply.FieldError {
				return apply.FieldError{Line: 1, Path: "pages",
					Message: "2 pages would exceed this organisation's limit of 1 (PHAROS_MAX_PAGES)"}
			}},
			{"interval", quotaLimits, quotaFile("shop", []int{1}, "a", "10s"), func(f string) apply.FieldError {
				return apply.FieldError{Line: lineOf(t, f, "interval: 10s"), Path: "components[0].checks[0].interval",
					Message: "10s is more often than this service allows: the shortest interval is 30s (PHAROS_MIN_INTERVAL)"}
			}},
			// Below the format's own floor too: the range stated is the
			// one this service allows.
			{"interval out of range", quotaLimits, quotaFile("shop", []int{1}, "a", "5s"), func(f string) apply.FieldError {
				return apply.FieldError{Line: lineOf(t, f, "interval: 5s"), Path: "components[0].checks[0].interval",
					Message: "5s is out of range (30s to 24h)"}
			}},
			{"default interval", apply.Limits{MinInterval: 2 * time.Minute}, quotaFile("shop", []int{1}, "a", ""), func(f string) apply.FieldError {
				return apply.FieldError{Line: lineOf(t, f, "- name: a-1"), Path: "components[0].checks[0]",
					Message: "1m (the default) is more often than this service allows: the shortest interval is 2m (PHAROS_MIN_INTERVAL)"}
			}},
		} {
			for _, dryRun := range []bool{true, false} {
				_, err := do(tt.lim, tt.file, dryRun)
				refused(t, err, tt.want(tt.file))
			}
			if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
				t.Errorf("%s: a refused apply wrote (-before +after):\n%s", tt.name, diff)
			}
		}

		// Lowered below what the organisation has: it may keep it, or
		// shrink, but not grow.
		lowered := apply.Limits{Checks: 1, Components: 1}
		if _, err := do(lowered, atLimit, false); err != nil {
			t.Errorf("unchanged file over a lowered limit: %v", err)
		}
		if _, err := do(lowered, quotaFile("shop", []int{2}, "a", "30s"), false); err != nil {
			t.Errorf("shrinking over a lowered limit: %v", err)
		}
		grow := quotaFile("shop", []int{3}, "a", "30s")
		_, err = do(lowered, grow, false)
		refused(t, err, apply.FieldError{Line: lineOf(t, grow, "a-2"), Path: "checks",
			Message: "3 checks would exceed this organisation's limit of 1 (PHAROS_MAX_CHECKS)"})
	})
}

// TestCommandQuota: `pharos apply` refuses a file beyond a limit whole,
// printing the limit at its line, and writes nothing.
func TestCommandQuota(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		org := newOrg(t, st, "cli-quota")
		file := quotaFile("shop", []int{2, 2}, "a", "30s")
		var out, errOut strings.Builder
		code := apply.Command(context.Background(), st, quotaLimits, []string{"-f", "-"}, strings.NewReader(file), &out, &errOut)
		want := fmt.Sprintf("-:%d: checks: 4 checks would exceed this organisation's limit of 3 (PHAROS_MAX_CHECKS)\n"+
			"pharos apply: - refused (1 mistake(s)), nothing written\n", lineOf(t, file, "a-4"))
		if code != 1 || errOut.String() != want {
			t.Errorf("got exit %d, stderr %q; want 1, %q", code, errOut.String(), want)
		}
		if n := count(t, st, "checks", org); n != 0 {
			t.Errorf("a refused apply wrote %d checks", n)
		}

		file = quotaFile("shop", []int{1}, "a", "5s")
		errOut.Reset()
		code = apply.Command(context.Background(), st, quotaLimits, []string{"-f", "-"}, strings.NewReader(file), &out, &errOut)
		want = fmt.Sprintf("-:%d: components[0].checks[0].interval: 5s is out of range (30s to 24h)\n"+
			"pharos apply: - refused (1 mistake(s)), nothing written\n", lineOf(t, file, "interval: 5s"))
		if code != 1 || errOut.String() != want {
			t.Errorf("interval 5s: got exit %d, stderr %q; want 1, %q", code, errOut.String(), want)
		}
	})
}

// TestFormQuotas: the console's forms add a page, component or check up
// to each limit and refuse the next with the same words, for the form as
// a whole; a check's interval below the minimum is refused beside its
// field, when created or edited.
func TestFormQuotas(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org := newOrg(t, st, "form-quota")
		lim := apply.Limits{Checks: 1, Components: 1, Pages: 1, MinInterval: time.Minute}
		pg, err := apply.SavePage(ctx, st, lim, org, actor, 0, apply.Fields{"slug": "one", "title": "One"})
		if err != nil {
			t.Fatalf("first page: %v", err)
		}
		comp, err := apply.SaveComponent(ctx, st, lim, org, actor, pg.ID, 0, apply.Fields{"name": "API"})
		if err != nil {
			t.Fatalf("first component: %v", err)
		}
		check := apply.Fields{"component": fmt.Sprint(comp.ID), "name": "health", "url": "https://api.example.org/", "interval": "30s"}
		_, err = apply.SaveCheck(ctx, st, lim, org, actor, pg.ID, 0, check)
		wantForm(t, err, apply.FieldError{Path: "interval",
			Message: "30s is more often than this service allows: the shortest interval is 1m (PHAROS_MIN_INTERVAL)"})
		check["interval"] = "5s"
		_, err = apply.SaveCheck(ctx, st, lim, org, actor, pg.ID, 0, check)
		wantForm(t, err, apply.FieldError{Path: "interval", Message: "5s is out of range (1m to 24h)"})
		check["interval"] = ""
		chk, err := apply.SaveCheck(ctx, st, lim, org, actor, pg.ID, 0, check)
		if err != nil {
			t.Fatalf("first check at the default interval: %v", err)
		}
		check["interval"] = "45s"
		_, err = apply.SaveCheck(ctx, st, lim, org, actor, pg.ID, chk.ID, check)
		wantForm(t, err, apply.FieldError{Path: "interval",
			Message: "45s is more often than this service allows: the shortest interval is 1m (PHAROS_MIN_INTERVAL)"})
		check["interval"] = "2m"
		if _, err := apply.SaveCheck(ctx, st, lim, org, actor, pg.ID, chk.ID, check); err != nil {
			t.Errorf("editing the only check: %v", err)
		}
		before := dump(t, st, org)

		_, err = apply.SavePage(ctx, st, lim, org, actor, 0, apply.Fields{"slug": "two", "title": "Two"})
		wantForm(t, err, apply.FieldError{Message: "2 pages would exceed this organisation's limit of 1 (PHAROS_MAX_PAGES)"})
		_, err = apply.SaveComponent(ctx, st, lim, org, actor, pg.ID, 0, apply.Fields{"name": "Web"})
		wantForm(t, err, apply.FieldError{Message: "2 components would exceed this organisation's limit of 1 (PHAROS_MAX_COMPONENTS)"})
		check["name"] = "second"
		_, err = apply.SaveCheck(ctx, st, lim, org, actor, pg.ID, 0, check)
		wantForm(t, err, apply.FieldError{Message: "2 checks would exceed this organisation's limit of 1 (PHAROS_MAX_CHECKS)"})
		if diff := cmp.Diff(before, dump(t, st, org)); diff != "" {
			t.Errorf("refused forms wrote (-before +after):\n%s", diff)
		}
	})
}

func wantForm(t *testing.T, err error, want ...apply.FieldError) {
	t.Helper()
	got := apply.FormError(err)
	if got == nil {
		t.Fatalf("got %v, want the form refused with %v", err, want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("form refusal (-want +got):\n%s", diff)
	}
}
