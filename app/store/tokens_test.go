package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := s.CreateOrg(ctx, "A", "a")
		b, _ := s.CreateOrg(ctx, "B", "b")
		tok, raw, err := s.CreateToken(ctx, a.ID, "ci", store.RoleEditor, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "phr_") || len(raw) != 4+43 || !strings.HasPrefix(raw, tok.Prefix) || len(tok.Prefix) >= 16 {
			t.Errorf("raw %q prefix %q: want phr_ + 43 characters and a short display prefix", raw, tok.Prefix)
		}
		if rawRowsContain(t, s, "api_tokens", raw) || rawRowsContain(t, s, "api_tokens", raw[len(tok.Prefix):]) {
			t.Error("the raw token's secret part is stored in api_tokens")
		}
		got, err := s.TokenByRaw(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tok.ID || got.OrgID != a.ID || got.Role != store.RoleEditor || got.LastUsedAt == nil {
			t.Errorf("TokenByRaw = %+v, want token %d of A, editor, marked used", got, tok.ID)
		}
		for _, bad := range []string{"", "phr_", raw + "x", strings.TrimPrefix(raw, "phr_")} {
			if _, err := s.TokenByRaw(ctx, bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TokenByRaw(%q): got %v, want ErrNotFound", bad, err)
			}
		}
		if _, _, err := s.CreateToken(ctx, a.ID, " ", store.RoleEditor, 0); err == nil {
			t.Error("token without a name created")
		}
		if _, _, err := s.CreateToken(ctx, a.ID, "x", store.Role("root"), 0); err == nil {
			t.Error("token with an unknown role created")
		}

		// Another organisation can neither list nor revoke it.
		if list, err := s.Tokens(ctx, b.ID); err != nil || len(list) != 0 {
			t.Errorf("B's tokens = %+v, %v; want none", list, err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.RevokeToken(ctx, b.ID, tok.ID); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B revoking A's token: got %v, want ErrNotFound", err)
		}
		if _, err := s.TokenByRaw(ctx, raw); err != nil {
			t.Errorf("token unusable after a foreign revoke attempt: %v", err)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.RevokeToken(ctx, a.ID, tok.ID); err != nil {
				return err
			}
			return tx.Audit(ctx, a.ID, store.CLIActor(), "token.revoke", "token ci", map[string]any{"id": tok.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenByRaw(ctx, raw); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked token: got %v, want ErrNotFound", err)
		}
		list, err := s.Tokens(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].RevokedAt == nil {
			t.Errorf("A's tokens = %+v, want the one revoked token", list)
		}
		log, err := s.AuditLog(ctx, a.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Actor != "cli" || log[0].Action != "token.revoke" || string(log[0].Detail) != `{"id":`+itoa(tok.ID)+`}` {
			t.Errorf("A's audit log = %+v, want one token.revoke row by cli", log)
		}
		if log, _ := s.AuditLog(ctx, b.ID, 0); len(log) != 0 {
			t.Errorf("B's audit log = %+v, want empty", log)
		}
	})
}

func TestSetCheckEnabledIsOrgScoped(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := s.CreateOrg(ctx, "A", "a")
		b, _ := s.CreateOrg(ctx, "B", "b")
		checkID := insertCheck(t, s, a.ID)
		set := func(org int64, enabled bool) (bool, error) {
			var changed bool
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				changed, err = tx.SetCheckEnabled(ctx, org, checkID, enabled)
				return err
			})
			return changed, err
		}
		if _, err := set(b.ID, false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B pausing A's check: got %v, want ErrNotFound", err)
		}
		if changed, err := set(a.ID, false); err != nil || !changed {
			t.Errorf("pause: changed=%v err=%v, want true, nil", changed, err)
		}
		if changed, err := set(a.ID, false); err != nil || changed {
			t.Errorf("pause again: changed=%v err=%v, want false, nil", changed, err)
		}
		c, err := s.Check(ctx, a.ID, checkID)
		if err != nil || c.Enabled {
			t.Errorf("check after pause = %+v, %v; want disabled", c, err)
		}
	})
}

// insertCheck creates a page, component and check in org and returns the
// check's id.
func insertCheck(t *testing.T, s *store.Store, orgID int64) int64 {
	t.Helper()
	ctx := context.Background()
	db := s.DB()
	var pageID, compID, checkID int64
	slug := "p" + itoa(orgID)
	if err := db.QueryRowContext(ctx, rebind(s, `INSERT INTO pages (org_id, slug, title) VALUES (?, ?, ?) RETURNING id`),
		orgID, slug, "Page").Scan(&pageID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, rebind(s, `INSERT INTO components (org_id, page_id, name) VALUES (?, ?, ?) RETURNING id`),
		orgID, pageID, "API").Scan(&compID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, rebind(s, `INSERT INTO checks (org_id, page_id, component_id, name, url) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		orgID, pageID, compID, "health", "https://api.example.org/health").Scan(&checkID); err != nil {
		t.Fatal(err)
	}
	return checkID
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
