package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"pharos/app/buildinfo"
	"pharos/app/config"
	"pharos/app/web"
	"pharos/app/worker"
)

// probeCommand runs `pharos probe --region R`: a probe worker that needs
// only Redis and never touches the database. It serves /healthz and
// /metrics on PHAROS_LISTEN for the platform's health checks and Prometheus.
func probeCommand(ctx context.Context, args []string, env Env) int {
	concurrency := worker.DefaultConcurrency
	cfg, _, err := loadConfig("probe", args, env, func(fs *flag.FlagSet) {
		fs.IntVar(&concurrency, "concurrency", concurrency, "probes running at once")
	})
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && cfg.RedisURL == "" {
		err = errors.New("PHAROS_REDIS_URL is not set: a probe worker receives its jobs through Redis (run `pharos` alone for the all-in-one mode)")
	}
	if err == nil && concurrency < 1 {
		err = fmt.Errorf("--concurrency=%d: want at least 1", concurrency)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos probe: %v\n", err)
		return 2
	}
	return probeWorker(ctx, cfg, concurrency, env)
}

// probeWorker runs the probe worker of probeCommand, logging on env.Stderr,
// and returns the exit code. Every line names the region once: the worker
// adds it to its own lines, so it gets the logger without it.
func probeWorker(ctx context.Context, cfg config.Config, concurrency int, env Env) int {
	base := newLogger(env)
	log := base.With(slog.String("region", cfg.Region))
	if err := runProbe(ctx, cfg, worker.Options{
		Region: cfg.Region, Concurrency: concurrency,
		AllowPrivate: cfg.AllowPrivateTargets, AllowMetadata: cfg.AllowMetadataTargets, Canary: cfg.Canary(), Logger: base,
	}, log); err != nil {
		log.Error("probe worker stopped", slog.Any("error", err))
		return 1
	}
	return 0
}

// workerClaimIdle is how long a job may sit with a worker that no longer
// holds it before another worker of the region reclaims it: a live worker
// holds its unfinished jobs every worker.DefaultHoldEvery, so a short
// ClaimIdle re-runs a crashed worker's jobs within their round (a 30 s
// interval) without ever running a slow probe twice.
const workerClaimIdle = 10 * time.Second

// runProbe runs one probe worker, with its /healthz and /metrics listener,
// until ctx ends. log is for its own lines and the bus's; opts.Logger,
// the worker's, should not carry the region, which the worker adds.
func runProbe(ctx context.Context, cfg config.Config, opts worker.Options, log *slog.Logger) error {
	reg := newRegistry()
	if err := reg.Register(buildinfo.Read().Collector()); err != nil {
		return fmt.Errorf("probe: register build info: %w", err)
	}
	b, err := openBus(ctx, cfg, log, reg, workerClaimIdle)
	if err != nil {
		return err
	}
	defer b.Close()
	opts.Registerer = reg
	w, err := worker.New(b, opts)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", workerHealth(w))
	mux.Handle("GET /metrics", web.MetricsHandler(reg, cfg.MetricsToken))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("probe: listen %s: %w", cfg.Listen, err)
	}
	log.Info("probe worker listening", slog.String("addr", ln.Addr().String()))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx) })
	if cfg.DebugListen != "" {
		g.Go(func() error { return debugRole(cfg.DebugListen, log).Run(gctx) })
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("probe: health listener: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	return g.Wait()
}

// workerHealth answers /healthz of a probe worker: 503 with the reason
// while the worker is not healthy (its slots' worth of probes stuck past
// their deadline), so that the platform restarts it.
func workerHealth(w interface{ Healthy() error }) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		if err := w.Healthy(); err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
}
