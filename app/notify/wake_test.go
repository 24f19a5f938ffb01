package notify_test

import (
	"context"
	"testing"
	"time"

	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestOutboxWrittenWakesFanOut: with a poll far longer than the test,
// events this process writes are still fanned out and delivered at once:
// the commit wakes the notifier.
func TestOutboxWrittenWakesFanOut(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, pageID, comps := seedPage(t, s)
		r := newReceiver(t, time.Now)
		r.subscribe(t, s, orgID, pageID, "/hook")
		runNotifier(t, webhookNotifier(t, s, time.Now, notify.Options{Poll: time.Hour}))
		// Deliveries accepted by then: the first incident's own (its
		// component change may come just after); then also that component
		// change and the second incident's (its component is already down).
		wants := []int{1, 3}
		for i, name := range []string{"API down", "API still down"} {
			// The first may be found by the first look at the outbox; the
			// second is written while the notifier waits.
			if _, err := s.CreateIncident(ctx, orgID, editor, store.NewIncident{PageID: pageID, Name: name,
				Status: "investigating", Body: "Looking.", DeliverNotifications: true,
				Components: []store.ComponentStatusChange{{ComponentID: comps[0], Status: "major_outage"}}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, name+" delivered", func() bool { return len(r.accepted()) >= wants[i] })
		}
	})
}
