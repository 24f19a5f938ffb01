package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/store"
	"pharos/probes"
)

// TestGuardRefusedTargetIsNoOutage runs the pipeline (scheduler, workers in
// fra and iad, aggregator) over a component with a healthy check and a
// check on the cloud metadata address, which the probes' SSRF guard refuses
// even where private targets are allowed (issue 8, item 5): the refused
// check becomes misconfigured, no incident opens, no incident event is
// written and the component stays operational while rounds go by.
func TestGuardRefusedTargetIsNoOutage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	regions := []string{"fra", "iad"}
	const interval = time.Second
	healthy := h.addCheck("edge", h.target("127.0.0.2", ok()), interval, regions)
	refused := h.addRawCheck("metadata", "http://169.254.169.254/latest/meta-data/", interval, regions)

	stopAggregator := h.startAggregator()
	defer stopAggregator()
	for _, r := range regions {
		defer h.startWorker(r, r+"-1", realProber(), bus.Options{}).stop()
	}
	_, stopScheduler := h.startScheduler()
	defer stopScheduler()

	waitFor(t, 20*time.Second, "the refused check misconfigured and the other up", func() bool {
		states := h.checkStates()
		return states[refused.ID] == "misconfigured" && states[healthy.ID] == "up"
	})
	since := h.count(`SELECT count(*) FROM check_results WHERE check_id = $1`, refused.ID)
	waitFor(t, 20*time.Second, "three more rounds of the refused check", func() bool {
		return h.count(`SELECT count(*) FROM check_results WHERE check_id = $1`, refused.ID) >= since+3*len(regions)
	})
	if n := h.count(`SELECT count(*) FROM check_results WHERE check_id = $1 AND problems LIKE '%blocked_address%'`, refused.ID); n == 0 {
		t.Errorf("no result of the refused check reports blocked_address")
	}
	if got := h.checkStates()[refused.ID]; got != "misconfigured" {
		t.Errorf("refused check: got %s, want misconfigured", got)
	}
	if n := h.count(`SELECT count(*) FROM incidents WHERE org_id = $1`, h.org); n != 0 {
		t.Errorf("incidents: got %d, want 0", n)
	}
	if n := h.count(`SELECT count(*) FROM outbox WHERE org_id = $1 AND kind LIKE 'incident.%'`, h.org); n != 0 {
		t.Errorf("incident events: got %d, want 0", n)
	}
	c, err := h.st.Component(context.Background(), h.org, h.comp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != "operational" {
		t.Errorf("component: got %s, want operational", c.Status)
	}
}

// addRawCheck creates a check on any URL, bypassing the apply validator.
func (h *harness) addRawCheck(name, url string, interval time.Duration, regions []string) store.Check {
	h.t.Helper()
	spec, err := json.Marshal(probes.Spec{URL: url, Timeout: probes.Duration(3 * time.Second)})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := h.t.Context()
	var c store.Check
	err = h.st.InTx(ctx, func(tx *store.Tx) error {
		c, err = tx.CreateCheck(ctx, store.Check{OrgID: h.org, PageID: h.page.ID, ComponentID: h.comp.ID, Name: name,
			URL: url, Spec: spec, Regions: regions, Interval: interval, ConfirmRounds: 2})
		return err
	})
	if err != nil {
		h.t.Fatalf("create check %s: %v", name, err)
	}
	return c
}
