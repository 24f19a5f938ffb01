package bus_test

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
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

// BenchmarkConsumeTrickle measures what one entry costs when entries come
// one at a time, as jobs reach a probe worker and results a shard at a
// steady trickle: each op consumes one entry (block 0) and acks it. It
// reports the process's CPU per op (cpu-µs/op) beside the wall time, which
// on Redis is mostly round trips.
//
//	PHAROS_TEST_REDIS_URL=redis://127.0.0.1:6379/15 go test -run '^$' -bench ConsumeTrickle ./app/bus
func BenchmarkConsumeTrickle(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchConsumeTrickle(b, newMemoryBus(b, bus.Options{MaxLen: int64(b.N) + 1000}))
	})
	b.Run("redis", func(b *testing.B) {
		benchConsumeTrickle(b, newRedisBus(b, bus.Options{MaxLen: int64(b.N) + 1000}))
	})
}

func benchConsumeTrickle(b *testing.B, bb bus.Bus) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	payload := make([]byte, 256)
	for range b.N {
		if _, err := bb.Publish(ctx, "bench", payload); err != nil {
			b.Fatalf("publish: %v", err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for range b.N {
		msgs, err := bb.Consume(ctx, "bench", "g", "c", 1, 0)
		if err != nil || len(msgs) != 1 {
			b.Fatalf("consume: %d entries, %v", len(msgs), err)
		}
		if err := bb.Ack(ctx, "bench", "g", msgs[0].ID); err != nil {
			b.Fatalf("ack: %v", err)
		}
	}
	b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

// processCPU is the CPU time (user and system) this process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
