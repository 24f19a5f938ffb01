package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// The receiving ends' formats, written from each service's documentation
// (not from Pharos's types).

// Slack incoming webhook: text plus Block Kit blocks.
type slackMessage struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"elements"`
	} `json:"blocks"`
}

// Discord execute-webhook: content plus embeds.
type discordMessage struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		Color       int    `json:"color"`
		Timestamp   string `json:"timestamp"`
		Fields      []struct {
			Name   string `json:"name"`
			Value  string `json:"value"`
			Inline bool   `json:"inline"`
		} `json:"fields"`
	} `json:"embeds"`
}

// Microsoft Teams Workflows webhook: an Adaptive Card in attachments.
type teamsMessage struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string `json:"contentType"`
		Content     struct {
			Type    string `json:"type"`
			Version string `json:"version"`
			Body    []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"body"`
			Actions []struct {
				Type  string `json:"type"`
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"actions"`
		} `json:"content"`
	} `json:"attachments"`
}

// PagerDuty Events API v2.
type pagerDutyEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary  string `json:"summary"`
		Source   string `json:"source"`
		Severity string `json:"severity"`
	} `json:"payload"`
}

// alertSink records what each path received.
type alertSink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string][][]byte
	hdr map[string][]http.Header
}

func newAlertSink(t *testing.T) *alertSink {
	k := &alertSink{got: map[string][][]byte{}, hdr: map[string][]http.Header{}}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		k.got[r.URL.Path] = append(k.got[r.URL.Path], b)
		k.hdr[r.URL.Path] = append(k.hdr[r.URL.Path], r.Header.Clone())
		k.mu.Unlock()
		if r.URL.Path == "/pd" {
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *alertSink) bodies(path string) [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]byte(nil), k.got[path]...)
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// incidentEvent queues an automatic incident's event as the aggregator
// writes it (app/aggregate/incidents.go outboxEvent).
func incidentEvent(t *testing.T, s *store.Store, orgID, componentID int64, kind, action, impact, status string, kinds []string) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.AddOutbox(ctx, []store.OutboxEvent{{OrgID: orgID, Kind: kind, At: time.Now(),
			IdempotencyKey: fmt.Sprintf("%s:%d", kind, time.Now().UnixNano()),
			Payload: map[string]any{"incident_id": 999, "component_id": componentID, "component_name": "API",
				"component_status": status, "impact": impact, "action": action, "alert": true, "check_id": 1,
				"technical": map[string]any{"detail": "**api** (https://api.example/) is down from fra: cert_expired on 203.0.113.7:443",
					"check_ids": []int64{1}, "check_names": []string{"api"}, "regions": []string{"fra", "iad"}, "kinds": kinds}}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func alertNotifier(t *testing.T, s *store.Store, now func() time.Time, pdURL string, allowPrivate bool) *notify.Notifier {
	t.Helper()
	hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: allowPrivate, Timeout: 5 * time.Second})
	t.Cleanup(hook.Close)
	n, err := notify.New(notify.Options{Store: s, Now: now, Jitter: -1, BaseURL: "https://status.example",
		SecretKey: []byte("test secret key"), Senders: map[string]notify.Sender{notify.KindWebhook: hook},
		Alerts: notify.AlertOptions{PagerDutyURL: pdURL, HTTP: hook}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// step runs fan-out, the alert tick and channel delivery once each.
func step(t *testing.T, n *notify.Notifier) {
	t.Helper()
	ctx := context.Background()
	if _, err := n.FanOutOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.AlertTickOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		did, err := n.DeliverAlertsOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if did == 0 {
			return
		}
	}
}

func TestAlertChannelsTriggerRepeatAckResolve(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, _, comps := seedPage(t, s)
		sink := newAlertSink(t)
		c := newClock()
		for _, ch := range []store.AlertChannel{
			{Name: "slack", Kind: store.AlertChannelSlack, Config: store.AlertChannelConfig{URL: sink.srv.URL + "/slack"}},
			{Name: "discord", Kind: store.AlertChannelDiscord, Config: store.AlertChannelConfig{URL: sink.srv.URL + "/discord"}},
			{Name: "teams", Kind: store.AlertChannelTeams, Config: store.AlertChannelConfig{URL: sink.srv.URL + "/teams"}},
			{Name: "pager", Kind: store.AlertChannelPagerDuty, Config: store.AlertChannelConfig{RoutingKey: "R0UTE"}},
			{Name: "hook", Kind: store.AlertChannelWebhook, Config: store.AlertChannelConfig{URL: sink.srv.URL + "/hook"}},
		} {
			ch.OrgID, ch.Enabled, ch.RepeatEvery = orgID, true, time.Hour
			if _, err := s.CreateAlertChannel(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		n := alertNotifier(t, s, c.Now, sink.srv.URL+"/pd", true)
		paths := []string{"/slack", "/discord", "/teams", "/pd", "/hook"}
		count := func(want int) {
			t.Helper()
			for _, p := range paths {
				if got := len(sink.bodies(p)); got != want {
					t.Errorf("%s received %d messages, want %d", p, got, want)
				}
			}
		}

		incidentEvent(t, s, orgID, comps[0], "incident.opened", "open", "major", "major_outage", []string{"certificate_expired"})
		step(t, n)
		count(1)
		slack := decode[slackMessage](t, sink.bodies("/slack")[0])
		if !strings.Contains(slack.Text, "check down: API (api)") || len(slack.Blocks) < 3 {
			t.Errorf("slack message = %+v", slack)
		}
		var ackURL string
		for _, b := range slack.Blocks {
			if b.Type == "section" && !strings.Contains(b.Text.Text, "203.0.113.7:443") {
				t.Errorf("slack section lacks the technical detail: %q", b.Text.Text)
			}
			for _, e := range b.Elements {
				ackURL = e.URL
			}
		}
		if !strings.HasPrefix(ackURL, "https://status.example/alerts/") || !strings.Contains(ackURL, "/ack?token=") {
			t.Fatalf("slack ack link = %q", ackURL)
		}
		discord := decode[discordMessage](t, sink.bodies("/discord")[0])
		if discord.Content == "" || len(discord.Embeds) != 1 || !strings.Contains(discord.Embeds[0].URL, "/ack?token=") ||
			!strings.Contains(discord.Embeds[0].Description, "cert_expired") {
			t.Errorf("discord message = %+v", discord)
		}
		teams := decode[teamsMessage](t, sink.bodies("/teams")[0])
		if teams.Type != "message" || len(teams.Attachments) != 1 ||
			teams.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
			teams.Attachments[0].Content.Type != "AdaptiveCard" || len(teams.Attachments[0].Content.Actions) != 1 ||
			!strings.HasPrefix(teams.Attachments[0].Content.Actions[0].URL, "https://status.example/alerts/") {
			t.Errorf("teams message = %+v", teams)
		}
		pd := decode[pagerDutyEvent](t, sink.bodies("/pd")[0])
		if pd.RoutingKey != "R0UTE" || pd.EventAction != "trigger" || pd.DedupKey == "" || pd.Payload == nil ||
			pd.Payload.Severity != "critical" || pd.Payload.Summary == "" || pd.Payload.Source == "" {
			t.Errorf("pagerduty event = %+v", pd)
		}
		// The generic webhook verifies with the Standard Webhooks library
		// under the channel's secret.
		var secret string
		chans, _ := s.AlertChannels(ctx, orgID)
		for _, ch := range chans {
			if ch.Kind == store.AlertChannelWebhook {
				secret = ch.Config.Secret
			}
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(sink.bodies("/hook")[0], sink.hdr["/hook"][0]); err != nil {
			t.Errorf("generic webhook signature: %v", err)
		}

		// The next probe round's update changes nothing: no message.
		incidentEvent(t, s, orgID, comps[0], "incident.updated", "change", "major", "major_outage", []string{"certificate_expired"})
		c.Advance(30 * time.Minute)
		step(t, n)
		count(1)
		// The interval passed: one repeat on every channel.
		c.Advance(31 * time.Minute)
		step(t, n)
		count(2)
		if !strings.Contains(decode[slackMessage](t, sink.bodies("/slack")[1]).Text, "Still firing") {
			t.Errorf("repeat = %s", sink.bodies("/slack")[1])
		}
		step(t, n) // and only one
		count(2)

		// Acknowledge through the link: no more repeats.
		u, _ := url.Parse(ackURL)
		id, _ := strconv.ParseInt(strings.Split(u.Path, "/")[2], 10, 64)
		if _, err := s.AcknowledgeAlertByToken(ctx, id, u.Query().Get("token"), c.Now(), true); err != nil {
			t.Fatal(err)
		}
		c.Advance(5 * time.Hour)
		step(t, n)
		for _, p := range []string{"/slack", "/discord", "/teams", "/hook"} {
			if got := len(sink.bodies(p)); got != 2 {
				t.Errorf("%s received %d messages after the ack, want no repeat", p, got)
			}
		}
		// PagerDuty hears of the acknowledgement, once.
		if got := sink.bodies("/pd"); len(got) != 3 || decode[pagerDutyEvent](t, got[2]).EventAction != "acknowledge" ||
			decode[pagerDutyEvent](t, got[2]).DedupKey != pd.DedupKey {
			t.Fatalf("pagerduty after the ack: %d events, want the acknowledge third", len(got))
		}
		step(t, n)
		if got := len(sink.bodies("/pd")); got != 3 {
			t.Errorf("pagerduty got %d events, want one acknowledge", got)
		}

		// Recovery: one resolve, PagerDuty's with the same dedup_key.
		incidentEvent(t, s, orgID, comps[0], "incident.resolved", "resolve", "major", "operational", nil)
		for range 2 {
			step(t, n)
			for _, p := range []string{"/slack", "/discord", "/teams", "/hook"} {
				if got := len(sink.bodies(p)); got != 3 {
					t.Errorf("%s received %d messages, want one recovery", p, got)
				}
			}
		}
		if !strings.Contains(decode[slackMessage](t, sink.bodies("/slack")[2]).Text, "Recovered") {
			t.Errorf("recovery = %s", sink.bodies("/slack")[2])
		}
		resolve := decode[pagerDutyEvent](t, sink.bodies("/pd")[3])
		if resolve.EventAction != "resolve" || resolve.DedupKey != pd.DedupKey {
			t.Errorf("pagerduty resolve = %+v, want resolve of %s", resolve, pd.DedupKey)
		}
		if open, _ := s.OpenAlerts(ctx, orgID, ""); len(open) != 0 {
			t.Errorf("%d alerts open after recovery", len(open))
		}
	})
}

func TestAlertsSuppressedDuringMaintenance(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, _, comps := seedPage(t, s)
		sink := newAlertSink(t)
		c := newClock()
		if _, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "slack", Kind: store.AlertChannelSlack,
			Config: store.AlertChannelConfig{URL: sink.srv.URL + "/slack"}, Enabled: true, RepeatEvery: time.Hour}); err != nil {
			t.Fatal(err)
		}
		n := alertNotifier(t, s, c.Now, "", true)
		// A trouble reported while the component is under maintenance
		// alerts nobody.
		incidentEvent(t, s, orgID, comps[1], "incident.opened", "open", "major", "under_maintenance", nil)
		step(t, n)
		if got := len(sink.bodies("/slack")); got != 0 {
			t.Fatalf("%d messages during maintenance, want 0", got)
		}
		// An alert open before maintenance does not repeat during it.
		incidentEvent(t, s, orgID, comps[0], "incident.opened", "open", "minor", "degraded_performance", nil)
		step(t, n)
		if got := len(sink.bodies("/slack")); got != 1 {
			t.Fatalf("%d messages, want the degraded alert", got)
		}
		if _, err := s.DB().ExecContext(ctx, `UPDATE components SET status = 'under_maintenance' WHERE id = `+
			strconv.FormatInt(comps[0], 10)); err != nil {
			t.Fatal(err)
		}
		c.Advance(3 * time.Hour)
		step(t, n)
		if got := len(sink.bodies("/slack")); got != 1 {
			t.Errorf("%d messages after 3 h of maintenance, want no repeat", got)
		}
	})
}

func TestAlertChannelRefusedByGuardAtDelivery(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, _, comps := seedPage(t, s)
		sink := newAlertSink(t)
		c := newClock()
		// The URL was accepted (say it resolved publicly then); it is
		// loopback now, and the guard refuses it when dialled.
		if _, err := s.CreateAlertChannel(ctx, store.AlertChannel{OrgID: orgID, Name: "slack", Kind: store.AlertChannelSlack,
			Config: store.AlertChannelConfig{URL: sink.srv.URL + "/slack"}, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		n := alertNotifier(t, s, c.Now, "", false)
		incidentEvent(t, s, orgID, comps[0], "incident.opened", "open", "major", "major_outage", nil)
		step(t, n)
		if got := len(sink.bodies("/slack")); got != 0 {
			t.Fatalf("the guard let %d messages through to loopback", got)
		}
		log, err := s.Deliveries(ctx, orgID, 10)
		if err != nil || len(log) != 1 || !strings.Contains(log[0].LastError, "blocked address") {
			t.Fatalf("delivery log = %+v, %v; want one attempt refused as a blocked address", log, err)
		}
	})
}
