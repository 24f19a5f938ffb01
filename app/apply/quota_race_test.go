package apply_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestConcurrentAppliesShareOneQuota: eight applies at once, each adding
// a page with two checks, cannot together go beyond the organisation's
// limit of four checks: exactly two pass, the others are refused.
func TestConcurrentAppliesShareOneQuota(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org := newOrg(t, st, "racing")
		lim := apply.Limits{Checks: 4}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				file := quotaFile(fmt.Sprintf("page-%d", i), []int{2}, "c", "")
				_, errs[i] = apply.ApplyRequested(ctx, st, lim, org, "pharos.yaml", []byte(file), false, actor)
			})
		}
		wg.Wait()
		passed := 0
		for _, err := range errs {
			var ve *apply.ValidationError
			switch {
			case err == nil:
				passed++
			case !errors.As(err, &ve):
				t.Errorf("got %v, want a refusal or success", err)
			}
		}
		if n := count(t, st, "checks", org); n != 4 || passed != 2 {
			t.Errorf("got %d checks from %d applies, want 4 from 2 (limit 4)", n, passed)
		}
	})
}
