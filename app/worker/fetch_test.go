package worker_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/worker"
)

// readCounter counts a worker's reads of a real bus, and those that wait.
type readCounter struct {
	bus.Streams
	mu            sync.Mutex
	reads, waits  int
	readsByStream map[string]int
}

func (c *readCounter) Consume(ctx context.Context, stream, group, consumer string, count int,
	block time.Duration) ([]bus.Message, error) {
	c.mu.Lock()
	c.reads++
	c.readsByStream[stream]++
	if block > 0 {
		c.waits++
	}
	c.mu.Unlock()
	return c.Streams.Consume(ctx, stream, group, consumer, count, block)
}

func (c *readCounter) counts() (reads, waits int, byStream map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads, c.waits, maps.Clone(c.readsByStream)
}

// An idle worker reads twice per round: the run-now stream, then the
// scheduled one, waiting up to Block. It read the run-now stream again
// after the scheduled one, and the scheduled one twice (at once, then
// waiting): four round trips to Redis where two tell the same.
func TestIdleWorkerReadsTwicePerRound(t *testing.T) {
	t.Parallel()
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	c := &readCounter{Streams: b, readsByStream: map[string]int{}}
	w, err := worker.New(c, worker.Options{Region: "fra", Concurrency: 4, Block: 20 * time.Millisecond,
		Prober: loopbackProber()})
	if err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w.Run)
	waitFor(t, 10*time.Second, "ten rounds of reads", func() bool { _, waits, _ := c.counts(); return waits >= 10 })
	stop()
	reads, waits, byStream := c.counts()
	if reads > 2*waits+2 { // stop may cut a round short
		t.Errorf("%d reads for %d rounds (%v), want two a round", reads, waits, byStream)
	}
	if byStream[pipeline.RunNowStream("fra")] == 0 {
		t.Errorf("the run-now stream was never read (%v)", byStream)
	}
}
