package worker_test

import (
	"testing"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
	"pharos/probes/probetest"
)

// A job cannot open the SSRF guard by itself: its spec comes from
// tenant-written configuration; only the operator's setting counts.
func TestJobCannotAllowPrivateTargets(t *testing.T) {
	t.Parallel()
	u := httpTarget(t, probetest.Text(200, "text/plain", "ok"))
	for _, tt := range []struct {
		name     string
		operator bool
		want     probes.State
	}{
		{"operator forbids, job asks", false, probes.StateDown},
		{"operator allows", true, probes.StateUp},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.NewMemory(bus.Options{})
			defer b.Close()
			w, err := worker.New(b, worker.Options{Region: "fra", AllowPrivate: tt.operator})
			if err != nil {
				t.Fatal(err)
			}
			publishJob(t, b, pipeline.JobsStream("fra"), pipeline.Job{OrgID: 1, CheckID: 9, Region: "fra",
				Spec: probes.Spec{URL: u, AllowPrivate: true}})
			stop := runWorker(t, w.Run)
			got := awaitResults(t, b, 1, "a result")
			stop()
			r := got[0].Result
			if r.State != tt.want {
				t.Fatalf("state %s, want %s (%+v)", r.State, tt.want, r.Problems)
			}
			if tt.want == probes.StateDown && (len(r.Problems) == 0 || r.Problems[0].Code != probes.CodeBlockedAddress) {
				t.Errorf("problems %+v, want blocked_address", r.Problems)
			}
		})
	}
}
