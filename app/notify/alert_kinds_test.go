package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// regionEvent queues a region health change as the aggregator writes it
// (app/aggregate/latest.go regionEvent).
func regionEvent(t *testing.T, s *store.Store, orgID int64, region string, healthy bool) {
	t.Helper()
	kind := "region.unhealthy"
	if healthy {
		kind = "region.healthy"
	}
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.AddOutbox(ctx, []store.OutboxEvent{{OrgID: orgID, Kind: kind, At: time.Now(),
			IdempotencyKey: kind + ":" + region + ":" + strconv.FormatInt(time.Now().UnixNano(), 10),
			Payload:        map[string]any{"region": region, "healthy": healthy}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAlertEmailRegionAndMisconfigured: an email channel hears, through a
// real SMTP server, of an unhealthy probe region and of a misconfigured
// check, each once, and of each recovery once.
func TestAlertEmailRegionAndMisconfigured(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, checkID := storetest.SeedCheck(t, s)
		smtpSink, _ := newSink(t, false)
		mail := newEmail(t, smtpSink, nil)
		if _, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "oncall", Kind: store.AlertChannelEmail,
			Config: store.AlertChannelConfig{Address: "oncall@example.org"}, Enabled: true, RepeatEvery: time.Hour}); err != nil {
			t.Fatal(err)
		}
		c := newClock()
		hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true})
		t.Cleanup(hook.Close)
		n, err := notify.New(notify.Options{Store: s, Now: c.Now, Jitter: -1, BaseURL: "https://status.example.org",
			SecretKey: []byte(testKey), Alerts: notify.AlertOptions{HTTP: hook, Email: mail}})
		if err != nil {
			t.Fatal(err)
		}
		expect := func(subject string, contains ...string) {
			t.Helper()
			m := smtpSink.next(t)
			if got := m.msg.Header.Get("Subject"); !strings.Contains(got, subject) {
				t.Errorf("subject %q, want it to contain %q", got, subject)
			}
			body, _ := io.ReadAll(m.msg.Body)
			for _, want := range contains {
				if !strings.Contains(string(body), want) {
					t.Errorf("mail %q lacks %q:\n%s", m.msg.Header.Get("Subject"), want, body)
				}
			}
		}
		none := func() {
			t.Helper()
			select {
			case m := <-smtpSink.mails:
				t.Errorf("unexpected mail %q", m.msg.Header.Get("Subject"))
			case <-time.After(100 * time.Millisecond):
			}
		}

		regionEvent(t, s, orgID, "fra", false)
		step(t, n)
		expect("probe region unhealthy: probe region fra", "excluded from quorum", "https://status.example.org/alerts/")
		step(t, n)
		none()
		regionEvent(t, s, orgID, "fra", true)
		step(t, n)
		expect("Recovered: probe region unhealthy")

		// The aggregator records misconfigured as the check's state; the
		// tick follows it.
		setState := func(state string) {
			t.Helper()
			q := "UPDATE checks SET state = '" + state + "' WHERE id = " + strconv.FormatInt(checkID, 10)
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		setState("misconfigured")
		step(t, n)
		expect("check misconfigured: API (api)", "https://api.example/", "SSRF guard")
		step(t, n)
		none()
		setState("up")
		step(t, n)
		expect("Recovered: check misconfigured")
		step(t, n)
		none()
	})
}

// TestAlertChannelRefusalIsNotRetried: a chat service's 4xx (a revoked
// hook) is final; a 5xx is retried on the schedule.
func TestAlertChannelRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, _, comps := seedPage(t, s)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/gone" {
				http.Error(w, "no_service", http.StatusNotFound)
				return
			}
			http.Error(w, "busy", http.StatusInternalServerError)
		}))
		t.Cleanup(srv.Close)
		for _, name := range []string{"gone", "busy"} {
			if _, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: name, Kind: store.AlertChannelSlack,
				Config: store.AlertChannelConfig{URL: srv.URL + "/" + name}, Enabled: true}); err != nil {
				t.Fatal(err)
			}
		}
		c := newClock()
		n := alertNotifier(t, s, c.Now, "", true)
		incidentEvent(t, s, orgID, comps[0], "incident.opened", "open", "major", "major_outage", nil)
		step(t, n)
		log, err := s.Deliveries(ctx, orgID, 10)
		if err != nil || len(log) != 2 {
			t.Fatalf("delivery log = %+v, %v", log, err)
		}
		got := map[string]string{}
		for _, d := range log {
			got[d.Recipient] = d.Status
		}
		if got["gone"] != store.DeliveryFailed || got["busy"] != store.DeliveryPending {
			t.Errorf("statuses = %v, want gone failed (404 is final) and busy pending (500 is retried)", got)
		}
	})
}

// TestAlertsWithoutAutomaticIncidents: a page with auto_incidents off
// writes no incident events, yet its operators hear of a check down, not
// of it improving to degraded, and once of its recovery.
func TestAlertsWithoutAutomaticIncidents(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, checkID := storetest.SeedCheck(t, s)
		exec := func(q string) {
			t.Helper()
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE pages SET auto_incidents = 'off'")
		sink := newAlertSink(t)
		if _, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "slack", Kind: store.AlertChannelSlack,
			Config: store.AlertChannelConfig{URL: sink.srv.URL + "/slack"}, Enabled: true, RepeatEvery: time.Hour}); err != nil {
			t.Fatal(err)
		}
		n := alertNotifier(t, s, newClock().Now, "", true)
		state := func(st string) {
			t.Helper()
			exec("UPDATE checks SET state = '" + st + "' WHERE id = " + strconv.FormatInt(checkID, 10))
			step(t, n)
		}
		state("down")
		state("down")
		if got := sink.bodies("/slack"); len(got) != 1 || !strings.Contains(decode[slackMessage](t, got[0]).Text, "check down: API") {
			t.Fatalf("got %d messages, want one check down alert", len(got))
		}
		state("degraded")
		if got := len(sink.bodies("/slack")); got != 1 {
			t.Errorf("%d messages after improving to degraded, want no new one", got)
		}
		state("up")
		state("up")
		got := sink.bodies("/slack")
		if len(got) != 2 || !strings.Contains(decode[slackMessage](t, got[1]).Text, "Recovered: check degraded: API") {
			t.Errorf("got %d messages, want the recovery second", len(got))
		}
	})
}
