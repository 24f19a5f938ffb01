package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"pharos/app/pipeline"
	"pharos/probes"
)

// canaryTimeout bounds one probe of the canary: a control plane that
// needs longer is as good as unreachable for judging a region.
const canaryTimeout = 5 * time.Second

// beaconLoop sends a beacon at start and every Options.BeaconEvery until
// ctx ends: the worker is alive in its region and, with a canary
// configured, whether it reached it. The aggregators judge region health
// across every organisation from the beacons and the results (DESIGN §4),
// so that a region blind from its first second is caught even when its
// organisations have a single check.
func (w *Worker) beaconLoop(ctx context.Context) {
	t := time.NewTicker(w.opts.BeaconEvery)
	defer t.Stop()
	for {
		w.beacon(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// beacon probes the canary, if any, and hands the beacon to the outbox,
// in order with the results.
func (w *Worker) beacon(ctx context.Context) {
	var res probes.Result
	if w.opts.Canary != "" {
		// The canary is the operator's own URL, not a tenant's: the SSRF
		// guard does not apply to it.
		spec := probes.Spec{URL: w.opts.Canary, Timeout: probes.Duration(canaryTimeout), AllowPrivate: true}
		pctx, cancel := context.WithTimeout(ctx, canaryTimeout+time.Second)
		res = w.prober.Run(pctx, spec)
		cancel()
		if ctx.Err() != nil {
			return
		}
		w.metrics.canaryUp.Set(boolGauge(res.State != probes.StateDown && res.State != probes.StateUnknown))
	}
	id, err := uuid.NewV7()
	if err != nil {
		w.log.Error("beacon id", slog.Any("error", err))
		return
	}
	payload, err := pipeline.Marshal(pipeline.Result{
		ID: id.String(), Region: w.opts.Region, Worker: w.opts.Consumer, Produced: time.Now().UTC(),
		Result: res, Beacon: true,
	})
	if err != nil {
		w.log.Error("encode beacon", slog.Any("error", err))
		return
	}
	w.out.add(pending{stream: pipeline.ResultsStream(pipeline.BeaconShard), payload: payload})
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
