package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestAlertChannelsCRUDScopedByOrg(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, _ := storetest.SeedCheck(t, s)
		var other int64
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			o, err := tx.CreateOrg(ctx, "Other", "other")
			other = o.ID
			return err
		}); err != nil {
			t.Fatal(err)
		}
		hook, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "ops hook", Kind: store.AlertChannelWebhook,
			Config: store.AlertChannelConfig{URL: "https://hooks.example/x"}, RepeatEvery: time.Hour, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if hook.Config.Secret == "" || hook.ID == 0 {
			t.Errorf("webhook channel = %+v, want an id and a whsec_ secret", hook)
		}
		if _, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "ops hook", Kind: store.AlertChannelSlack,
			Config: store.AlertChannelConfig{URL: "https://hooks.slack.example/x"}}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate name: got %v, want ErrConflict", err)
		}
		for _, bad := range []store.AlertChannel{
			{OrgID: orgID, Name: "x", Kind: "sms"},
			{OrgID: orgID, Name: "pd", Kind: store.AlertChannelPagerDuty},
			{OrgID: orgID, Name: "mail", Kind: store.AlertChannelEmail, Config: store.AlertChannelConfig{Address: "a@b\r\nBcc: c@d"}},
		} {
			var v *store.InvalidError
			if _, err := s.CreateAlertChannel(ctx, bad); !errors.As(err, &v) {
				t.Errorf("CreateAlertChannel(%+v): got %v, want a validation error", bad, err)
			}
		}
		pd, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "pager", Kind: store.AlertChannelPagerDuty,
			Config: store.AlertChannelConfig{RoutingKey: "R0UTING"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.AlertChannels(ctx, orgID)
		if err != nil || len(list) != 2 || list[0].Name != "ops hook" || list[1].Config.RoutingKey != "R0UTING" {
			t.Fatalf("AlertChannels = %+v, %v; want ops hook and pager", list, err)
		}
		if _, err := s.AlertChannel(ctx, other, pd.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another org's channel: got %v, want ErrNotFound", err)
		}
		if err := s.SetAlertChannelEnabled(ctx, other, pd.ID, false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("disable another org's channel: got %v, want ErrNotFound", err)
		}
		if err := s.DeleteAlertChannel(ctx, other, pd.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete another org's channel: got %v, want ErrNotFound", err)
		}
		if err := s.SetAlertChannelEnabled(ctx, orgID, pd.ID, false); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.AlertChannel(ctx, orgID, pd.ID); got.Enabled {
			t.Error("channel still enabled")
		}
		if err := s.DeleteAlertChannel(ctx, orgID, pd.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AlertChannel(ctx, orgID, pd.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted channel: got %v, want ErrNotFound", err)
		}
	})
}

func TestAlertLifecycleIsOneRowAcrossRounds(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, checkID := storetest.SeedCheck(t, s)
		ch, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "slack", Kind: store.AlertChannelSlack,
			Config: store.AlertChannelConfig{URL: "https://hooks.example/s"}, RepeatEvery: time.Hour, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
		render := func(a store.Alert, step string) ([]byte, error) {
			return []byte(fmt.Sprintf(`{"id":%d,"step":%q,"kind":%q}`, a.ID, step, a.Kind)), nil
		}
		hash := func(id int64) string { return store.HashAckToken(fmt.Sprintf("tok-%d", id)) }
		open := store.Alert{OrgID: orgID, ChannelID: ch.ID, Kind: "check_down", Subject: "check:1", SubjectName: "api",
			CheckID: checkID, Detail: "**api** is down"}
		for i := range 2 { // the same trigger twice (a replayed event) opens one alert
			n, err := s.ApplyAlerts(ctx, []store.AlertWrite{{Step: store.AlertStepTrigger, Alert: open, At: t0}}, hash, render)
			if err != nil || n != 1-i {
				t.Fatalf("trigger %d: queued %d, %v; want %d", i, n, err, 1-i)
			}
		}
		alerts, err := s.OpenAlerts(ctx, orgID, "check:1")
		if err != nil || len(alerts) != 1 {
			t.Fatalf("OpenAlerts = %+v, %v; want one", alerts, err)
		}
		a := alerts[0]
		if a.Sends != 1 || a.LastSentAt == nil || !a.LastSentAt.Equal(t0) || a.RepeatEvery != time.Hour || a.ChannelKind != "slack" {
			t.Errorf("alert = %+v", a)
		}
		// A repeat decided on a stale count (another notifier sent it) is
		// not made twice.
		for i := range 2 {
			n, err := s.ApplyAlerts(ctx, []store.AlertWrite{{Step: store.AlertStepRepeat, Alert: a, Sends: 1, At: t0.Add(time.Hour)}},
				hash, render)
			if err != nil || n != 1-i {
				t.Fatalf("repeat %d: queued %d, %v; want %d", i, n, err, 1-i)
			}
		}
		cands, err := s.RepeatCandidates(ctx, 100)
		if err != nil || len(cands) != 1 || cands[0].Sends != 2 {
			t.Fatalf("RepeatCandidates = %+v, %v", cands, err)
		}
		claimed, err := s.ClaimChannelDeliveries(ctx, t0.Add(2*time.Hour), time.Minute, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %d, %v; want the oldest delivery of the channel alone", len(claimed), err)
		}
		c := claimed[0]
		if c.AlertID != a.ID || c.Channel.Kind != "slack" || string(c.Rendered) != fmt.Sprintf(`{"id":%d,"step":"trigger","kind":"check_down"}`, a.ID) {
			t.Errorf("claimed = %+v (%s)", c, c.Rendered)
		}
		// Subscriber claims never take channel deliveries.
		if sub, err := s.ClaimDeliveries(ctx, t0.Add(2*time.Hour), time.Minute, 10); err != nil || len(sub) != 0 {
			t.Errorf("ClaimDeliveries took %d channel deliveries, %v", len(sub), err)
		}
		if n, err := s.RecordAttempts(ctx, []store.DeliveryAttempt{{ID: c.ID, Token: c.Token, Status: store.DeliverySent,
			Attempts: 1, At: t0.Add(2 * time.Hour)}}); err != nil || n != 1 {
			t.Fatalf("record: %d, %v", n, err)
		}

		// The ack link: a wrong token is not found; the right one acks.
		if _, err := s.AcknowledgeAlertByToken(ctx, a.ID, "tok-x", t0, true); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong token: got %v, want ErrNotFound", err)
		}
		acked, err := s.AcknowledgeAlertByToken(ctx, a.ID, fmt.Sprintf("tok-%d", a.ID), t0.Add(3*time.Hour), true)
		if err != nil || acked.AcknowledgedAt == nil {
			t.Fatalf("ack = %+v, %v", acked, err)
		}
		if cands, _ := s.RepeatCandidates(ctx, 100); len(cands) != 0 {
			t.Errorf("acknowledged alert still a repeat candidate: %+v", cands)
		}
		if _, err := s.AcknowledgeAlert(ctx, orgID+999, a.ID, 0, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another org acks: got %v, want ErrNotFound", err)
		}

		n, err := s.ApplyAlerts(ctx, []store.AlertWrite{{Step: store.AlertStepResolve, Alert: a, At: t0.Add(4 * time.Hour)}}, hash, render)
		if err != nil || n != 1 {
			t.Fatalf("resolve: %d, %v", n, err)
		}
		if open, _ := s.OpenAlerts(ctx, orgID, ""); len(open) != 0 {
			t.Errorf("open after resolve: %+v", open)
		}
		recent, err := s.RecentAlerts(ctx, orgID, 10)
		if err != nil || len(recent) != 1 || recent[0].ResolvedAt == nil || recent[0].Sends != 3 {
			t.Errorf("RecentAlerts = %+v, %v", recent, err)
		}
		// A new failure opens a new alert.
		if n, err := s.ApplyAlerts(ctx, []store.AlertWrite{{Step: store.AlertStepTrigger, Alert: open, At: t0.Add(5 * time.Hour)}},
			hash, render); err != nil || n != 1 {
			t.Fatalf("trigger again: %d, %v", n, err)
		}
		// Housekeeping prunes resolved alerts past retention, not open ones.
		if _, err := s.PruneNotifications(ctx, t0.Add(10*time.Hour), 100); err != nil {
			t.Fatal(err)
		}
		if recent, _ := s.RecentAlerts(ctx, orgID, 10); len(recent) != 1 || recent[0].ResolvedAt != nil {
			t.Errorf("after pruning: %+v, want the open alert alone", recent)
		}
		if err := s.QueueChannelTest(ctx, orgID, ch.ID, []byte(`{}`), t0); err != nil {
			t.Fatal(err)
		}
		if err := s.QueueChannelTest(ctx, orgID+999, ch.ID, []byte(`{}`), t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("test to another org's channel: got %v, want ErrNotFound", err)
		}
	})
}
