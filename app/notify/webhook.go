package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pharos/probes"
)

// Webhook defaults.
const (
	DefaultWebhookTimeout = 10 * time.Second
	// DefaultWebhookResponseCap is how much of a receiver's answer is read
	// (and thrown away, so the connection can be reused).
	DefaultWebhookResponseCap = 64 << 10
	// WebhookDocumentation is meta.documentation: where receivers learn
	// the payload and how to verify signatures.
	WebhookDocumentation = "https://www.standardwebhooks.com/"
	webhookSecretPrefix  = "whsec_"
)

// WebhookOptions configure the webhook channel; zero values select the
// defaults.
type WebhookOptions struct {
	// AllowPrivate lets deliveries reach private, loopback and link-local
	// addresses (PHAROS_ALLOW_PRIVATE_TARGETS); cloud metadata stays
	// refused.
	AllowPrivate bool
	// Guard checks every dialled address (default probes.NewGuard(nil)).
	Guard *probes.Guard
	// Timeout bounds one request, answer included (default 10 s).
	Timeout time.Duration
	// ResponseCap bounds how much of an answer is read (default 64 KiB).
	ResponseCap int64
	// MaxIdlePerHost keeps connections to a receiver for the next
	// deliveries (default 64).
	MaxIdlePerHost int
	// Now stamps webhook-timestamp (default time.Now).
	Now func() time.Time
}

// Webhook is the webhook channel: a POST of Statuspage's subscriber
// payload signed with Standard Webhooks headers (DESIGN §10). 2xx is
// success; a redirect is a failure and is not followed; 410 is Gone (the
// subscriber is disabled); 429 and 503 carry Retry-After; any other answer
// or error is retried on the schedule. Every dial is checked by the SSRF
// guard after DNS resolution, so a URL that was public at subscribe time
// and now resolves to a private or metadata address is refused.
type Webhook struct {
	opts   WebhookOptions
	client *http.Client
}

var _ Sender = (*Webhook)(nil)

// NewWebhook returns the webhook channel.
func NewWebhook(opts WebhookOptions) *Webhook {
	if opts.Guard == nil {
		opts.Guard = probes.NewGuard(nil)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultWebhookTimeout
	}
	if opts.ResponseCap <= 0 {
		opts.ResponseCap = DefaultWebhookResponseCap
	}
	if opts.MaxIdlePerHost <= 0 {
		opts.MaxIdlePerHost = 64
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	guard, allow := opts.Guard, opts.AllowPrivate
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook: %w", err)
		}
		return guard.Check(ap.Addr(), allow)
	}}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the guard
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * opts.MaxIdlePerHost,
		MaxIdleConnsPerHost:   opts.MaxIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
	}
	return &Webhook{opts: opts, client: &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Close drops idle connections.
func (w *Webhook) Close() { w.client.CloseIdleConnections() }

// webhookBody is Statuspage's subscriber webhook payload.
type webhookBody struct {
	Meta            webhookMeta      `json:"meta"`
	Page            webhookPage      `json:"page"`
	Incident        *Incident        `json:"incident,omitempty"`
	ComponentUpdate *ComponentUpdate `json:"component_update,omitempty"`
	Component       *Component       `json:"component,omitempty"`
}

type webhookMeta struct {
	Unsubscribe   string `json:"unsubscribe"`
	Documentation string `json:"documentation"`
	GeneratedAt   string `json:"generated_at"`
}

type webhookPage struct {
	ID                string `json:"id"`
	StatusIndicator   string `json:"status_indicator"`
	StatusDescription string `json:"status_description"`
}

// WebhookBody renders the payload a subscriber receives for m.
func WebhookBody(m Message) ([]byte, error) {
	ev := m.Event
	body := webhookBody{
		Meta: webhookMeta{Unsubscribe: m.UnsubscribeURL, Documentation: WebhookDocumentation,
			GeneratedAt: apiTime(m.EventAt)},
		Page:     webhookPage{ID: ev.Page.ID, StatusIndicator: ev.Page.StatusIndicator, StatusDescription: ev.Page.StatusDescription},
		Incident: ev.Incident, ComponentUpdate: ev.ComponentUpdate, Component: ev.Component,
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("webhook: render: %w", err)
	}
	return b, nil
}

// Sign returns the webhook-signature value for a message: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under the whsec_ secret.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhookSecretPrefix))
	if err != nil || len(key) == 0 {
		return "", errors.New("webhook: the subscriber's signing secret is not a whsec_ base64 key")
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Send makes one signed POST to the subscriber's URL.
func (w *Webhook) Send(ctx context.Context, m Message) (Outcome, error) {
	u, err := url.Parse(m.Subscriber.Address)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Outcome{Status: Rejected, Detail: "not an http(s) URL"}, nil
	}
	body, err := WebhookBody(m)
	if err != nil {
		return Outcome{Status: Rejected, Detail: err.Error()}, nil
	}
	ts := w.opts.Now().Unix()
	sig, err := Sign(m.Subscriber.Secret, m.ID, ts, body)
	if err != nil {
		return Outcome{Status: Rejected, Detail: err.Error()}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Outcome{Status: Rejected, Detail: "bad request: " + err.Error()}, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Pharos-Webhooks/1")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.client.Do(req)
	if err != nil {
		return Outcome{Status: Retry}, fmt.Errorf("webhook: %w", describeError(err))
	}
	defer resp.Body.Close()
	out := classify(resp, w.opts.Now())
	// Read (a bounded part of) the answer so the connection is reused. A
	// body cut short after the status does not change what it said.
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, w.opts.ResponseCap)); err != nil && out.Status != Delivered {
		out.Detail += " (answer cut short)"
	}
	return out, nil
}

// classify maps a receiver's answer to an Outcome.
func classify(resp *http.Response, now time.Time) Outcome {
	code := resp.StatusCode
	out := Outcome{Code: code, Detail: "HTTP " + strconv.Itoa(code)}
	switch {
	case code >= 200 && code < 300:
		out.Status, out.Detail = Delivered, ""
	case code == http.StatusGone:
		out.Status = Gone
	case code >= 300 && code < 400:
		out.Status, out.Detail = Retry, out.Detail+": redirects are not followed"
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		out.Status, out.RetryAfter = Retry, RetryAfter(resp.Header.Get("Retry-After"), now)
	default:
		out.Status = Retry
	}
	return out
}

// RetryAfter parses a Retry-After value (seconds or an HTTP date) into a
// wait from now; 0 when absent or unreadable.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(7*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// describeError keeps a refused address's reason readable in the
// delivery log ("10.0.0.7 is a private address …").
func describeError(err error) error {
	var be *probes.BlockedError
	if errors.As(err, &be) {
		return fmt.Errorf("blocked address: %w", be)
	}
	return err
}
