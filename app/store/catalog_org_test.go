package store_test

import (
	"context"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestOrgComponentsAndChecksAreOrgScoped(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgA, checkA := storetest.SeedCheck(t, s)
		if _, err := s.CreateOrg(ctx, "Other", "other"); err != nil {
			t.Fatal(err)
		}
		other, err := s.OrgBySlug(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		comps, err := s.OrgComponents(ctx, orgA)
		if err != nil {
			t.Fatal(err)
		}
		checks, err := s.OrgChecks(ctx, orgA)
		if err != nil {
			t.Fatal(err)
		}
		if len(comps) != 1 || len(checks) != 1 || checks[0].ID != checkA || checks[0].ComponentID != comps[0].ID {
			t.Errorf("org A: got %d components, %d checks %+v; want its one component and check %d", len(comps), len(checks), checks, checkA)
		}
		if comps, err := s.OrgComponents(ctx, other.ID); err != nil || len(comps) != 0 {
			t.Errorf("other org components: got %d, %v; want none", len(comps), err)
		}
		if checks, err := s.OrgChecks(ctx, other.ID); err != nil || len(checks) != 0 {
			t.Errorf("other org checks: got %d, %v; want none", len(checks), err)
		}
	})
}
