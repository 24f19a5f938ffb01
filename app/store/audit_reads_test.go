package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestAuditEntriesFilterAndPage: the audit log filters by who (part of the
// actor), what (an action prefix) and when (from/to), pages back by id
// without repeating or skipping a row, and never shows another
// organisation's rows.
func TestAuditEntriesFilterAndPage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "a", store.RoleOwner, store.RoleEditor)
		other, _ := team(t, s, "b", store.RoleOwner)
		ada := store.Actor{UserID: ids[0], Name: "user:Ada@a.example"}
		bob := store.Actor{UserID: ids[1], Name: "user:bob_1@a.example"}
		day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		write := []struct {
			org    int64
			actor  store.Actor
			action string
			at     time.Time
		}{
			{org, ada, "check.enabled", day},
			{org, bob, "check.run_now", day.Add(time.Hour)},
			{org, ada, "incident.create", day.Add(24 * time.Hour)},
			{org, store.CLIActor(), "token.create", day.Add(48 * time.Hour)},
			{org, bob, "incident_template.delete", day.Add(49 * time.Hour)},
			{other, store.CLIActor(), "check.enabled", day.Add(time.Hour)},
		}
		for i, w := range write {
			if err := s.Audit(ctx, w.org, w.actor, w.action, "check 1", nil); err != nil {
				t.Fatal(err)
			}
			q := `UPDATE audit_log SET created_at = ? WHERE id = (SELECT MAX(id) FROM audit_log)`
			if s.Dialect() == store.Postgres {
				q = strings.Replace(q, "?", "$1", 1)
			}
			if _, err := s.DB().ExecContext(ctx, q, w.at); err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
		}
		actions := func(f store.AuditFilter) ([]string, int64) {
			t.Helper()
			p, err := s.AuditEntries(ctx, org, f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range p.Entries {
				got = append(got, e.Action)
			}
			return got, p.Next
		}
		for _, tc := range []struct {
			name string
			f    store.AuditFilter
			want []string
		}{
			{"everything, newest first", store.AuditFilter{},
				[]string{"incident_template.delete", "token.create", "incident.create", "check.run_now", "check.enabled"}},
			{"who, any case", store.AuditFilter{Who: "ADA@"}, []string{"incident.create", "check.enabled"}},
			{"who with a LIKE wildcard in it", store.AuditFilter{Who: "b_1"}, []string{"incident_template.delete", "check.run_now"}},
			{"who matches nothing by wildcard", store.AuditFilter{Who: "bo%"}, nil},
			{"what is a prefix", store.AuditFilter{Action: "check"}, []string{"check.run_now", "check.enabled"}},
			{"what, dotted", store.AuditFilter{Action: "incident."}, []string{"incident.create"}},
			{"from", store.AuditFilter{From: day.Add(24 * time.Hour)}, []string{"incident_template.delete", "token.create", "incident.create"}},
			{"from and to", store.AuditFilter{From: day.Add(time.Hour), To: day.Add(48 * time.Hour)}, []string{"incident.create", "check.run_now"}},
			{"all three", store.AuditFilter{Who: "cli", Action: "token", From: day, To: day.Add(72 * time.Hour)}, []string{"token.create"}},
		} {
			got, _ := actions(tc.f)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}

		var all []string
		f := store.AuditFilter{Limit: 2}
		for range 5 {
			got, next := actions(f)
			all = append(all, got...)
			if next == 0 {
				break
			}
			f.Before = next
		}
		want, _ := actions(store.AuditFilter{})
		if diff := cmp.Diff(want, all); diff != "" {
			t.Errorf("pages of two joined (-want +got):\n%s", diff)
		}
	})
}

// TestAuditNames: ids in targets and details become the objects' names,
// within the organisation only.
func TestAuditNames(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, ids := team(t, s, "a", store.RoleOwner)
		other, otherIDs := team(t, s, "b", store.RoleOwner)
		tok, _, err := s.CreateToken(ctx, org, "deploy bot", store.RoleEditor, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		otherTok, _, err := s.CreateToken(ctx, other, "their bot", store.RoleEditor, otherIDs[0])
		if err != nil {
			t.Fatal(err)
		}
		ref := func(target string) store.AuditRef {
			r, ok := store.TargetRef(target)
			if !ok {
				t.Fatalf("TargetRef(%q) not ok", target)
			}
			return r
		}
		if _, ok := store.TargetRef("user ada@a.example"); ok {
			t.Error("a target with a name is read as an id")
		}
		if got := store.DetailRefKind("channel_id"); got != "alert channel" {
			t.Errorf("DetailRefKind(channel_id) = %q, want alert channel", got)
		}
		if got := store.DetailRefKind("tweet_id"); got != "" {
			t.Errorf("DetailRefKind(tweet_id) = %q, want none", got)
		}
		refs := []store.AuditRef{ref("token " + itoa(tok.ID)), ref("token " + itoa(otherTok.ID)),
			{Kind: "user", ID: ids[0]}, {Kind: "user", ID: otherIDs[0]}, ref("alert channel 99")}
		names, err := s.AuditNames(ctx, org, refs)
		if err != nil {
			t.Fatal(err)
		}
		want := map[store.AuditRef]string{refs[0]: "deploy bot", refs[2]: "ownera@a.example"}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
	})
}
