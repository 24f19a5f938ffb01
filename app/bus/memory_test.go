package bus_test

import (
	"testing"

	"pharos/app/bus"
)

func newMemoryBus(t testing.TB, opts bus.Options) bus.Bus {
	b := bus.NewMemory(opts)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

func TestMemoryBus(t *testing.T) {
	runConformance(t, newMemoryBus, true)
}
