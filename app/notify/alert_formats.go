package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"pharos/app/store"
)

// The payload formats of the chat and paging services an alert channel
// posts to, each as the service documents its incoming webhook.

// ChatBody renders m for a Slack, Discord or Teams incoming webhook.
func ChatBody(kind string, m AlertMessage) ([]byte, error) {
	var v any
	switch kind {
	case store.AlertChannelSlack:
		v = slackBody(m)
	case store.AlertChannelDiscord:
		v = discordBody(m)
	case store.AlertChannelTeams:
		v = teamsBody(m)
	default:
		return nil, fmt.Errorf("alerts: no chat format for channel kind %q", kind)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("alerts: render %s: %w", kind, err)
	}
	return b, nil
}

// clip bounds s to n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "") + "…"
}

func plainText(m AlertMessage) string {
	var b strings.Builder
	b.WriteString(m.Summary)
	if m.Detail != "" {
		b.WriteString("\n\n" + m.Detail)
	}
	if m.AckURL != "" {
		b.WriteString("\n\nAcknowledge (stops the repeats): " + m.AckURL)
	}
	if m.ConsoleURL != "" {
		b.WriteString("\nConsole: " + m.ConsoleURL)
	}
	return b.String()
}

// slackBody is a Slack incoming-webhook message: text (the notification
// fallback) and Block Kit blocks (header ≤150, section text ≤3000).
func slackBody(m AlertMessage) map[string]any {
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": clip(m.Summary, 150)}},
	}
	if m.Detail != "" {
		// Slack's mrkdwn bolds with single asterisks.
		detail := strings.ReplaceAll(m.Detail, "**", "*")
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": clip(detail, 3000)}})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{
		{"type": "mrkdwn", "text": fmt.Sprintf("%s · severity %s · opened %s", m.Title, m.Severity, m.OpenedAt.UTC().Format(time.RFC3339))},
	}})
	if m.AckURL != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []map[string]any{
			{"type": "button", "text": map[string]any{"type": "plain_text", "text": "Acknowledge"}, "url": m.AckURL, "style": "primary"},
		}})
	}
	return map[string]any{"text": clip(m.Summary, 3000), "blocks": blocks}
}

// severityColor is the embed and card accent of a severity.
func severityColor(s string) int {
	switch s {
	case "critical":
		return 0xD70000
	case "warning":
		return 0xF0A000
	}
	return 0x2E8B57
}

// discordBody is a Discord webhook message: content (≤2000) and one embed
// (title ≤256, description ≤4096).
func discordBody(m AlertMessage) map[string]any {
	embed := map[string]any{
		"title": clip(m.Title+": "+m.SubjectName, 256), "description": clip(m.Detail, 4096),
		"color": severityColor(m.Severity), "timestamp": m.At.UTC().Format(time.RFC3339),
		"fields": []map[string]any{{"name": "Severity", "value": m.Severity, "inline": true}},
	}
	if m.AckURL != "" {
		embed["url"] = m.AckURL
		embed["fields"] = append(embed["fields"].([]map[string]any),
			map[string]any{"name": "Acknowledge", "value": "[Stop the repeats](" + m.AckURL + ")", "inline": true})
	}
	return map[string]any{"content": clip(m.Summary, 2000), "embeds": []map[string]any{embed},
		"allowed_mentions": map[string]any{"parse": []string{}}}
}

// teamsBody is a Microsoft Teams (Workflows) webhook message: an Adaptive
// Card in attachments.
func teamsBody(m AlertMessage) map[string]any {
	body := []map[string]any{
		{"type": "TextBlock", "text": m.Summary, "weight": "Bolder", "size": "Medium", "wrap": true},
		{"type": "TextBlock", "text": m.Detail, "wrap": true},
		{"type": "FactSet", "facts": []map[string]any{{"title": "Severity", "value": m.Severity},
			{"title": "Opened", "value": m.OpenedAt.UTC().Format(time.RFC3339)}}},
	}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
		"version": "1.4", "body": body}
	if m.AckURL != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": "Acknowledge", "url": m.AckURL}}
	}
	return map[string]any{"type": "message", "attachments": []map[string]any{
		{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card},
	}}
}

// PagerDutyBody is a PagerDuty Events API v2 event: trigger (a new alert,
// its repeats and escalations), acknowledge or resolve, all under one
// dedup_key per alert so PagerDuty keeps one incident.
func PagerDutyBody(routingKey string, m AlertMessage) ([]byte, error) {
	action := "trigger"
	switch m.Step {
	case store.AlertStepResolve:
		action = "resolve"
	case store.AlertStepAcknowledge:
		action = "acknowledge"
	}
	sev := m.Severity
	if sev != "critical" && sev != "warning" {
		sev = "info"
	}
	ev := map[string]any{"routing_key": routingKey, "event_action": action, "dedup_key": PagerDutyDedupKey(m)}
	if action == "trigger" {
		source := m.SubjectName
		if source == "" {
			source = "pharos" // PagerDuty refuses an event without a source
		}
		ev["payload"] = map[string]any{"summary": clip(m.Summary, 1024), "source": clip(source, 255),
			"severity": sev, "timestamp": m.At.UTC().Format(time.RFC3339), "class": m.Kind, "component": m.Subject,
			"group": "pharos", "custom_details": map[string]any{"detail": m.Detail, "ack_url": m.AckURL}}
		ev["client"], ev["client_url"] = "Pharos", m.ConsoleURL
		if m.AckURL != "" {
			ev["links"] = []map[string]any{{"href": m.AckURL, "text": "Acknowledge in Pharos"}}
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("alerts: render pagerduty: %w", err)
	}
	return b, nil
}

// PagerDutyDedupKey is the one key of an alert's PagerDuty events.
func PagerDutyDedupKey(m AlertMessage) string {
	if m.AlertID == 0 {
		return "pharos-test-" + m.At.UTC().Format("20060102T150405Z")
	}
	return fmt.Sprintf("pharos-alert-%d", m.AlertID)
}

// post sends a JSON body through the guarded client: the SSRF guard
// checks the address dialled at delivery time, whatever the URL resolved
// to when the channel was saved. Outcomes are those of webhooks.
func (w *Webhook) post(ctx context.Context, rawURL string, body []byte, headers map[string]string) (Outcome, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Outcome{Status: Rejected, Detail: "not an http(s) URL"}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Outcome{Status: Rejected, Detail: "bad request: " + err.Error()}, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Pharos-Alerts/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return Outcome{Status: Retry}, fmt.Errorf("alert: %w", describeError(err))
	}
	defer resp.Body.Close()
	out := classify(resp, w.opts.Now())
	if c := resp.StatusCode; c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests {
		// Slack, Discord, Teams and PagerDuty answer a malformed message,
		// a revoked hook or a wrong key with a 4xx: retrying for three
		// days changes nothing; the delivery log shows the refusal.
		out.Status = Rejected
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, w.opts.ResponseCap)); err != nil && out.Status != Delivered {
		out.Detail += " (answer cut short)"
	}
	return out, nil
}

// SendAlert mails an alert to an email channel's address: plain text,
// with the technical detail and the ack link.
func (e *Email) SendAlert(ctx context.Context, to, id string, m AlertMessage) (Outcome, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat("Pharos alerts", e.from.Address); err != nil {
		return Outcome{Status: Rejected, Detail: "from: " + err.Error()}, nil
	}
	if strings.ContainsAny(to, "\r\n") {
		return Outcome{Status: Rejected, Detail: "recipient has control characters"}, nil
	}
	if err := msg.To(to); err != nil {
		return Outcome{Status: Rejected, Detail: "recipient: " + err.Error()}, nil
	}
	msg.Subject(headerSafe("[Pharos] " + m.Summary))
	msg.SetDateWithValue(e.opts.Now())
	msg.SetGenHeaderPreformatted(gomail.HeaderMessageID, "<"+safeID(id)+"@"+e.domain+">")
	if m.AlertID != 0 {
		// One alert's messages form one thread.
		root := fmt.Sprintf("<alert-%d@%s>", m.AlertID, e.domain)
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, root)
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, root)
	}
	msg.SetGenHeaderPreformatted("Auto-Submitted", "auto-generated")
	msg.SetGenHeaderPreformatted(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, plainText(m))
	return outcome(e.send(ctx, msg))
}
