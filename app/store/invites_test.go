package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

func invite(t *testing.T, s *store.Store, org int64, email string, role store.Role, by int64) (store.Invite, string) {
	t.Helper()
	var inv store.Invite
	var raw string
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		inv, raw, err = tx.CreateInvite(context.Background(), org, email, role, by)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv, raw
}

func accept(s *store.Store, raw string, userID int64) (store.Invite, error) {
	var inv store.Invite
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		inv, err = tx.AcceptInvite(context.Background(), raw, userID)
		return err
	})
	return inv, err
}

func TestInviteLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleOwner)
		_, others := team(t, s, "other", store.RoleOwner)

		inv, raw := invite(t, s, org, " New@Example.org ", store.RoleEditor, ids[0])
		if inv.Email != "new@example.org" || inv.ExpiresAt.Sub(inv.CreatedAt) != store.InviteTTL {
			t.Errorf("invite = %+v, want a normalised email and a %v lifetime", inv, store.InviteTTL)
		}
		var stored string
		if err := s.DB().QueryRowContext(ctx, rebind(s, `SELECT token_hash FROM invites WHERE id = ?`), inv.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == raw || stored != store.HashToken(raw) {
			t.Error("the invitation's token is not stored hashed")
		}
		got, err := s.InviteByToken(ctx, raw)
		if err != nil || got.OrgName != "acme" || got.Role != store.RoleEditor || got.State(time.Now()) != store.InvitePending {
			t.Fatalf("InviteByToken = %+v, %v; want acme's pending editor invitation", got, err)
		}
		if open, _ := s.OpenInvites(ctx, org); len(open) != 1 {
			t.Errorf("open invitations = %d, want 1", len(open))
		}
		if _, err := s.InviteByToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown token: got %v, want ErrNotFound", err)
		}

		if _, err := accept(s, raw, others[0]); err != nil {
			t.Fatalf("accept: %v", err)
		}
		if _, err := accept(s, raw, others[0]); !errors.Is(err, store.ErrLinkSpent) {
			t.Errorf("accept twice: got %v, want ErrLinkSpent", err)
		}
		if got, _ := s.InviteByToken(ctx, raw); got.State(time.Now()) != store.InviteAccepted || got.AcceptedBy != others[0] {
			t.Errorf("after accepting: %+v, want accepted by %d", got, others[0])
		}
		if open, _ := s.OpenInvites(ctx, org); len(open) != 0 {
			t.Errorf("open invitations after accepting = %d, want 0", len(open))
		}
		if _, err := accept(s, "never-issued", others[0]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("accept an unknown token: got %v, want ErrNotFound", err)
		}
	})
}

func TestInviteRevokedExpiredReplaced(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleOwner)
		other, _ := team(t, s, "other", store.RoleOwner)

		first, firstRaw := invite(t, s, org, "ann@example.org", store.RoleViewer, ids[0])
		_, secondRaw := invite(t, s, org, "ann@example.org", store.RoleEditor, ids[0])
		if got, _ := s.InviteByToken(ctx, firstRaw); got.State(time.Now()) != store.InviteRevoked {
			t.Errorf("first invitation after a second one: %s, want revoked", got.State(time.Now()))
		}
		if _, err := accept(s, firstRaw, ids[0]); !errors.Is(err, store.ErrLinkSpent) {
			t.Errorf("accept the replaced invitation: got %v, want ErrLinkSpent", err)
		}

		second, err := s.InviteByToken(ctx, secondRaw)
		if err != nil {
			t.Fatal(err)
		}
		revoke := func(org, id int64) error {
			return s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.RevokeInvite(ctx, org, id); return err })
		}
		if err := revoke(other, second.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organisation revoking: got %v, want ErrNotFound", err)
		}
		if err := revoke(org, first.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking a revoked invitation: got %v, want ErrNotFound", err)
		}
		if err := revoke(org, second.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := accept(s, secondRaw, ids[0]); !errors.Is(err, store.ErrLinkSpent) {
			t.Errorf("accept a revoked invitation: got %v, want ErrLinkSpent", err)
		}

		_, oldRaw := invite(t, s, org, "bob@example.org", store.RoleViewer, ids[0])
		if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE invites SET expires_at = ? WHERE token_hash = ?`),
			time.Now().UTC().Add(-time.Minute), store.HashToken(oldRaw)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.InviteByToken(ctx, oldRaw); got.State(time.Now()) != store.InviteExpired {
			t.Errorf("state after expiry = %s, want expired", got.State(time.Now()))
		}
		if _, err := accept(s, oldRaw, ids[0]); !errors.Is(err, store.ErrLinkSpent) {
			t.Errorf("accept an expired invitation: got %v, want ErrLinkSpent", err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := tx.CreateInvite(ctx, org, "x@example.org", "root", 0)
			return err
		}); err == nil {
			t.Error("an invitation with an unknown role was created")
		}
	})
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "acme", store.RoleOwner)
		user := ids[0]
		ses, err := s.CreateSession(ctx, org, user)
		if err != nil {
			t.Fatal(err)
		}
		r, raw, err := s.CreatePasswordReset(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if r.ExpiresAt.Sub(r.CreatedAt) != store.PasswordResetTTL {
			t.Errorf("reset lifetime = %v, want %v", r.ExpiresAt.Sub(r.CreatedAt), store.PasswordResetTTL)
		}
		_, otherRaw, err := s.CreatePasswordReset(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PasswordResetByToken(ctx, raw)
		if err != nil || got.UserID != user || !got.Usable(time.Now()) || got.Email == "" {
			t.Fatalf("PasswordResetByToken = %+v, %v; want a usable reset of user %d", got, err, user)
		}

		newHash := mustHash(t, "a brand new password")
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.UsePasswordReset(ctx, raw); err != nil {
				return err
			}
			n, err := tx.SetPassword(ctx, user, newHash)
			if n != 1 {
				t.Errorf("sessions ended = %d, want 1", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, hash, _ := s.UserByEmail(ctx, got.Email); store.CheckPassword(hash, "a brand new password") != nil {
			t.Error("the new password does not work")
		}
		if _, err := s.SessionByToken(ctx, ses); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session after the reset: got %v, want ErrNotFound", err)
		}
		for name, tok := range map[string]string{"the used link": raw, "the user's other link": otherRaw} {
			err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.UsePasswordReset(ctx, tok); return err })
			if !errors.Is(err, store.ErrLinkSpent) {
				t.Errorf("%s: got %v, want ErrLinkSpent", name, err)
			}
		}

		_, expired, err := s.CreatePasswordReset(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE password_resets SET expires_at = ? WHERE token_hash = ?`),
			time.Now().UTC().Add(-time.Second), store.HashToken(expired)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.PasswordResetByToken(ctx, expired); got.Usable(time.Now()) {
			t.Error("an expired reset is usable")
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.UsePasswordReset(ctx, expired); return err })
		if !errors.Is(err, store.ErrLinkSpent) {
			t.Errorf("an expired link: got %v, want ErrLinkSpent", err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.UsePasswordReset(ctx, "never"); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown link: got %v, want ErrNotFound", err)
		}
	})
}
