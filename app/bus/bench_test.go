package bus_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pharos/app/bus"
)

// BenchmarkPublishConsumeAck measures the stream pipeline end to end:
// producers publish b.N entries of 256 bytes while consumers of one group
// read batches of up to 100 and ack each batch with one call.
//
//	PHAROS_TEST_REDIS_URL=redis://127.0.0.1:6379/15 go test -run '^$' -bench PublishConsumeAck ./app/bus
func BenchmarkPublishConsumeAck(b *testing.B) {
	// MaxLen above b.N: producers run ahead of consumers, and trimming
	// would drop entries nobody read yet.
	b.Run("memory", func(b *testing.B) {
		benchPublishConsumeAck(b, newMemoryBus(b, bus.Options{MaxLen: int64(b.N) + 1000}))
	})
	b.Run("redis", func(b *testing.B) {
		benchPublishConsumeAck(b, newRedisBus(b, bus.Options{MaxLen: int64(b.N) + 1000}))
	})
}

func benchPublishConsumeAck(b *testing.B, bb bus.Bus) {
	const producers, consumers, batch = 4, 2, 100
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	payload := make([]byte, 256)
	var consumed atomic.Int64
	total := int64(b.N)

	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := p; i < b.N; i += producers {
				if _, err := bb.Publish(ctx, "bench", payload); err != nil {
					b.Errorf("publish: %v", err)
					return
				}
			}
		})
	}
	for range consumers {
		wg.Go(func() {
			for consumed.Load() < total {
				msgs, err := bb.Consume(ctx, "bench", "g", "c", batch, 100*time.Millisecond)
				if err != nil {
					b.Errorf("consume: %v", err)
					return
				}
				if len(msgs) == 0 {
					continue
				}
				ids := make([]string, len(msgs))
				for i, m := range msgs {
					ids[i] = m.ID
				}
				if err := bb.Ack(ctx, "bench", "g", ids...); err != nil {
					b.Errorf("ack: %v", err)
					return
				}
				consumed.Add(int64(len(msgs)))
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
