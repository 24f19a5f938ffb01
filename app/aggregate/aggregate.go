// Package aggregate is the aggregator role (DESIGN §3, §4): it consumes the
// result shards it owns, stores each result once, keeps the latest state per
// check × region × node and the certificate inventory, judges every touched
// check (quorum, confirm rounds, region health, maintenance), maps checks to
// component status, opens, updates and resolves automatic incidents and
// writes their outbox events — all in one transaction per batch — then
// publishes live page events and only then acknowledges the batch. A
// periodic sweep marks misconfigured the checks no worker of their regions
// reports on, which no batch would ever judge.
//
// The judgement itself is app/incident's pure logic; this package is the
// shell that feeds it from the database and writes its verdicts back.
package aggregate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
)

// Bus is what the aggregator needs from the message layer: its result
// shards, live page events and the per-shard ownership locks.
type Bus interface {
	Consume(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]bus.Message, error)
	Ack(ctx context.Context, stream, group string, ids ...string) error
	Stats(ctx context.Context, stream, group string) (length, pending int64, err error)
	Publish(ctx context.Context, stream string, payload []byte) (string, error)
	PublishEvent(ctx context.Context, channel string, payload []byte) error
	TryLock(ctx context.Context, name string, ttl time.Duration) (bus.Lease, bool, error)
}

// Store is what the aggregator needs from the database: one transaction
// per batch, and a ping to tell a database outage from a result that
// cannot be stored.
type Store interface {
	InTx(ctx context.Context, fn func(tx *store.Tx) error) error
	Ping(ctx context.Context) error
}

var (
	_ Bus   = bus.Bus(nil)
	_ Store = (*store.Store)(nil)
)

// Defaults of Options.
const (
	DefaultBatchSize     = 500
	DefaultBatchWait     = time.Second
	DefaultLockTTL       = 15 * time.Second
	DefaultRegionWindow  = 5 * time.Minute
	DefaultRefreshEvery  = 10 * time.Second
	DefaultNoWorkerAfter = 10 * time.Minute
	DefaultSweepEvery    = time.Minute
)

// Options configure an Aggregator. The zero value of each field selects
// its default.
type Options struct {
	// MaxShards caps how many of the pipeline.Shards result shards this
	// aggregator owns at once (default all): with several aggregators,
	// lower it so the others get some.
	MaxShards int
	// Consumer names this aggregator in the consumer group (default
	// hostname-pid-random, bus.ConsumerName).
	Consumer string
	// BatchSize and BatchWait bound a batch: up to BatchSize results, or
	// what arrived from the first until the clock next reaches a multiple
	// of BatchWait, so that every shard's batch ends at the same moment
	// (defaults 500 and 1s).
	// Under load batches fill long before the wait ends; at a steady
	// trickle (1,000 checks every 30 s are ~4 results a second a shard)
	// the wait lets a batch gather several results, so a result does not
	// pay a transaction of its own: 50ms gave batches of one, and CPU per
	// check in `pharos run` fell from 3.85 to 2.60 ms with 1s (soak.sh).
	// Batches under half of BatchSize are merged across shards (merger).
	BatchSize int
	BatchWait time.Duration
	// LockTTL is the lifetime of a shard lease; it is renewed every third
	// of it (default 15s).
	LockTTL time.Duration
	// RegionWindow is how far back latest states count for region health
	// (default 5m); RegionPolicy tunes the judgement.
	RegionWindow time.Duration
	RegionPolicy incident.RegionHealthPolicy
	// RefreshEvery is how long region health, maintenance windows and
	// alert-repeat settings are reused before being read again (default
	// 10s). Negative: read them for every batch (tests).
	RefreshEvery time.Duration
	// NoWorkerAfter is how long none of a check's regions may report any
	// result before the check is misconfigured (default 10m, and at least
	// 3 intervals of the check); negative: never (no sweep). SweepEvery is
	// how often Run looks (default 1m).
	NoWorkerAfter time.Duration
	SweepEvery    time.Duration
	// Logger receives the role's log lines (default slog.Default()).
	Logger *slog.Logger
	// Registerer receives the role's metrics (default: none registered).
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxShards <= 0 || o.MaxShards > pipeline.Shards {
		o.MaxShards = pipeline.Shards
	}
	if o.Consumer == "" {
		o.Consumer = bus.ConsumerName("aggregator")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.BatchWait <= 0 {
		o.BatchWait = DefaultBatchWait
	}
	if o.LockTTL <= 0 {
		o.LockTTL = DefaultLockTTL
	}
	if o.RegionWindow <= 0 {
		o.RegionWindow = DefaultRegionWindow
	}
	if o.RefreshEvery == 0 {
		o.RefreshEvery = DefaultRefreshEvery
	}
	if o.NoWorkerAfter == 0 {
		o.NoWorkerAfter = DefaultNoWorkerAfter
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = DefaultSweepEvery
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Aggregator is the aggregator role. Build it with New and run it with Run;
// ProcessBatch is its core, usable without a bus.
type Aggregator struct {
	store   Store
	bus     Bus // nil: ProcessBatch only, no events
	opts    Options
	log     *slog.Logger
	metrics *metrics

	mu          sync.Mutex
	regions     regionJudgement            // the regions as last judged
	rejudging   time.Time                  // when a batch set out to judge the regions again (zero: none is)
	maintenance map[int64]maintenanceEntry // page → windows
	repeat      map[int64]repeatEntry      // org → alert repeat interval
	autoStates  map[int64]decodedState     // open incident → its auto_state, decoded
	owned       *ownedCache                // what the batches of the owned shards wrote (locks on its own)

	// afterCommit, when set (tests, benchmarks), runs after a batch
	// committed and before its events are published and it is acked.
	afterCommit func(ctx context.Context, stored []storedResult)
	// beforeAck, when set (tests), runs before a committed batch is
	// acknowledged; returning false skips the ack, as a crash would.
	beforeAck func() bool
	// afterIncidentsRead, when set (tests), runs after a batch read its
	// components' open incidents and before it writes to any.
	afterIncidentsRead func()
}

// New returns an aggregator over st and b. b may be nil for an aggregator
// that is only fed through ProcessBatch (tests, benchmarks); Run needs it.
func New(st Store, b Bus, opts Options) (*Aggregator, error) {
	if st == nil {
		return nil, errors.New("aggregate: no store")
	}
	opts = opts.withDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("aggregate: metrics: %w", err)
	}
	return &Aggregator{
		store:       st,
		bus:         b,
		opts:        opts,
		log:         opts.Logger.With(slog.String("role", "aggregator")),
		metrics:     m,
		maintenance: map[int64]maintenanceEntry{},
		repeat:      map[int64]repeatEntry{},
		autoStates:  map[int64]decodedState{},
		owned:       newOwnedCache(),
	}, nil
}

// fresh reports whether a cached value read at `at` may still be used.
func (a *Aggregator) fresh(at time.Time) bool {
	return a.opts.RefreshEvery > 0 && !at.IsZero() && a.opts.Now().Sub(at) < a.opts.RefreshEvery
}
