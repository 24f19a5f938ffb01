package store_test

import (
	"context"
	"errors"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestMigrateIsRepeatable(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		n, err := s.Migrate(context.Background())
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if n != 0 {
			t.Errorf("second migrate applied %d migrations, want 0", n)
		}
	})
}

func TestOrgs(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, err := s.CreateOrg(ctx, "ACME", "acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateOrg(ctx, "Other ACME", "acme"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate slug: got %v, want ErrConflict", err)
		}
		got, err := s.OrgBySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Name != "ACME" {
			t.Errorf("got %+v, want %+v", got, a)
		}
		if _, err := s.Org(ctx, a.ID+100); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing org: got %v, want ErrNotFound", err)
		}
	})
}

func TestRoleAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, need store.Role
		want       bool
	}{
		{store.RoleOwner, store.RoleOwner, true},
		{store.RoleOwner, store.RoleViewer, true},
		{store.RoleEditor, store.RoleEditor, true},
		{store.RoleEditor, store.RoleOwner, false},
		{store.RoleViewer, store.RoleEditor, false},
		{store.RoleViewer, store.RoleViewer, true},
		{store.Role("admin"), store.RoleViewer, false},
		{store.RoleOwner, store.Role(""), false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.need, got, tt.want)
		}
	}
}
