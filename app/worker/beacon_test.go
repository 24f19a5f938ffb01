package worker_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
	"pharos/probes"
	"pharos/probes/probetest"
)

// beacons reads the beacons published so far on the beacon shard.
func beacons(t *testing.T, b bus.Streams) []pipeline.Result {
	t.Helper()
	var out []pipeline.Result
	for {
		msgs, err := b.Consume(t.Context(), pipeline.ResultsStream(pipeline.BeaconShard), "beacons", "reader", 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			r, err := pipeline.DecodeResult(m.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if r.Beacon {
				out = append(out, r)
			}
		}
		if len(msgs) == 0 {
			return out
		}
	}
}

// TestWorkerBeaconsCarryTheCanary runs workers against a canary that
// answers and one that refuses: each sends a beacon at start and on its
// period, naming its region and itself, with the canary's probe state.
func TestWorkerBeaconsCarryTheCanary(t *testing.T) {
	t.Parallel()
	up := httpTarget(t, probetest.Text(http.StatusOK, "text/plain", "ok"))
	closed := probetest.Listeners(t, "127.0.0.1")[0]
	refused := "http://127.0.0.1:" + probetest.Port(closed) + "/"
	closed.Close() // connections to it are refused
	tests := []struct {
		name   string
		canary string
		want   probes.State
		gauge  float64
	}{
		{"reachable canary", up, probes.StateUp, 1},
		{"unreachable canary", refused, probes.StateDown, 0},
		{"no canary", "", "", 0},
	}
	for _, bc := range buses() {
		for _, tt := range tests {
			t.Run(bc.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				b, _ := bc.newBus(t, bus.Options{})
				reg := prometheus.NewRegistry()
				// The worker's own prober refuses private targets: the
				// canary is the operator's URL and passes anyway.
				w, err := worker.New(b, worker.Options{Region: "sin", Canary: tt.canary, BeaconEvery: 50 * time.Millisecond,
					Registerer: reg, Prober: probes.New(probes.Options{})})
				if err != nil {
					t.Fatal(err)
				}
				stop := runWorker(t, w.Run)
				var got []pipeline.Result
				waitFor(t, 10*time.Second, "three beacons", func() bool {
					got = append(got, beacons(t, b)...)
					return len(got) >= 3
				})
				stop()
				for _, r := range got {
					if r.Region != "sin" || r.Worker != w.Consumer() || r.CheckID != 0 || r.JobID != "" || r.Produced.IsZero() {
						t.Errorf("beacon %+v: want one of region sin from %s, with no job", r, w.Consumer())
					}
					if r.Result.State != tt.want {
						t.Errorf("canary state %q (%v), want %q", r.Result.State, r.Result.Problems, tt.want)
					}
				}
				if n := metric(t, reg, "pharos_worker_results_published_total"); n != 0 {
					t.Errorf("beacons counted as %v results, want 0", n)
				}
				if n := metric(t, reg, "pharos_worker_beacons_sent_total"); n < 3 {
					t.Errorf("beacons sent: %v, want at least 3", n)
				}
				if tt.canary != "" {
					if g := metric(t, reg, "pharos_worker_canary_up"); g != tt.gauge {
						t.Errorf("pharos_worker_canary_up = %v, want %v", g, tt.gauge)
					}
				}
			})
		}
	}
}
