package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func testMessage(url string) notify.Message {
	return notify.Message{ID: "msg_test", Kind: "incident.created", Attempt: 1, UnsubscribeURL: "https://status.example/p/x/subscribe",
		Subscriber: notify.Subscriber{ID: 1, Kind: notify.KindWebhook, Address: url, Secret: testSecret},
		Event: notify.Event{Page: notify.EventPage{ID: "1", StatusIndicator: "none", StatusDescription: "All Systems Operational"},
			Incident: &notify.Incident{ID: "7", Name: "x", Status: "investigating"}}}
}

func TestSignMatchesTheStandardWebhooksLibrary(t *testing.T) {
	t.Parallel()
	body := []byte(`{"hello":"world"}`)
	ts := time.Unix(1_700_000_000, 0)
	got, err := notify.Sign(testSecret, "msg_1", ts.Unix(), body)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	want, err := wh.Sign("msg_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if _, err := notify.Sign("not-a-secret!", "msg_1", ts.Unix(), body); err == nil {
		t.Fatal("Sign with a malformed secret succeeded, want an error")
	}
}

func TestWebhookAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		want       notify.Status
		retryAfter time.Duration
	}{
		{"200 delivered", 200, nil, notify.Delivered, 0},
		{"204 delivered", 204, nil, notify.Delivered, 0},
		{"301 is a failure, not followed", 301, map[string]string{"Location": "/elsewhere"}, notify.Retry, 0},
		{"307 is a failure, not followed", 307, map[string]string{"Location": "/elsewhere"}, notify.Retry, 0},
		{"400 retried", 400, nil, notify.Retry, 0},
		{"410 gone", 410, nil, notify.Gone, 0},
		{"429 with seconds", 429, map[string]string{"Retry-After": "120"}, notify.Retry, 2 * time.Minute},
		{"503 with seconds", 503, map[string]string{"Retry-After": "30"}, notify.Retry, 30 * time.Second},
		{"429 without Retry-After", 429, nil, notify.Retry, 0},
		{"500 ignores Retry-After", 500, map[string]string{"Retry-After": "120"}, notify.Retry, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var followed atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					followed.Store(true)
					return
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(strings.Repeat("x", 200<<10))) // more than the cap
			}))
			defer srv.Close()
			hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true})
			defer hook.Close()
			out, err := hook.Send(context.Background(), testMessage(srv.URL+"/hook"))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if out.Status != tt.want || out.RetryAfter != tt.retryAfter || out.Code != tt.status {
				t.Errorf("got %v (retry after %v, code %d), want %v (retry after %v, code %d)",
					out.Status, out.RetryAfter, out.Code, tt.want, tt.retryAfter, tt.status)
			}
			if followed.Load() {
				t.Error("the redirect was followed")
			}
		})
	}
}

func TestRetryAfterForms(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"90", 90 * time.Second},
		{" 90 ", 90 * time.Second},
		{"99999999999", 7 * 24 * time.Hour},
		{now.Add(10 * time.Minute).Format(http.TimeFormat), 10 * time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := notify.RetryAfter(tt.in, now); got != tt.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWebhookTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	defer hook.Close()
	start := time.Now()
	_, err := hook.Send(context.Background(), testMessage(srv.URL))
	if err == nil {
		t.Fatal("Send to a receiver that never answers succeeded, want a timeout error")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Send took %v, want about the 200 ms timeout", took)
	}
}

func TestWebhookRefusesPrivateTargetsAtDelivery(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	hook := notify.NewWebhook(notify.WebhookOptions{})
	defer hook.Close()
	for _, url := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://10.1.2.3/hook",
		"http://[fd00:ec2::254]/hook",
		srv.URL + "/hook",               // loopback by address
		"http://localhost" + port + "/", // loopback by name: checked after DNS
	} {
		out, err := hook.Send(context.Background(), testMessage(url))
		if err == nil || out.Status != notify.Retry || !strings.Contains(err.Error(), "blocked address") {
			t.Errorf("Send to %s: %v, %v; want refused as a blocked address", url, out.Status, err)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the loopback receiver was reached %d times, want 0", n)
	}
	// Allowing private targets opens loopback, never cloud metadata.
	open := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true})
	defer open.Close()
	if out, err := open.Send(context.Background(), testMessage(srv.URL+"/hook")); err != nil || out.Status != notify.Delivered {
		t.Errorf("with private targets allowed: %v, %v; want delivered", out.Status, err)
	}
	if _, err := open.Send(context.Background(), testMessage("http://169.254.169.254/")); err == nil {
		t.Error("with private targets allowed, cloud metadata was not refused")
	}
}

func TestNotifierRecordsRefusedTargets(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	ctx := context.Background()
	orgID, pageID, _ := seedPage(t, s)
	for _, url := range []string{"http://169.254.169.254/hook", "http://10.0.0.7/hook"} {
		sub, err := s.Subscribe(ctx, orgID, pageID, store.SubscriberWebhook, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ActivateWebhook(ctx, orgID, sub.Subscriber.ID, sub.Secret, nil); err != nil {
			t.Fatal(err)
		}
	}
	hook := notify.NewWebhook(notify.WebhookOptions{})
	defer hook.Close()
	n, err := notify.New(notify.Options{Store: s, Senders: map[string]notify.Sender{notify.KindWebhook: hook}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: "x", Status: "investigating",
		Body: "one", DeliverNotifications: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.FanOutOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if claimed, err := n.DeliverOnce(ctx); err != nil || claimed != 2 {
		t.Fatalf("DeliverOnce claimed %d (err %v), want 2", claimed, err)
	}
	log, err := s.Deliveries(ctx, orgID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range log {
		if d.Status != store.DeliveryPending || d.Attempts != 1 || !strings.Contains(d.LastError, "blocked address") {
			t.Errorf("delivery %d: %s after %d attempts, last error %q; want pending, 1, blocked address", d.ID, d.Status, d.Attempts, d.LastError)
		}
	}
}
