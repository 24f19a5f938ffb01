package bus

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// capLogEvery is how often, at most, the cap is logged per stream.
const capLogEvery = time.Minute

// capMeter counts and logs the entries Options.MaxLen drops: with
// acknowledged entries trimmed, the cap only bites when a consumer group
// has stopped reading (or falls further behind than MaxLen), and an
// operator must hear of it.
type capMeter struct {
	capped *prometheus.CounterVec // stream
	maxLen int64
	log    *slog.Logger

	mu      sync.Mutex
	pending map[string]capLog // stream → entries dropped since its last log line
}

type capLog struct {
	logged  time.Time
	dropped int64
}

// newCapMeter creates the counter and registers it on opts.Registerer.
// When the same counter is registered already (another bus on the same
// registry) the bus shares it.
func newCapMeter(opts Options) (*capMeter, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pharos_bus_entries_capped_total",
		Help: "Stream entries dropped by the bus's MaxLen safety cap before every consumer group had acknowledged them (a group's consumers are gone or far behind), by stream.",
	}, []string{"stream"})
	m := &capMeter{capped: c, maxLen: opts.MaxLen, log: opts.Logger, pending: make(map[string]capLog)}
	if opts.Registerer == nil {
		return m, nil
	}
	if err := opts.Registerer.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, fmt.Errorf("bus: register metrics: %w", err)
		}
		existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, fmt.Errorf("bus: register metrics: %w", err)
		}
		m.capped = existing
	}
	return m, nil
}

// add records that the cap dropped n entries of stream, logging a warning
// for the stream at most once per capLogEvery.
func (m *capMeter) add(stream string, n int64) {
	if n <= 0 {
		return
	}
	m.capped.WithLabelValues(stream).Add(float64(n))
	now := time.Now()
	m.mu.Lock()
	l := m.pending[stream]
	l.dropped += n
	if now.Sub(l.logged) < capLogEvery {
		m.pending[stream] = l
		m.mu.Unlock()
		return
	}
	dropped := l.dropped
	m.pending[stream] = capLog{logged: now}
	m.mu.Unlock()
	m.log.Warn("stream capped: entries dropped before every consumer group acknowledged them; is a group's consumer gone?",
		slog.String("stream", stream), slog.Int64("dropped", dropped), slog.Int64("max_len", m.maxLen))
}
