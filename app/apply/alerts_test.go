package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

const alertsFile = `page: {slug: acme, title: ACME}
components:
  - name: API
alerts:
  channels:
    - {name: ops, kind: slack, url: "https://93.184.216.34/services/T0/B0/x", repeat: 30m}
    - {name: pager, kind: pagerduty, routing_key: R0UTINGKEY}
    - {name: hook, kind: webhook, url: "https://93.184.216.34/hook", repeat: 0s}
    - {name: oncall mail, kind: email, address: oncall@example.org, enabled: false}
`

func TestApplyAlertChannels(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org := newOrg(t, st, "acme-inc")
		rep := mustApply(t, st, org, alertsFile, false)
		wantCounts(t, rep, 6, 0, 0) // page, component, 4 channels
		chans, err := st.AlertChannels(ctx, org)
		if err != nil || len(chans) != 4 {
			t.Fatalf("channels = %+v, %v", chans, err)
		}
		byName := map[string]store.AlertChannel{}
		for _, c := range chans {
			byName[c.Name] = c
		}
		if c := byName["ops"]; c.Kind != "slack" || c.RepeatEvery != 30*time.Minute || !c.Enabled {
			t.Errorf("ops = %+v", c)
		}
		if c := byName["pager"]; c.Config.RoutingKey != "R0UTINGKEY" || c.RepeatEvery != time.Hour {
			t.Errorf("pager = %+v (want the default repeat of 1h)", c)
		}
		if c := byName["hook"]; c.Config.Secret == "" || c.RepeatEvery != 0 {
			t.Errorf("hook = %+v", c)
		}
		if c := byName["oncall mail"]; c.Enabled || c.Config.Address != "oncall@example.org" {
			t.Errorf("mail = %+v", c)
		}
		// Idempotent; the webhook keeps its secret.
		wantCounts(t, mustApply(t, st, org, alertsFile, false), 0, 0, 0)
		if c, _ := st.AlertChannel(ctx, org, byName["hook"].ID); c.Config.Secret != byName["hook"].Config.Secret {
			t.Error("the second apply changed the webhook's secret")
		}
		// A change and a removal; the routing key is not printed.
		changed := strings.Replace(alertsFile, "R0UTINGKEY", "NEWKEY", 1)
		changed = strings.Replace(changed, "    - {name: oncall mail, kind: email, address: oncall@example.org, enabled: false}\n", "", 1)
		rep = mustApply(t, st, org, changed, false)
		wantCounts(t, rep, 0, 1, 1)
		if strings.Contains(strings.Join(rep.Lines, "\n"), "NEWKEY") {
			t.Errorf("the plan prints the routing key: %v", rep.Lines)
		}
		// A file without an alerts section leaves channels alone.
		bare := alertsFile[:strings.Index(alertsFile, "alerts:")]
		wantCounts(t, mustApply(t, st, org, bare, false), 0, 0, 0)
		if chans, _ := st.AlertChannels(ctx, org); len(chans) != 3 {
			t.Errorf("channels after a file without alerts = %d, want 3", len(chans))
		}
	})
}

func TestApplyAlertChannelMistakes(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	org := newOrg(t, st, "acme-inc")
	head := "page: {slug: acme, title: ACME}\nalerts:\n  channels:\n"
	tests := []struct {
		name, item string
		want       string
	}{
		{"metadata address", `    - {name: x, kind: webhook, url: "http://169.254.169.254/latest"}`, "alerts may not reach"},
		{"loopback name", `    - {name: x, kind: slack, url: "http://localhost:8080/x"}`, "alerts may not reach"},
		{"unknown kind", `    - {name: x, kind: sms, url: "https://93.184.216.34/"}`, "not one of"},
		{"pagerduty without key", `    - {name: x, kind: pagerduty}`, "routing_key: missing"},
		{"bad address", `    - {name: x, kind: email, address: "a@b, c@d"}`, "not an email address"},
		{"repeat too often", `    - {name: x, kind: slack, url: "https://93.184.216.34/", repeat: 10s}`, "at most every minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apply.Apply(context.Background(), st, org, "pharos.yaml", []byte(head+tt.item+"\n"), false, "test")
			var verr *apply.ValidationError
			if !errors.As(err, &verr) || !strings.Contains(err.Error(), "pharos.yaml:4: alerts.channels[0]") ||
				!strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error on line 4 containing %q", err, tt.want)
			}
		})
	}
}
