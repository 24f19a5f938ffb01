package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestServeRolesIncludeNotifier(t *testing.T) {
	roles, err := parseRoles("web, notifier")
	if err != nil || !roles["notifier"] || !roles["web"] || len(roles) != 2 {
		t.Fatalf("parseRoles(web, notifier) = %v, %v; want web and notifier", roles, err)
	}
}

func TestRunDeliversWebhooks(t *testing.T) {
	var got atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-id") != "" && strings.HasPrefix(r.Header.Get("webhook-signature"), "v1,") {
			got.Add(1)
		}
	}))
	defer receiver.Close()

	db := "sqlite://" + filepath.Join(t.TempDir(), "pharos.db")
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	orgID, _ := storetest.SeedCheck(t, st)
	page, err := st.PageBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.Subscribe(ctx, orgID, page.ID, store.SubscriberWebhook, receiver.URL+"/hook", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ActivateWebhook(ctx, orgID, sub.Subscriber.ID, sub.Secret, nil); err != nil {
		t.Fatal(err)
	}

	base, stop := startRun(t, map[string]string{"PHAROS_DATABASE_URL": db, "PHAROS_ALLOW_PRIVATE_TARGETS": "true"})
	if _, err := st.CreateIncident(ctx, orgID, store.Actor{Name: "test"}, store.NewIncident{PageID: page.ID,
		Name: "API down", Status: "investigating", Body: "Looking.", DeliverNotifications: true}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got.Load() != 1 {
		t.Fatalf("receiver got %d signed deliveries, want 1", got.Load())
	}
	// The receiver answers before the notifier counts the delivery: poll.
	const sent = `pharos_notify_deliveries_total{kind="webhook",outcome="sent"} 1`
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(metrics, sent) && time.Now().Before(deadline); {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		metrics = string(body)
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(metrics, sent) {
		t.Errorf("/metrics lacks one sent webhook delivery")
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}
