package worker_test

import (
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/worker"
)

// An idle worker reads twice per round: the run-now stream, then the
// scheduled one, waiting up to Block. It read the run-now stream again
// after the scheduled one, and the scheduled one twice (at once, then
// waiting): four round trips to Redis where two tell the same.
func TestIdleWorkerReadsTwicePerRound(t *testing.T) {
	t.Parallel()
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	c := bustest.CountReads(b)
	w, err := worker.New(c, worker.Options{Region: "fra", Concurrency: 4, Block: 20 * time.Millisecond,
		Prober: loopbackProber()})
	if err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w.Run)
	waitFor(t, 10*time.Second, "ten rounds of reads", func() bool { _, waits, _ := c.Counts(); return waits >= 10 })
	stop()
	reads, waits, byStream := c.Counts()
	if reads > 2*waits+2 { // stop may cut a round short
		t.Errorf("%d reads for %d rounds (%v), want two a round", reads, waits, byStream)
	}
	if byStream[pipeline.RunNowStream("fra")] == 0 {
		t.Errorf("the run-now stream was never read (%v)", byStream)
	}
}
