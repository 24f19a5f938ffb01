package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// openAlert opens a check_down alert on channel ch as the notifier does,
// and returns its ack token.
func openAlert(t *testing.T, st *store.Store, orgID, chID, compID int64, secret string) (store.Alert, string) {
	t.Helper()
	ctx := context.Background()
	_, err := st.ApplyAlerts(ctx, []store.AlertWrite{{Step: store.AlertStepTrigger, At: time.Now(),
		Alert: store.Alert{OrgID: orgID, ChannelID: chID, Kind: "check_down", Subject: "component:1", SubjectName: "API (health)",
			ComponentID: compID, Detail: "down"}}},
		func(id int64) string { return store.HashAckToken(notify.AckToken([]byte(secret), id)) },
		func(store.Alert, string) ([]byte, error) { return []byte(`{}`), nil })
	if err != nil {
		t.Fatal(err)
	}
	open, err := st.OpenAlerts(ctx, orgID, "component:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range open {
		if a.ChannelID == chID {
			return a, notify.AckToken([]byte(secret), a.ID)
		}
	}
	t.Fatalf("no alert opened on channel %d: %+v", chID, open)
	return store.Alert{}, ""
}

func TestConsoleAlertChannels(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		h := webtest.NewServer(t, st, nil).Handler()

		owner := webtest.NewBrowser(t, h)
		csrf := owner.Login(a.Owner, webtest.TestPassword)
		if home := owner.Get("/admin/"); !strings.Contains(home.Body, `href="/admin/alerts"`) {
			t.Error("the console header does not link to the alerts")
		}
		res := owner.Post("/admin/alerts/channels", url.Values{"csrf_token": {csrf}, "name": {"ops"}, "kind": {"slack"},
			"target": {"https://93.184.216.34/services/T0/B0/x"}, "repeat": {"30m"}})
		if res.Code != http.StatusSeeOther {
			t.Fatalf("create slack channel: got %d\n%s", res.Code, res.Body)
		}
		// SSRF: private, loopback and metadata addresses are refused at save.
		for _, bad := range []string{"http://169.254.169.254/latest/meta-data", "http://127.0.0.1:8080/x", "http://10.0.0.7/hook"} {
			res := owner.Post("/admin/alerts/channels", url.Values{"csrf_token": {csrf}, "name": {"bad"}, "kind": {"webhook"},
				"target": {bad}})
			if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "may not reach") {
				t.Errorf("channel URL %s: got %d, want 422 naming the refused address", bad, res.Code)
			}
		}
		res = owner.Post("/admin/alerts/channels", url.Values{"csrf_token": {csrf}, "name": {"pager"}, "kind": {"pagerduty"},
			"routing_key": {"R0UTE"}, "repeat": {"0"}})
		if res.Code != http.StatusSeeOther {
			t.Fatalf("create pagerduty channel: got %d\n%s", res.Code, res.Body)
		}
		res = owner.Post("/admin/alerts/channels", url.Values{"csrf_token": {csrf}, "name": {"hook"}, "kind": {"webhook"},
			"target": {"https://93.184.216.34/hook"}})
		if res.Code != http.StatusOK || !strings.Contains(res.Body, "whsec_") {
			t.Errorf("webhook channel: got %d, want its secret shown once", res.Code)
		}
		chans, err := st.AlertChannels(ctx, a.Org.ID)
		if err != nil || len(chans) != 3 {
			t.Fatalf("channels = %+v, %v", chans, err)
		}
		ops := chans[1]
		if ops.Name != "ops" || ops.RepeatEvery != 30*time.Minute || chans[2].RepeatEvery != 0 {
			t.Errorf("channels = %+v", chans)
		}
		page := owner.Get("/admin/alerts")
		if page.Code != http.StatusOK || !strings.Contains(page.Body, "https://93.184.216.34/services/T0/B0/x") ||
			strings.Contains(page.Body, "R0UTE") {
			t.Errorf("alerts page: got %d, want the channel listed and the routing key hidden", page.Code)
		}
		if res := owner.Post("/admin/alerts/channels/"+webtest.ID(ops.ID)+"/test", url.Values{"csrf_token": {csrf}}); res.Code != http.StatusOK {
			t.Errorf("test send: got %d", res.Code)
		}
		if log := owner.Get("/admin/deliveries"); !strings.Contains(log.Body, "alert slack") || !strings.Contains(log.Body, "alert.test") {
			t.Errorf("the delivery log does not show the test message to the channel")
		}
		if res := owner.Post("/admin/alerts/channels/"+webtest.ID(ops.ID)+"/enabled", url.Values{"csrf_token": {csrf}, "enabled": {"false"}}); res.Code != http.StatusSeeOther {
			t.Errorf("disable: got %d", res.Code)
		}
		if ch, _ := st.AlertChannel(ctx, a.Org.ID, ops.ID); ch.Enabled {
			t.Error("channel still enabled")
		}

		// Another organisation's owner reaches none of it.
		other := webtest.NewBrowser(t, h)
		csrfB := other.Login(b.Owner, webtest.TestPassword)
		for _, action := range []string{"test", "enabled", "delete"} {
			res := other.Post("/admin/alerts/channels/"+webtest.ID(ops.ID)+"/"+action, url.Values{"csrf_token": {csrfB}, "enabled": {"true"}})
			if res.Code != http.StatusNotFound {
				t.Errorf("B's %s of A's channel: got %d, want 404", action, res.Code)
			}
		}
		al, token := openAlert(t, st, a.Org.ID, ops.ID, a.CompID, strings.Repeat("k", 32))
		if res := other.Post("/admin/alerts/"+webtest.ID(al.ID)+"/ack", url.Values{"csrf_token": {csrfB}}); res.Code != http.StatusNotFound {
			t.Errorf("B acknowledging A's alert: got %d, want 404", res.Code)
		}
		if page := other.Get("/admin/alerts"); strings.Contains(page.Body, "API (health)") || strings.Contains(page.Body, "93.184.216.34") {
			t.Error("B's alerts page shows A's alerts or channels")
		}

		// The ack link: GET shows a button and changes nothing; a wrong
		// token is not found; POST with the token acknowledges.
		anon := webtest.NewBrowser(t, h)
		link := "/alerts/" + webtest.ID(al.ID) + "/ack?token=" + url.QueryEscape(token)
		if res := anon.Get(link); res.Code != http.StatusOK || !strings.Contains(res.Body, `data-testid="ack"`) {
			t.Errorf("ack page: got %d\n%s", res.Code, res.Body)
		}
		if got, _ := st.Alert(ctx, a.Org.ID, al.ID); got.AcknowledgedAt != nil {
			t.Error("GET of the ack link acknowledged the alert")
		}
		if res := anon.Post("/alerts/"+webtest.ID(al.ID)+"/ack", url.Values{"token": {"wrong"}}); res.Code != http.StatusNotFound {
			t.Errorf("wrong token: got %d, want 404", res.Code)
		}
		if res := anon.Post("/alerts/"+webtest.ID(al.ID)+"/ack", url.Values{"token": {token}}); res.Code != http.StatusOK ||
			!strings.Contains(res.Body, "Acknowledged") {
			t.Errorf("ack: got %d\n%s", res.Code, res.Body)
		}
		if got, _ := st.Alert(ctx, a.Org.ID, al.ID); got.AcknowledgedAt == nil {
			t.Error("the ack link did not acknowledge")
		}

		// The console button (editor).
		if err := st.SetAlertChannelEnabled(ctx, a.Org.ID, ops.ID, true); err != nil {
			t.Fatal(err)
		}
		al2, _ := openAlert(t, st, a.Org.ID, chans[2].ID, a.CompID, "x")
		editor := webtest.NewBrowser(t, h)
		ecsrf := editor.Login(a.Editor, webtest.TestPassword)
		if page := editor.Get("/admin/alerts"); !strings.Contains(page.Body, `data-testid="ack"`) {
			t.Error("the editor sees no Acknowledge button")
		}
		if res := editor.Post("/admin/alerts/"+webtest.ID(al2.ID)+"/ack", url.Values{"csrf_token": {ecsrf}}); res.Code != http.StatusSeeOther {
			t.Errorf("editor ack: got %d", res.Code)
		}
		if got, _ := st.Alert(ctx, a.Org.ID, al2.ID); got.AcknowledgedAt == nil || got.AcknowledgedBy == 0 {
			t.Errorf("after the button: %+v", got)
		}
		if res := editor.Post("/admin/alerts/channels", url.Values{"csrf_token": {ecsrf}, "name": {"x"}, "kind": {"slack"},
			"target": {"https://93.184.216.34/x"}}); res.Code != http.StatusForbidden {
			t.Errorf("editor creating a channel: got %d, want 403", res.Code)
		}
		if res := owner.Post("/admin/alerts/channels/"+webtest.ID(ops.ID)+"/delete", url.Values{"csrf_token": {csrf}}); res.Code != http.StatusSeeOther {
			t.Errorf("delete: got %d", res.Code)
		}
		if _, err := st.AlertChannel(ctx, a.Org.ID, ops.ID); err == nil {
			t.Error("channel not deleted")
		}
	})
}
