package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// On-call alerts (issue 9 item 6). The fan-out step reads each outbox
// event's operator side too: an automatic incident's technical detail
// (incident.opened / updated / resolved) and region health
// (region.unhealthy / healthy) become alerts, one row per channel and
// condition (app/store alerts*.go), decided by incident.PlanAlerts. The
// alert tick (alert_tick.go) repeats unacknowledged alerts on each
// channel's interval (incident.ShouldRepeat) and follows misconfigured
// checks; alert_deliver.go sends the messages in each channel's format
// (alert_formats.go).

// DefaultPagerDutyURL is PagerDuty's Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// DefaultAlertTick is how often the alert tick looks for repeats due.
const DefaultAlertTick = 15 * time.Second

// AlertOptions configure on-call alerts; zero values select the defaults.
type AlertOptions struct {
	// PagerDutyURL is where PagerDuty channels without a URL of their own
	// send (default DefaultPagerDutyURL).
	PagerDutyURL string
	// Tick is how often repeats and misconfigured checks are looked at
	// (default DefaultAlertTick).
	Tick time.Duration
	// HTTP posts channel messages (default: the webhook channel of
	// Options.Senders, else a new one with the default guard). Its SSRF
	// guard checks every address dialled.
	HTTP *Webhook
	// Email mails email channels (default: the email channel of
	// Options.Senders); nil leaves email channels undelivered.
	Email *Email
	// Disabled turns alerts off (tests of subscriber delivery alone).
	Disabled bool
}

// AlertStore is what alerts need from the database; *store.Store has it.
type AlertStore interface {
	AlertChannels(ctx context.Context, orgID int64) ([]store.AlertChannel, error)
	OpenAlerts(ctx context.Context, orgID int64, subject string) ([]store.Alert, error)
	ApplyAlerts(ctx context.Context, writes []store.AlertWrite, ackHash func(id int64) string, render store.AlertRender) (int, error)
	RepeatCandidates(ctx context.Context, limit int) ([]store.Alert, error)
	SubjectsWithOpenAlerts(ctx context.Context, kind string) (map[int64][]string, error)
	AcknowledgedUntold(ctx context.Context, limit int) ([]store.Alert, error)
	TroubleWithoutAutoIncidents(ctx context.Context) ([]store.TroubledCheck, error)
	OpenAlertsWithoutAutoIncidents(ctx context.Context) (map[int64][]string, error)
	MisconfiguredChecks(ctx context.Context) ([]store.MisconfiguredCheck, error)
	ClaimChannelDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.ClaimedChannelDelivery, error)
	RecordAttempts(ctx context.Context, attempts []store.DeliveryAttempt) (int, error)
}

var _ AlertStore = (*store.Store)(nil)

// alertStore is the notifier's store as an AlertStore, nil when it is not
// one (a test double of subscriber delivery) or alerts are off.
func (n *Notifier) alertStore() AlertStore {
	if n.opts.Alerts.Disabled {
		return nil
	}
	as, _ := n.store.(AlertStore)
	return as
}

// AlertMessage is one message to a channel, rendered when it is queued
// (outbox.rendered) so every attempt sends the same. It carries the
// technical detail: channels are for operators, not the public.
type AlertMessage struct {
	AlertID int64  `json:"alert_id,omitempty"`
	Step    string `json:"step"` // trigger, escalate, repeat, resolve, acknowledge, test
	Kind    string `json:"kind"` // an incident.AlertKind; "" for a test
	Title   string `json:"title"`
	// Summary is the one line every format leads with.
	Summary     string    `json:"summary"`
	Subject     string    `json:"subject"`
	SubjectName string    `json:"subject_name"`
	Severity    string    `json:"severity"` // critical, warning, info
	Detail      string    `json:"detail"`   // Markdown
	OpenedAt    time.Time `json:"opened_at"`
	At          time.Time `json:"at"`
	Sends       int       `json:"sends"`
	// AckURL acknowledges the alert (stops its repeats); "" when resolved
	// or without PHAROS_BASE_URL.
	AckURL     string `json:"ack_url,omitempty"`
	ConsoleURL string `json:"console_url,omitempty"`
	Channel    string `json:"channel"`
}

// AckToken is the secret of an alert's ack link: derived from the secret
// key and the alert id, so every message of the alert (repeats after a
// restart too) carries the same link while only its hash is stored.
func AckToken(secretKey []byte, alertID int64) string {
	mac := hmac.New(sha256.New, secretKey)
	fmt.Fprintf(mac, "pharos-alert-ack:%d", alertID)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// AckURL is the public ack link of an alert under baseURL.
func AckURL(baseURL string, alertID int64, token string) string {
	if baseURL == "" {
		return ""
	}
	return strings.TrimRight(baseURL, "/") + "/alerts/" + strconv.FormatInt(alertID, 10) + "/ack?token=" + token
}

func (n *Notifier) ackHash(id int64) string {
	return store.HashAckToken(AckToken(n.opts.SecretKey, id))
}

// renderAlert is the store.AlertRender of ApplyAlerts.
func (n *Notifier) renderAlert(a store.Alert, step string) ([]byte, error) {
	kind := incident.AlertKind(a.Kind)
	m := AlertMessage{AlertID: a.ID, Step: step, Kind: a.Kind, Title: kind.Title(), Subject: a.Subject,
		SubjectName: a.SubjectName, Detail: a.Detail, OpenedAt: a.OpenedAt, At: n.opts.Now().UTC(), Sends: a.Sends,
		Channel: a.ChannelName, Severity: "warning"}
	if kind.Critical() {
		m.Severity = "critical"
	}
	what := fmt.Sprintf("%s: %s", m.Title, a.SubjectName)
	switch step {
	case store.AlertStepRepeat:
		m.Summary = fmt.Sprintf("Still firing (%s): %s", since(a.OpenedAt, m.At), what)
	case store.AlertStepEscalate:
		m.Summary = "Worse: " + what
	case store.AlertStepResolve:
		m.Summary, m.Severity = "Recovered: "+what, "info"
	case store.AlertStepAcknowledge:
		m.Summary, m.Severity = "Acknowledged: "+what, "info"
	default:
		m.Summary = "Alert: " + what
	}
	if step != store.AlertStepResolve && len(n.opts.SecretKey) > 0 {
		m.AckURL = AckURL(n.opts.BaseURL, a.ID, AckToken(n.opts.SecretKey, a.ID))
	}
	if n.opts.BaseURL != "" {
		m.ConsoleURL = strings.TrimRight(n.opts.BaseURL, "/") + "/admin/alerts"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("notify: render alert %d: %w", a.ID, err)
	}
	return b, nil
}

// TestAlertMessage is the message the console's "send test" queues.
func TestAlertMessage(ch store.AlertChannel, baseURL string, at time.Time) ([]byte, error) {
	m := AlertMessage{Step: store.AlertStepTest, Title: "test message", Subject: "channel:" + strconv.FormatInt(ch.ID, 10),
		SubjectName: ch.Name, Severity: "info", At: at.UTC(), OpenedAt: at.UTC(), Channel: ch.Name,
		Summary: "Test: Pharos alerts reach " + ch.Name,
		Detail:  "This is a test message from Pharos. Alerts of this channel look like this one."}
	if baseURL != "" {
		m.ConsoleURL = strings.TrimRight(baseURL, "/") + "/admin/alerts"
	}
	return json.Marshal(m)
}

func since(from, to time.Time) string {
	d := to.Sub(from).Round(time.Minute)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("for %d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("for %dh%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("for %d days", int(d/(24*time.Hour)))
}

// condition is what fires (or not) about one subject now.
type condition struct {
	orgID       int64
	subject     string
	subjectName string
	componentID int64
	checkID     int64
	detail      string
	firing      []incident.AlertKind
	maintenance bool
}

// alertPayload is the operator side of an outbox event.
type alertPayload struct {
	ComponentID     int64  `json:"component_id"`
	ComponentName   string `json:"component_name"`
	ComponentStatus string `json:"component_status"`
	Impact          string `json:"impact"`
	// Action is the aggregator's (incident.Action): only automatic
	// incidents carry it, and only they are probe trouble.
	Action    string `json:"action"`
	CheckID   int64  `json:"check_id"`
	Region    string `json:"region"`
	Technical struct {
		Detail          string          `json:"detail"`
		CheckIDs        []int64         `json:"check_ids"`
		CheckNames      []string        `json:"check_names"`
		Regions         []string        `json:"regions"`
		ExcludedRegions []string        `json:"excluded_regions"`
		Kinds           []incident.Kind `json:"kinds"`
	} `json:"technical"`
}

// eventCondition reads the condition an outbox event reports; ok is false
// for events alerts do not follow (incident.repeated among them: repeats
// are the alert tick's, on each channel's own interval).
func eventCondition(row store.OutboxRow) (condition, bool) {
	var p alertPayload
	if err := json.Unmarshal(row.Payload, &p); err != nil {
		return condition{}, false
	}
	c := condition{orgID: row.OrgID}
	switch row.Kind {
	case "incident.opened", "incident.updated", "incident.resolved":
		if p.ComponentID == 0 || p.Action == "" {
			return c, false // an incident people wrote: no probe trouble behind it
		}
		c.subject, c.componentID, c.checkID = "component:"+strconv.FormatInt(p.ComponentID, 10), p.ComponentID, p.CheckID
		c.subjectName = p.ComponentName
		if len(p.Technical.CheckNames) > 0 {
			c.subjectName += " (" + strings.Join(p.Technical.CheckNames, ", ") + ")"
		}
		c.detail = technicalText(p)
		c.maintenance = p.ComponentStatus == incident.UnderMaintenance
		if row.Kind != "incident.resolved" {
			state := incident.Degraded
			if p.Impact == "major" || p.Impact == "critical" {
				state = incident.Down
			}
			c.firing = incident.FiringAlerts(state, p.Technical.Kinds)
		}
		return c, true
	case "region.unhealthy", "region.healthy":
		if p.Region == "" {
			return c, false
		}
		c.subject, c.subjectName = "region:"+p.Region, "probe region "+p.Region
		if row.Kind == "region.unhealthy" {
			c.firing = []incident.AlertKind{incident.AlertRegionUnhealthy}
			c.detail = "Most targets probed from region " + p.Region + " fail while other regions see them up: " +
				"its results are shown but excluded from quorum until it recovers."
		}
		return c, true
	}
	return c, false
}

func technicalText(p alertPayload) string {
	var b strings.Builder
	b.WriteString(p.Technical.Detail)
	if len(p.Technical.Regions) > 0 {
		fmt.Fprintf(&b, "\n\nRegions reporting: %s.", strings.Join(p.Technical.Regions, ", "))
	}
	if len(p.Technical.ExcludedRegions) > 0 {
		fmt.Fprintf(&b, "\nExcluded (unhealthy) regions: %s.", strings.Join(p.Technical.ExcludedRegions, ", "))
	}
	return strings.TrimSpace(b.String())
}

// alertEvent turns one outbox event into alert steps. It is called before
// the event is marked processed and is idempotent (a replayed event finds
// its alerts already open, or resolved), so a crash in between sends
// nothing twice.
func (n *Notifier) alertEvent(ctx context.Context, row store.OutboxRow) error {
	as := n.alertStore()
	if as == nil {
		return nil
	}
	c, ok := eventCondition(row)
	if !ok {
		return nil
	}
	return n.applyCondition(ctx, as, c)
}

// applyCondition plans and applies one subject's alerts on every channel
// of its organisation: enabled channels get every step; a disabled one
// only sees its open alerts resolve.
func (n *Notifier) applyCondition(ctx context.Context, as AlertStore, c condition) error {
	channels, err := as.AlertChannels(ctx, c.orgID)
	if err != nil || len(channels) == 0 {
		return err
	}
	open, err := as.OpenAlerts(ctx, c.orgID, c.subject)
	if err != nil {
		return err
	}
	byChannel := map[int64][]store.Alert{}
	for _, a := range open {
		byChannel[a.ChannelID] = append(byChannel[a.ChannelID], a)
	}
	now := n.opts.Now()
	var writes []store.AlertWrite
	for _, ch := range channels {
		have := byChannel[ch.ID]
		if !ch.Enabled && len(have) == 0 {
			continue
		}
		opened := make([]incident.OpenAlert, len(have))
		byKind := map[incident.AlertKind]store.Alert{}
		for i, a := range have {
			opened[i] = incident.OpenAlert{Kind: incident.AlertKind(a.Kind), Acknowledged: a.AcknowledgedAt != nil}
			byKind[incident.AlertKind(a.Kind)] = a
		}
		firing := c.firing
		if !ch.Enabled {
			firing = nil
		}
		for _, step := range incident.PlanAlerts(opened, firing, c.maintenance) {
			a := store.Alert{OrgID: c.orgID, ChannelID: ch.ID, Kind: string(step.Kind), Subject: c.subject,
				SubjectName: c.subjectName, ComponentID: c.componentID, CheckID: c.checkID, Detail: c.detail}
			switch step.Step {
			case incident.AlertEscalate, incident.AlertRelabel:
				a.ID = byKind[step.From].ID
			case incident.AlertResolve:
				a.ID = byKind[step.Kind].ID
			}
			writes = append(writes, store.AlertWrite{Step: string(step.Step), Alert: a, At: now})
		}
	}
	if len(writes) == 0 {
		return nil
	}
	queued, err := as.ApplyAlerts(ctx, writes, n.ackHash, n.renderAlert)
	if err != nil {
		return err
	}
	if queued > 0 {
		n.wakeAlerts()
	}
	return nil
}
