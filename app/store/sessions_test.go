package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// rawRowsContain reports whether any column of any row of table holds s.
func rawRowsContain(t *testing.T, s *store.Store, table, needle string) bool {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), `SELECT * FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			var str string
			switch v := v.(type) {
			case string:
				str = v
			case []byte:
				str = string(v)
			}
			if str != "" && strings.Contains(str, needle) {
				found = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return found
}

func TestSessions(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, user, err := s.Setup(ctx, store.SetupParams{OrgName: "A", Email: "ada@example.org", Hash: mustHash(t, "pw")})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := s.CreateSession(ctx, org.ID, user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 43 {
			t.Errorf("raw token %d characters, want 43 (32 bytes base64url)", len(raw))
		}
		if rawRowsContain(t, s, "sessions", raw) {
			t.Error("the raw session token is stored in the sessions table")
		}
		if !rawRowsContain(t, s, "sessions", store.HashToken(raw)) {
			t.Error("the session token's hash is not stored")
		}
		ses, err := s.SessionByToken(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		if ses.OrgID != org.ID || ses.UserID != user.ID || ses.Role != store.RoleOwner || ses.Email != "ada@example.org" || ses.CSRFToken == "" {
			t.Errorf("session = %+v, want ada's owner session in A with a CSRF token", ses)
		}
		if d := ses.ExpiresAt.Sub(ses.CreatedAt); d != store.SessionIdleTimeout {
			t.Errorf("fresh session expires after %v, want %v", d, store.SessionIdleTimeout)
		}
		if _, err := s.SessionByToken(ctx, raw+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong token: got %v, want ErrNotFound", err)
		}

		// Sliding expiry: a session last seen long ago is moved forward on use,
		// but never past the absolute maximum age.
		old := time.Now().UTC().Add(-20 * 24 * time.Hour)
		if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE sessions SET created_at = ?, last_seen_at = ?`), old, old); err != nil {
			t.Fatal(err)
		}
		ses, err = s.SessionByToken(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := old.Add(store.SessionMaxAge); !ses.ExpiresAt.Equal(want.Truncate(time.Microsecond)) && ses.ExpiresAt.Sub(want).Abs() > time.Millisecond {
			t.Errorf("slid expiry = %v, want the absolute limit %v", ses.ExpiresAt, want)
		}

		// Expired sessions are refused.
		if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE sessions SET expires_at = ?`), time.Now().UTC().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, raw); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session: got %v, want ErrNotFound", err)
		}

		// Sign-out deletes the session.
		raw2, err := s.CreateSession(ctx, org.ID, user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, raw2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, raw2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted session: got %v, want ErrNotFound", err)
		}
	})
}

func TestSessionEndsWithMembership(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, user, err := s.Setup(ctx, store.SetupParams{OrgName: "A", Email: "ada@example.org", Hash: mustHash(t, "pw")})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := s.CreateSession(ctx, org.ID, user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, rebind(s, `DELETE FROM memberships WHERE user_id = ?`), user.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, raw); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session of a removed member: got %v, want ErrNotFound", err)
		}
	})
}
