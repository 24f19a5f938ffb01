package aggregate

import (
	"context"
	"sync/atomic"
	"time"
)

// merger stores the small batches of several shards in one transaction.
//
// At a steady trickle each shard gathers only a few results within
// BatchWait (1,000 checks every 30 s are ~4 results a second a shard), and
// a transaction costs the database about as much for four results as for
// forty: most of a batch's statements are one per batch, not one per
// result. So a shard hands a small batch to the merger and waits; the
// merger waits up to a tenth of BatchWait for the other shards' batches
// (or until every running shard has handed one in, or BatchSize results
// are together) and stores them as one. The shards' batches end when the
// clock reaches a multiple of BatchWait (collect), so they are handed in
// within moments of each other.
type merger struct {
	a      *Aggregator
	in     chan submission
	active atomic.Int64 // shard consumers running
	linger time.Duration
}

// submission is a shard's batch waiting in the merger; done is closed once
// it was handled (stored and acknowledged, or left pending).
type submission struct {
	delivery
	done chan struct{}
}

func newMerger(a *Aggregator) *merger {
	return &merger{a: a, in: make(chan submission), linger: a.opts.BatchWait / 10}
}

// submit hands d to the merger and returns once it was handled.
func (m *merger) submit(d delivery) {
	s := submission{delivery: d, done: make(chan struct{})}
	m.in <- s
	<-s.done
}

// run merges and handles submissions until stop is closed. Every shard
// consumer must have returned before stop is closed (a shard waiting in
// submit needs run to answer it); ctx bounds the handling, as a shard's own
// context does for the batches it handles itself.
func (m *merger) run(ctx context.Context, stop <-chan struct{}) {
	for {
		var first submission
		select {
		case first = <-m.in:
		case <-stop:
			return
		}
		batch := m.gather(first)
		deliveries := make([]delivery, len(batch))
		for i, s := range batch {
			deliveries[i] = s.delivery
		}
		m.a.handle(ctx, deliveries)
		for _, s := range batch {
			close(s.done)
		}
	}
}

// gather collects the submissions that follow first within the linger.
func (m *merger) gather(first submission) []submission {
	batch := []submission{first}
	n := len(first.msgs)
	linger := time.NewTimer(m.linger)
	defer linger.Stop()
	for n < m.a.opts.BatchSize && int64(len(batch)) < m.active.Load() {
		select {
		case s := <-m.in:
			batch = append(batch, s)
			n += len(s.msgs)
		case <-linger.C:
			return batch
		}
	}
	return batch
}
