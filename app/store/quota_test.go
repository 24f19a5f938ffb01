package store_test

import (
	"context"
	"errors"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestLockOrgHoldings counts one organisation's rows, not another's, and
// an unknown organisation is not found.
func TestLockOrgHoldings(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, _ := storetest.SeedCheck(t, s)
		other, err := s.CreateOrg(ctx, "Other", "other")
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			org  int64
			want store.Holdings
		}{{org, store.Holdings{Pages: 1, Components: 1, Checks: 1}}, {other.ID, store.Holdings{}}} {
			var got store.Holdings
			err := s.InTx(ctx, func(tx *store.Tx) (err error) {
				got, err = tx.LockOrgHoldings(ctx, tt.org)
				return err
			})
			if err != nil || got != tt.want {
				t.Errorf("organisation %d: got %+v, %v; want %+v", tt.org, got, err, tt.want)
			}
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.LockOrgHoldings(ctx, other.ID+100)
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown organisation: got %v, want ErrNotFound", err)
		}
	})
}
