package store_test

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// A job run twice (reclaimed from a slow or cut-off worker) yields two
// results with different ids; only the first is stored.
func TestInsertResultsStoresOneResultPerJob(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		org, check := storetest.SeedCheck(t, s)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		row := func(id, job string) store.ResultRow {
			return store.ResultRow{ID: id, JobID: job, OrgID: org, CheckID: check, Region: "fra", State: "up",
				CheckedAt: at, ReceivedAt: at}
		}
		got := insert(t, s, []store.ResultRow{row("r1", "job-1"), row("r2", "job-2"), row("r3", "")})
		sort.Strings(got)
		if diff := cmp.Diff([]string{"r1", "r2", "r3"}, got); diff != "" {
			t.Errorf("first batch (-want +got):\n%s", diff)
		}
		// A second run of job-1, a duplicate of the same job within one
		// batch, and rows without a job (never collide with each other).
		got = insert(t, s, []store.ResultRow{row("r4", "job-1"), row("r5", "job-3"), row("r6", "job-3"), row("r7", ""), row("r8", "")})
		sort.Strings(got)
		if len(got) == 3 && got[0] == "r6" {
			got[0] = "r5" // either copy of job-3 may be the one kept
		}
		if diff := cmp.Diff([]string{"r5", "r7", "r8"}, got); diff != "" {
			t.Errorf("second batch (-want +got):\n%s", diff)
		}
	})
}
