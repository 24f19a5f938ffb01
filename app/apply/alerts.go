package apply

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"pharos/app/store"
	"pharos/probes"
)

// alertsConfig is the file's optional alerts section: the organisation's
// on-call channels, matched by name.
//
//	alerts:
//	  channels:
//	    - {name: ops, kind: slack, url: "https://hooks.slack.com/services/…", repeat: 1h}
//	    - {name: pager, kind: pagerduty, routing_key: R0UTINGKEY, repeat: 30m}
//	    - {name: oncall mail, kind: email, address: oncall@example.org}
//
// Without the section, channels made in the console are left alone; with
// it, channels it does not name are removed.
type alertsConfig struct {
	channels []channelConfig
}

type channelConfig struct {
	name, kind, url, address, routingKey string
	repeat                               time.Duration
	enabled                              bool
	line                                 int
}

// maxAlertRepeat bounds a channel's repeat interval.
const maxAlertRepeat = 7 * 24 * time.Hour

func (r *reader) alerts(n *yaml.Node, path string) *alertsConfig {
	a := &alertsConfig{}
	r.fields(n, path, []string{"channels"}, func(key string, v *yaml.Node) {
		seen := map[string]bool{}
		r.items(v, path+".channels", func(i int, v *yaml.Node) {
			ch := r.channel(v, fmt.Sprintf("%s.channels[%d]", path, i))
			if ch.name != "" && seen[ch.name] {
				r.errorf(v, fmt.Sprintf("%s.channels[%d].name", path, i), "channel %q repeated", ch.name)
			}
			seen[ch.name] = true
			a.channels = append(a.channels, ch)
		})
	})
	return a
}

func (r *reader) channel(n *yaml.Node, path string) channelConfig {
	ch := channelConfig{line: r.resolve(n).Line, repeat: time.Hour, enabled: true}
	nodes := map[string]*yaml.Node{}
	ok := r.fields(n, path, []string{"name", "kind", "url", "address", "routing_key", "repeat", "enabled"}, func(key string, v *yaml.Node) {
		nodes[key] = v
		p := path + "." + key
		switch key {
		case "name":
			ch.name = r.name(v, p)
		case "kind":
			if s, ok := r.str(v, p); ok {
				ch.kind = s
				r.oneOf(v, p, s, store.AlertChannelKinds()...)
			}
		case "url":
			if s, ok := r.str(v, p); ok {
				ch.url = s
				r.url(v, p, s)
				if msg := channelHostProblem(s, allowPrivateTargets()); msg != "" {
					r.errorf(v, p, "%s", msg)
				}
			}
		case "address":
			ch.address, _ = r.str(v, p)
			if !strings.Contains(ch.address, "@") || strings.ContainsAny(ch.address, "\r\n <>,") {
				r.errorf(v, p, "%q is not an email address", ch.address)
			}
		case "routing_key":
			ch.routingKey, _ = r.str(v, p)
		case "repeat":
			if d, ok := r.duration(v, p, 0, maxAlertRepeat); ok {
				ch.repeat = d
				if d > 0 && d < time.Minute {
					r.errorf(v, p, "%s: repeat at most every minute (0s never repeats)", d)
				}
			}
		case "enabled":
			ch.enabled, _ = r.boolean(v, p)
		}
	})
	if !ok {
		return ch
	}
	has := map[string]bool{}
	for k := range nodes {
		has[k] = true
	}
	r.require(n, path, has, "name", "kind")
	switch ch.kind {
	case store.AlertChannelEmail:
		r.require(n, path, has, "address")
	case store.AlertChannelPagerDuty:
		r.require(n, path, has, "routing_key")
	case "":
	default:
		r.require(n, path, has, "url")
	}
	return ch
}

// channelHostProblem refuses channel URLs whose host is an address the
// notifier may not reach, or a localhost name. Other names are checked
// after DNS resolution at every delivery.
func channelHostProblem(raw string, allowPrivate bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	if err := probes.NewGuard(nil).Check(ip, allowPrivate); err != nil {
		return fmt.Sprintf("%s is an address alerts may not reach: %v", ip, err)
	}
	return ""
}

func (ch channelConfig) store(orgID int64) store.AlertChannel {
	c := store.AlertChannel{OrgID: orgID, Name: ch.name, Kind: ch.kind, RepeatEvery: ch.repeat, Enabled: ch.enabled}
	c.Config.URL, c.Config.Address, c.Config.RoutingKey = ch.url, ch.address, ch.routingKey
	return c
}

// diffAlerts matches the file's channels with the organisation's by name.
// A webhook channel keeps the secret it has; a new one gets one, shown in
// the console.
func diffAlerts(p *plan, orgID int64, c *config, cur state) {
	if c.alerts == nil {
		return
	}
	for _, ch := range c.alerts.channels {
		want := ch.store(orgID)
		i := slices.IndexFunc(cur.channels, func(x store.AlertChannel) bool { return x.Name == ch.name })
		if i < 0 {
			p.add(op{kind: opCreate, what: "alert channel", name: ch.name, run: func(ctx context.Context, tx *store.Tx, _ *ids) error {
				_, err := tx.CreateAlertChannel(ctx, want)
				return err
			}})
			continue
		}
		old := cur.channels[i]
		var chg changes
		chg.text("kind", old.Kind, want.Kind)
		chg.text("address", old.Config.Address, want.Config.Address)
		// Chat webhook URLs and routing keys are credentials: the plan
		// and the audit log say that they changed, not what they are.
		if old.Config.URL != want.Config.URL {
			chg = append(chg, "url changed")
		}
		if old.Config.RoutingKey != want.Config.RoutingKey {
			chg = append(chg, "routing_key changed")
		}
		chg.plain("repeat", old.RepeatEvery, want.RepeatEvery)
		chg.plain("enabled", old.Enabled, want.Enabled)
		if len(chg) == 0 {
			continue
		}
		want.ID = old.ID
		if want.Kind == old.Kind {
			want.Config.Secret = old.Config.Secret
		}
		p.add(op{kind: opUpdate, what: "alert channel", name: ch.name, detail: chg.String(),
			run: func(ctx context.Context, tx *store.Tx, _ *ids) error { return tx.UpdateAlertChannel(ctx, want) }})
	}
	for _, old := range cur.channels {
		if !slices.ContainsFunc(c.alerts.channels, func(ch channelConfig) bool { return ch.name == old.Name }) {
			p.add(deleteOp("alert channel", old.Name, true, func(ctx context.Context, tx *store.Tx) error {
				return tx.DeleteAlertChannel(ctx, orgID, old.ID)
			}))
		}
	}
}
