package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"pharos/app/notify"
	"pharos/app/store"
)

// Statuspage's documented subscriber webhook payload, written from its
// documentation (not from Pharos's types): meta, page, then incident or
// component_update + component.
type spPayload struct {
	Meta struct {
		Unsubscribe   string `json:"unsubscribe"`
		Documentation string `json:"documentation"`
	} `json:"meta"`
	Page struct {
		ID                string `json:"id"`
		StatusIndicator   string `json:"status_indicator"`
		StatusDescription string `json:"status_description"`
	} `json:"page"`
	Incident *struct {
		ID              string  `json:"id"`
		Name            string  `json:"name"`
		Status          string  `json:"status"`
		Impact          string  `json:"impact"`
		CreatedAt       string  `json:"created_at"`
		UpdatedAt       string  `json:"updated_at"`
		MonitoringAt    *string `json:"monitoring_at"`
		ResolvedAt      *string `json:"resolved_at"`
		Shortlink       string  `json:"shortlink"`
		PostmortemBody  *string `json:"postmortem_body"`
		ScheduledFor    *string `json:"scheduled_for"`
		ScheduledUntil  *string `json:"scheduled_until"`
		IncidentUpdates []struct {
			ID         string `json:"id"`
			IncidentID string `json:"incident_id"`
			Status     string `json:"status"`
			Body       string `json:"body"`
			CreatedAt  string `json:"created_at"`
			UpdatedAt  string `json:"updated_at"`
			DisplayAt  string `json:"display_at"`
		} `json:"incident_updates"`
	} `json:"incident"`
	ComponentUpdate *struct {
		ID          string `json:"id"`
		CreatedAt   string `json:"created_at"`
		OldStatus   string `json:"old_status"`
		NewStatus   string `json:"new_status"`
		ComponentID string `json:"component_id"`
	} `json:"component_update"`
	Component *struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Status    string `json:"status"`
		CreatedAt string `json:"created_at"`
	} `json:"component"`
}

// hit is one request a receiver got.
type hit struct {
	id     string
	path   string
	status int
	at     time.Time // on the test's clock
	body   spPayload
	raw    []byte
}

// receiver is a webhook endpoint on loopback. Every request must carry a
// Standard Webhooks signature the library accepts under the path's
// secret; answer scripts the reply to the n-th request (from 0), a
// negative status dropping the connection.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	clock  func() time.Time
	answer func(n int, w http.ResponseWriter, req *http.Request) int

	mu       sync.Mutex
	secrets  map[string]string // path → whsec_ secret
	hits     []hit
	inFlight map[string]int
	overlap  []string // webhook-ids in flight twice at once
	hold     time.Duration
}

func newReceiver(t *testing.T, clock func() time.Time) *receiver {
	t.Helper()
	r := &receiver{t: t, clock: clock, secrets: map[string]string{}, inFlight: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url(path string) string { return r.srv.URL + path }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("receiver: read body: %v", err)
		return
	}
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	secret := r.secrets[req.URL.Path]
	n := len(r.hits)
	r.inFlight[id]++
	if r.inFlight[id] > 1 {
		r.overlap = append(r.overlap, id)
	}
	hold := r.hold
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight[id]--
		r.mu.Unlock()
	}()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		r.t.Errorf("receiver %s: secret: %v", req.URL.Path, err)
		return
	}
	if err := wh.Verify(body, req.Header); err != nil {
		r.t.Errorf("receiver %s: signature: %v", req.URL.Path, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p spPayload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("receiver %s: body is not Statuspage's payload: %v", req.URL.Path, err)
	}
	if hold > 0 {
		time.Sleep(hold) // widen the window two senders would overlap in
	}
	status := http.StatusOK
	if r.answer != nil {
		status = r.answer(n, w, req)
	}
	r.mu.Lock()
	r.hits = append(r.hits, hit{id: id, path: req.URL.Path, status: status, at: r.clock(), body: p, raw: body})
	r.mu.Unlock()
	if status < 0 {
		panic(http.ErrAbortHandler) // the receiver is down: the connection drops
	}
	w.WriteHeader(status)
}

// accepted returns the hits answered 2xx, in arrival order.
func (r *receiver) accepted() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hit
	for _, h := range r.hits {
		if h.status >= 200 && h.status < 300 {
			out = append(out, h)
		}
	}
	return out
}

func (r *receiver) all() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// subscribe adds an active webhook subscriber at path.
func (r *receiver) subscribe(t *testing.T, s *store.Store, orgID, pageID int64, path string) int64 {
	t.Helper()
	ctx := context.Background()
	sub, err := s.Subscribe(ctx, orgID, pageID, store.SubscriberWebhook, r.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActivateWebhook(ctx, orgID, sub.Subscriber.ID, sub.Secret, nil); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.secrets[path] = sub.Secret
	r.mu.Unlock()
	return sub.Subscriber.ID
}

// clock is a test clock the notifier reads; Advance moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// seedPage makes an organisation with one page ("status") of two
// components, API and Media.
func seedPage(t testing.TB, s *store.Store) (orgID, pageID int64, comps []int64) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.CreateOrg(ctx, "ACME", "acme")
		if err != nil {
			return err
		}
		p, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "status", Title: "ACME status", TimeZone: "UTC"})
		if err != nil {
			return err
		}
		orgID, pageID = org.ID, p.ID
		for _, name := range []string{"API", "Media"} {
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: p.ID, Name: name})
			if err != nil {
				return err
			}
			comps = append(comps, c.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return orgID, pageID, comps
}

var editor = store.Actor{Name: "test"}

// webhookNotifier builds a notifier with the webhook channel, allowed to
// reach loopback.
func webhookNotifier(t testing.TB, s notify.Store, now func() time.Time, opts notify.Options) *notify.Notifier {
	t.Helper()
	hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: true, Timeout: 5 * time.Second,
		MaxIdlePerHost: max(opts.Concurrency, 16)})
	t.Cleanup(hook.Close)
	opts.Store, opts.Now = s, now
	opts.Senders = map[string]notify.Sender{notify.KindWebhook: hook}
	opts.BaseURL = "https://status.example"
	if opts.Jitter == 0 {
		opts.Jitter = -1
	}
	n, err := notify.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// runNotifier runs n until the test ends, then checks that Run returns nil
// within 10 s of its context's end.
func runNotifier(t testing.TB, n *notify.Notifier) {
	t.Helper()
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10 s of cancellation")
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kindOf names a payload's event for failure messages.
func kindOf(p spPayload) string {
	switch {
	case p.Incident != nil:
		return "incident " + p.Incident.Status + ": " + strings.Join(updateBodies(p), " | ")
	case p.ComponentUpdate != nil:
		return "component " + p.ComponentUpdate.OldStatus + " → " + p.ComponentUpdate.NewStatus
	}
	return "?"
}

func updateBodies(p spPayload) []string {
	var out []string
	for _, u := range p.Incident.IncidentUpdates {
		out = append(out, u.Body)
	}
	return out
}
