package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// openAutomatic opens a component's automatic incident and queues its
// event the way the aggregator does (app/aggregate/incidents.go): public
// text in body, probe detail apart under "technical".
func openAutomatic(t *testing.T, s *store.Store, orgID, pageID, componentID int64, draft bool) {
	t.Helper()
	ctx := context.Background()
	at := time.Now().UTC()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		ch := store.IncidentChange{OrgID: orgID, PageID: pageID, ComponentID: componentID, Name: "API unavailable",
			Status: "investigating", Impact: "critical", Draft: draft, Body: "The API is not answering.",
			Technical: "node 10.0.0.7:443 cert_expired", OldComponentStatus: "operational", NewComponentStatus: "major_outage",
			Alert: true, At: at}
		incidentID, updateID, err := tx.ApplyIncidentChange(ctx, ch)
		if err != nil {
			return err
		}
		_, err = tx.AddOutbox(ctx, []store.OutboxEvent{{OrgID: orgID, Kind: "incident.opened", At: at,
			IdempotencyKey: "incident.opened:" + time.Now().String(),
			Payload: map[string]any{"incident_id": incidentID, "update_id": updateID, "page_id": pageID, "page_slug": "status",
				"component_id": componentID, "name": ch.Name, "status": ch.Status, "impact": ch.Impact, "body": ch.Body,
				"draft": draft, "alert": true, "action": "open", "at": at,
				"technical": map[string]any{"detail": ch.Technical, "regions": []string{"fra"}}}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAutomaticIncidentReachesSubscribersWithoutTechnicalDetail(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		orgID, pageID, comps := seedPage(t, s)
		c := newClock()
		r := newReceiver(t, c.Now)
		r.subscribe(t, s, orgID, pageID, "/hook")
		n := webhookNotifier(t, s, c.Now, notify.Options{})

		openAutomatic(t, s, orgID, pageID, comps[1], true) // a draft: nobody hears of it
		openAutomatic(t, s, orgID, pageID, comps[0], false)
		drive(t, n, c, time.Second, func() bool { return len(r.accepted()) >= 1 })
		for range 3 { // give the draft every chance to go out
			if _, err := n.FanOutOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := n.DeliverOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		got := r.accepted()
		if len(got) != 1 {
			t.Fatalf("receiver got %d payloads, want 1 (the published incident, not the draft)", len(got))
		}
		in := got[0].body.Incident
		if in == nil || in.Name != "API unavailable" || len(in.IncidentUpdates) != 1 ||
			in.IncidentUpdates[0].Body != "The API is not answering." {
			t.Fatalf("payload %s: want the automatic incident's public text", kindOf(got[0].body))
		}
		log, err := s.Deliveries(context.Background(), orgID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"10.0.0.7", "cert_expired", "technical"} {
			if strings.Contains(string(got[0].raw), secret) {
				t.Errorf("subscriber payload names %q, technical detail for operators only: %s", secret, got[0].raw)
			}
		}
		if len(log) != 1 {
			t.Errorf("%d deliveries queued, want 1", len(log))
		}
	})
}
