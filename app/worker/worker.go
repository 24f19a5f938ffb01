// Package worker is the probe worker of one region (`pharos probe --region
// R`, DESIGN §2–§3). It needs only the bus, never the database: every job
// carries its full probe spec.
//
// A Worker reads its region's run-now stream and then its jobs stream in
// consumer group "probers", runs at most Options.Concurrency probes at once,
// drops jobs picked up after their deadline (acknowledged and counted, never
// run late), and publishes each result to its check's result shard. A job is
// acknowledged only once its result is on the bus, so a worker that dies
// leaves its unfinished jobs pending for another worker of the region to
// reclaim.
//
// When the bus is unreachable the worker keeps running the jobs it already
// holds and keeps their results in memory (up to Options.BufferSize, oldest
// dropped first), then publishes them in order when the bus answers again.
// Every bus call has a timeout, so nothing blocks forever.
//
// No probe holds a slot past its deadline (the spec's timeout, at most
// Options.MaxProbeTime) plus Options.ProbeGrace: a probe that has not
// returned by then is abandoned with a timeout result and its slot freed.
// Go cannot stop a goroutine, so the abandoned probe runs on until it
// returns; while more than half a worker's slots' worth of probes are in
// that state, Healthy reports it, so that the platform restarts the
// process, and while as many as its slots are, it reads no more jobs.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/probes"
)

// Defaults applied by New.
const (
	DefaultConcurrency  = 64
	DefaultBufferSize   = 10_000
	DefaultBusTimeout   = 5 * time.Second
	DefaultBlock        = 500 * time.Millisecond
	DefaultDrainTimeout = 10 * time.Second
	DefaultMaxProbeTime = 2 * time.Minute
	DefaultProbeGrace   = 5 * time.Second
	DefaultBeaconEvery  = 10 * time.Second
	DefaultHoldEvery    = 3 * time.Second
)

// Prober runs one probe; *probes.Prober implements it. Tests inject their
// own, e.g. one whose dialer refuses every connection (a region outage).
type Prober interface {
	Run(ctx context.Context, spec probes.Spec) probes.Result
}

var _ Prober = (*probes.Prober)(nil)

// Options configure a Worker. Zero values select the defaults.
type Options struct {
	// Region is the region whose jobs the worker runs (required).
	Region string
	// Concurrency bounds the probes running at once (default 64).
	Concurrency int
	// Consumer names this worker in the consumer group; it must be unique
	// among the region's workers (default hostname-pid-random).
	Consumer string
	// Prober runs the probes (default probes.New with AllowPrivate).
	Prober Prober
	// AllowPrivate lets probes reach private, loopback and link-local
	// addresses (PHAROS_ALLOW_PRIVATE_TARGETS). Ignored when Prober is set.
	AllowPrivate bool
	// AllowMetadata lists the cloud metadata endpoints (addresses or host
	// names) probes may reach (PHAROS_ALLOW_METADATA_TARGETS); every other
	// one stays refused even with AllowPrivate. Ignored when Prober is set.
	AllowMetadata []string
	// BufferSize bounds the results kept while the bus is unreachable
	// (default 10,000); beyond it the oldest are dropped and counted.
	BufferSize int
	// BusTimeout bounds every bus call but the wait for new jobs
	// (default 5s).
	BusTimeout time.Duration
	// Block is how long one read waits for new jobs (default 500ms). It is
	// also the longest a run-now job waits behind an idle read.
	Block time.Duration
	// DrainTimeout bounds how long Run takes to return once ctx ends
	// (default 10s): probes in flight may finish and results are published
	// until then; jobs without a published result stay pending, for
	// another worker to reclaim.
	DrainTimeout time.Duration
	// MaxProbeTime bounds one probe whatever its spec says (default 2m).
	MaxProbeTime time.Duration
	// ProbeGrace is how long past its deadline a probe may hold its slot
	// before the worker abandons it with a timeout result (default 5s).
	ProbeGrace time.Duration
	// Canary is a control-plane URL the worker probes with every beacon
	// (PHAROS_CANARY_URL): a region that cannot reach it while another
	// can is judged unhealthy. Empty: beacons say only that the worker is
	// alive.
	Canary string
	// BeaconEvery is how often the worker sends a beacon (default 10s, at
	// start and then on this period).
	BeaconEvery time.Duration
	// HoldEvery is how often the worker holds the jobs it has not finished
	// (bus.Streams.Hold), so that none is reclaimed while it runs; it must
	// be well under the bus's ClaimIdle (default 3s).
	HoldEvery time.Duration
	// Logger (default: discarded) and Registerer (default: none) receive
	// the worker's logs and metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Worker runs one region's probe jobs. Build it with New and start it with
// Run.
type Worker struct {
	bus     bus.Streams
	opts    Options
	prober  Prober
	log     *slog.Logger
	metrics *metrics
	out     *outbox
	streams []string // run-now first

	// overdue counts the abandoned probes still running (past their
	// deadline and grace); probing counts every probe still running.
	overdue atomic.Int64
	probing atomic.Int64
	// flying are the job entries being probed, held with the outbox's.
	flying inFlight
	// lastRunNow records whether the last read took a run-now job (only
	// fetchLoop reads).
	lastRunNow bool
	// run starts the job handlers and probes (on goroutines kept for the
	// next ones); Run closes it when it returns.
	run *runners
}

// New returns a worker of opts.Region reading and writing b.
func New(b bus.Streams, opts Options) (*Worker, error) {
	if b == nil {
		return nil, errors.New("worker: no bus")
	}
	if opts.Region == "" {
		return nil, errors.New("worker: no region")
	}
	opts = withDefaults(opts)
	if opts.Consumer == "" {
		opts.Consumer = bus.ConsumerName("worker")
	}
	m, err := newMetrics(opts.Registerer, opts.Region)
	if err != nil {
		return nil, fmt.Errorf("worker: metrics: %w", err)
	}
	pr := opts.Prober
	if pr == nil {
		pr = probes.New(probes.Options{AllowPrivate: opts.AllowPrivate, AllowMetadata: opts.AllowMetadata})
	}
	w := &Worker{
		bus:     b,
		opts:    opts,
		prober:  pr,
		log:     opts.Logger.With(slog.String("region", opts.Region), slog.String("consumer", opts.Consumer)),
		metrics: m,
		streams: []string{pipeline.RunNowStream(opts.Region), pipeline.JobsStream(opts.Region)},
		run:     newRunners(),
	}
	w.out = newOutbox(opts.BufferSize, m)
	return w, nil
}

func withDefaults(o Options) Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.BusTimeout <= 0 {
		o.BusTimeout = DefaultBusTimeout
	}
	if o.Block <= 0 {
		o.Block = DefaultBlock
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.MaxProbeTime <= 0 {
		o.MaxProbeTime = DefaultMaxProbeTime
	}
	if o.ProbeGrace <= 0 {
		o.ProbeGrace = DefaultProbeGrace
	}
	if o.HoldEvery <= 0 {
		o.HoldEvery = DefaultHoldEvery
	}
	if o.BeaconEvery <= 0 {
		o.BeaconEvery = DefaultBeaconEvery
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Consumer is the worker's name in the consumer group.
func (w *Worker) Consumer() string { return w.opts.Consumer }

// Run reads and runs jobs until ctx ends. Then it stops reading, lets the
// probes in flight finish and publishes their results, and returns nil
// within Options.DrainTimeout, stuck probes or not. Jobs it did not finish
// stay unacknowledged, for another worker to reclaim.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("probe worker started", slog.Int("concurrency", w.opts.Concurrency), slog.Int("shards", pipeline.Shards))
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFlush()
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		w.flushLoop(flushCtx)
	}()
	// drain ends DrainTimeout after ctx: job handlers stop waiting for
	// their probes and the bus, and the flusher stops.
	drain, endDrain := context.WithCancel(context.WithoutCancel(ctx))
	defer endDrain()
	stopDrainTimer := context.AfterFunc(ctx, func() { time.AfterFunc(w.opts.DrainTimeout, endDrain) })
	defer stopDrainTimer()

	defer w.run.close()
	var running sync.WaitGroup
	running.Go(func() { w.beaconLoop(ctx) })
	running.Go(func() { w.holdLoop(ctx) })
	w.fetchLoop(ctx, drain, &running)
	running.Wait() // every handler returns by the drain deadline, the beacons with ctx

	w.out.close() // the flusher returns once the buffer is empty
	select {
	case <-flushed:
	case <-drain.Done():
		stopFlush()
		<-flushed
	}
	if n := w.out.len(); n > 0 {
		w.log.Warn("probe worker stopped with unpublished results; their jobs will be reclaimed", slog.Int("results", n))
	}
	if n := w.probing.Load(); n > 0 {
		w.log.Warn("probe worker stopped with probes still running; their jobs will be reclaimed", slog.Int64("probes", n))
	}
	w.log.Info("probe worker stopped")
	return nil
}

// Healthy returns nil while the worker can do its work, and an error
// saying why not once more than half its slots' worth of probes run on
// past their deadline and grace: each burns a CPU that healthy checks
// need, and only a restart stops them.
func (w *Worker) Healthy() error {
	if n := w.overdue.Load(); 2*n > int64(w.opts.Concurrency) {
		return fmt.Errorf("worker: %d probes still running past their deadline, of %d slots", n, w.opts.Concurrency)
	}
	return nil
}
