package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
)

// inFlight is the set of job entries the worker is probing now, by stream.
type inFlight struct {
	mu sync.Mutex
	m  map[string]map[string]struct{}
}

func (f *inFlight) add(stream, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]map[string]struct{}{}
	}
	if f.m[stream] == nil {
		f.m[stream] = map[string]struct{}{}
	}
	f.m[stream][id] = struct{}{}
}

func (f *inFlight) remove(stream, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m[stream], id)
}

// snapshot adds the entries in flight to byStream.
func (f *inFlight) snapshot(byStream map[string][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for stream, ids := range f.m {
		for id := range ids {
			byStream[stream] = append(byStream[stream], id)
		}
	}
}

// holdLoop holds, every Options.HoldEvery until ctx ends, every job the
// worker has not finished — probing, or its result waiting to be
// published — so that the bus reclaims no job of a live worker however
// long its probe takes, while a dead worker's jobs are reclaimed after the
// bus's ClaimIdle.
func (w *Worker) holdLoop(ctx context.Context) {
	t := time.NewTicker(w.opts.HoldEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		byStream := map[string][]string{}
		w.flying.snapshot(byStream)
		w.out.unacked(byStream)
		for stream, ids := range byStream {
			hctx, cancel := context.WithTimeout(ctx, w.opts.BusTimeout)
			held, err := w.bus.Hold(hctx, stream, pipeline.ProbersGroup, w.opts.Consumer, ids...)
			cancel()
			if err != nil {
				if !errors.Is(err, bus.ErrClosed) && ctx.Err() == nil {
					w.metrics.busErrors.Inc()
					w.log.Warn("hold jobs", slog.String("stream", stream), slog.Int("jobs", len(ids)), slog.Any("error", err))
				}
				continue
			}
			if lost := len(ids) - len(held); lost > 0 {
				// Reclaimed by another worker while ours ran (a stall
				// longer than ClaimIdle): both will report, the result
				// ids keep the database right.
				w.log.Warn("jobs reclaimed by another worker while running", slog.String("stream", stream), slog.Int("jobs", lost))
			}
		}
	}
}
