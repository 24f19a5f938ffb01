package schedule

import (
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/bus/bustest"
)

// TestWatermarkRetiresInBatches: a leader that saves after every tick
// retires its older entries once per watermarkRetire saves, not after each
// save, on both buses; the stream stays at most watermarkRetire+1 entries
// long, and a new leader reads the latest watermark.
func TestWatermarkRetiresInBatches(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) bus.Bus{
		"memory": func(t *testing.T) bus.Bus { return bus.NewMemory(bus.Options{}) },
		"redis":  func(t *testing.T) bus.Bus { return bustest.Redis(t, bus.Options{Prefix: bustest.Prefix(t)}) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := bustest.CountReads(open(t))
			leader := newWatermark(b, "a", 5*time.Second)
			base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			const saves = 2*watermarkRetire + 8
			for i := range saves {
				if err := leader.save(ctx, base.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			if n, _, _ := b.Counts(); n != 2 {
				t.Errorf("%d saves read the stream %d times, want 2", saves, n)
			}
			// Redis trims at most every 100 ms, then once more after the
			// last acknowledgement.
			waitFor(t, 5*time.Second, "the retired entries to leave the stream", func() bool {
				length, _, err := b.Stats(ctx, watermarkStream, watermarkGroup)
				if err != nil {
					t.Fatal(err)
				}
				return length <= watermarkRetire+1
			})
			until, found, err := newWatermark(b, "b", 5*time.Second).load(ctx)
			if want := base.Add((saves - 1) * time.Second); err != nil || !found || !until.Equal(want) {
				t.Errorf("next leader loads %v, %v, %v; want %v", until, found, err, want)
			}
		})
	}
}

// BenchmarkWatermarkSave measures one save, as the leader makes after
// every tick that enqueued jobs; on Redis its time is mostly round trips.
//
//	PHAROS_TEST_REDIS_URL=redis://127.0.0.1:6379/15 go test ./app/schedule -run '^$' -bench WatermarkSave
func BenchmarkWatermarkSave(b *testing.B) {
	for name, open := range map[string]func(b *testing.B) bus.Streams{
		"memory": func(b *testing.B) bus.Streams { return bus.NewMemory(bus.Options{}) },
		"redis":  func(b *testing.B) bus.Streams { return bustest.Redis(b, bus.Options{Prefix: bustest.Prefix(b)}) },
	} {
		b.Run(name, func(b *testing.B) {
			w := newWatermark(open(b), "a", 5*time.Second)
			base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := w.save(b.Context(), base.Add(time.Duration(i)*time.Millisecond)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
