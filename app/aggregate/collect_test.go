package aggregate

import (
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
	"pharos/app/pipeline"
	"pharos/app/store/storetest"
)

// TestCollectReadsTwicePerWindow: results trickle in one by one during a
// batch's window; collect reads the first, then at the window's end what
// came meanwhile: two reads, every result in the batch. It read each
// result as it came, a round trip to Redis apiece.
func TestCollectReadsTwicePerWindow(t *testing.T) {
	t.Parallel()
	b := bus.NewMemory(bus.Options{})
	defer b.Close()
	c := bustest.CountReads(b)
	opts := runOpts("a")
	opts.BatchWait, opts.BatchSize = 500*time.Millisecond, 100
	a, err := New(storetest.SQLite(t), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	stream := pipeline.ResultsStream(0)
	publish := func() {
		if _, err := b.Publish(ctx, stream, []byte(`{}`)); err != nil {
			t.Error(err)
		}
	}
	// Start just after a window opens, and trickle within it.
	time.Sleep(time.Until(time.Now().Truncate(opts.BatchWait).Add(opts.BatchWait + 10*time.Millisecond)))
	publish()
	go func() {
		for range 3 {
			time.Sleep(50 * time.Millisecond)
			publish()
		}
	}()
	msgs, err := a.collect(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 {
		t.Errorf("the batch holds %d results, want the 4 of its window", len(msgs))
	}
	if n, _, _ := c.Counts(); n != 2 {
		t.Errorf("collect read the stream %d times, want 2", n)
	}
}
