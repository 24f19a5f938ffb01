package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestUnavailable: a closed database and a refused connection are
// unavailable; not found and a bad query are not.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, err := s.Check(ctx, 1, 424242)
		if !errors.Is(err, store.ErrNotFound) || store.Unavailable(err) {
			t.Errorf("not found: %v, Unavailable %v", err, store.Unavailable(err))
		}
		_, err = s.DB().ExecContext(ctx, "SELECT no_such_column FROM checks")
		if err == nil || store.Unavailable(err) {
			t.Errorf("bad query: %v, Unavailable %v", err, store.Unavailable(err))
		}
		if err := s.DB().Close(); err != nil {
			t.Fatal(err)
		}
		_, err = s.Check(ctx, 1, 1)
		if !store.Unavailable(err) {
			t.Errorf("closed database: %v, want Unavailable", err)
		}
	})
	refused, err := store.Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		_, err = refused.Check(context.Background(), 1, 1)
	}
	if !store.Unavailable(fmt.Errorf("wrapped: %w", err)) {
		t.Errorf("refused connection: %v, want Unavailable", err)
	}
}
