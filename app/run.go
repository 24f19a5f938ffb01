package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"pharos/app/aggregate"
	"pharos/app/apply"
	"pharos/app/bus"
	"pharos/app/config"
	"pharos/app/housekeep"
	"pharos/app/notify"
	"pharos/app/schedule"
	"pharos/app/store"
	"pharos/app/web"
	"pharos/app/web/public"
	"pharos/app/worker"
)

// Role is one long-running part of Pharos.
type Role interface {
	Run(ctx context.Context) error
}

// roleFunc is a function as a Role: something short the errgroup owns.
type roleFunc func(ctx context.Context) error

func (f roleFunc) Run(ctx context.Context) error { return f(ctx) }

// serveRoles are the roles `pharos serve --roles` accepts, all by default.
// `pharos run` adds a probe worker for the local region.
var serveRoles = []string{"web", "scheduler", "aggregator", "housekeeping", "notifier"}

func runServer(ctx context.Context, cmd string, args []string, env Env) int {
	roleList := strings.Join(serveRoles, ",")
	cfg, _, err := loadConfig(cmd, args, env, func(fs *flag.FlagSet) {
		if cmd == "serve" {
			fs.StringVar(&roleList, "roles", roleList, "comma-separated roles to run: "+strings.Join(serveRoles, ","))
		}
	})
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var roles map[string]bool
	if err == nil {
		roles, err = parseRoles(roleList)
	}
	if err == nil {
		err = mailNeedsBaseURL(cfg, roles)
	}
	if err == nil {
		err = cfg.EnsureSecretKey()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos %s: %v\n", cmd, err)
		return 2
	}
	if cmd == "run" {
		roles["probe"] = true
	}
	log := newLogger(env)
	if cfg.BaseURL == "" && (roles["web"] || roles["notifier"]) {
		log.Warn("PHAROS_BASE_URL is not set: links in webhook deliveries are paths without a host, and email is off; " +
			"set it to the service's public URL, e.g. https://status.example.org")
	}
	if err := serve(ctx, cfg, roles, env, log); err != nil {
		log.Error("pharos stopped", slog.Any("error", err))
		return 1
	}
	return 0
}

// mailNeedsBaseURL refuses PHAROS_SMTP_URL without PHAROS_BASE_URL in a
// process that sends mail (the web and notifier roles): every mail links
// back to the service. It says so before anything is opened or written,
// like every other configuration mistake.
func mailNeedsBaseURL(cfg config.Config, roles map[string]bool) error {
	if cfg.SMTPURL == "" || cfg.BaseURL != "" || !(roles["web"] || roles["notifier"]) {
		return nil
	}
	return errors.New("config: PHAROS_SMTP_URL is set but PHAROS_BASE_URL is not: every mail links back to the service, " +
		"so set PHAROS_BASE_URL to its public URL, e.g. https://status.example.org")
}

func parseRoles(list string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, r := range strings.Split(list, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		ok := false
		for _, k := range serveRoles {
			ok = ok || k == r
		}
		if !ok {
			return nil, fmt.Errorf("--roles: unknown role %q (available: %s)", r, strings.Join(serveRoles, ","))
		}
		out[r] = true
	}
	if len(out) == 0 {
		return nil, errors.New("--roles: no role selected")
	}
	return out, nil
}

// serve builds the selected roles from cfg and runs them until ctx ends or
// one fails.
func serve(ctx context.Context, cfg config.Config, roles map[string]bool, env Env, log *slog.Logger) error {
	// Every connection (database, Redis, probe, client) is a file.
	fileLimit := raiseFileLimit(log)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("database ready", slog.String("dialect", string(st.Dialect())))

	reg := newRegistry()
	b, err := openBus(ctx, cfg, log, reg, 0)
	if err != nil {
		return err
	}
	defer b.Close()

	// Every process with a bus can queue "Run now" jobs; only the scheduler
	// role runs the schedule.
	var sch *schedule.Scheduler
	if roles["scheduler"] || roles["web"] {
		if sch, err = schedule.New(st, b, schedule.Options{Logger: log, Registerer: reg}); err != nil {
			return err
		}
	}

	// The subscriber channels: the notifier delivers through them; the web
	// role sends the subscribe page's confirmation mails and webhook test
	// deliveries through the same ones.
	var senders map[string]notify.Sender
	if roles["web"] || roles["notifier"] {
		var closeChannels func()
		if senders, closeChannels, err = notifyChannels(cfg, log); err != nil {
			return err
		}
		defer closeChannels()
	}

	var run []Role
	if roles["web"] {
		srv, err := web.New(web.Options{
			Listen:         cfg.Listen,
			BaseURL:        cfg.BaseURL,
			DefaultPage:    cfg.DefaultPage,
			SecretKey:      cfg.SecretKey,
			SecureCookies:  cfg.SecureCookies(),
			Store:          st,
			Bus:            b,
			TrustedProxies: cfg.TrustedProxies,
			RunNow:         sch.RunNow,
			Logger:         log,
			Registry:       reg,
			MetricsToken:   cfg.MetricsToken,
			MetricsChecks:  cfg.MetricsChecks,
			Mailer:         subscribeMailer(senders),
			AccountMailer:  notify.AccountMail(senders),
			Webhooks:       senders[notify.KindWebhook],
			AllowPrivate:   cfg.AllowPrivateTargets,
			Streams:        public.StreamLimits{Max: cfg.SSEMaxStreams, PerClient: cfg.SSEMaxPerClient, FileLimit: fileLimit},
			Limits:         apply.LimitsOf(cfg),
		})
		if err != nil {
			return err
		}
		run = append(run, srv, roleFunc(func(ctx context.Context) error {
			announce(ctx, srv, cfg, st, env, log)
			return nil
		}))
	}
	if roles["scheduler"] {
		run = append(run, sch)
	}
	if roles["probe"] {
		w, err := worker.New(b, worker.Options{
			Region: cfg.Region, AllowPrivate: cfg.AllowPrivateTargets,
			Canary: cfg.Canary(), AllowMetadata: cfg.AllowMetadataTargets,
			Logger: log, Registerer: reg,
		})
		if err != nil {
			return err
		}
		run = append(run, w)
	}
	if roles["aggregator"] {
		aggOpts := aggregate.Options{Logger: log, Registerer: reg}
		agg, err := aggregate.New(st, b, aggOpts)
		if err != nil {
			return err
		}
		run = append(run, agg)
	}
	if roles["housekeeping"] {
		hk, err := housekeep.New(st, housekeep.Options{RunAtStart: true, Retention: cfg.ResultRetention, Events: b, Logger: log, Registerer: reg})
		if err != nil {
			return err
		}
		run = append(run, hk)
	}
	if roles["notifier"] {
		n, err := newNotifier(cfg, st, senders, log, reg)
		if err != nil {
			return err
		}
		run = append(run, n)
	}
	if cfg.DebugListen != "" {
		run = append(run, debugRole(cfg.DebugListen, log))
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range run {
		g.Go(func() error { return r.Run(gctx) })
	}
	return g.Wait()
}

// announce prints where to go next once the web role listens: the setup
// page on a fresh install, the console otherwise.
func announce(ctx context.Context, srv *web.Server, cfg config.Config, st *store.Store, env Env, log *slog.Logger) {
	addr, err := srv.Listening(ctx)
	if err != nil {
		return // the web role reports why it does not listen
	}
	base := cfg.BaseURL
	if base == "" {
		host, port, _ := net.SplitHostPort(addr.String())
		if host == "" || host == "::" || host == "0.0.0.0" {
			host = "localhost"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	has, err := st.HasUsers(ctx)
	if err != nil {
		log.Warn("cannot tell whether setup is needed", slog.Any("error", err))
		return
	}
	if !has {
		fmt.Fprintf(env.Stdout, "Pharos is running. Create the first account at %s/setup\n", strings.TrimSuffix(base, "/"))
		return
	}
	fmt.Fprintf(env.Stdout, "Pharos is running at %s/\n", strings.TrimSuffix(base, "/"))
}

// newRegistry returns the process's metrics registry: the Go runtime and
// process collectors, to which each role adds its own series.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// openBus connects to Redis when PHAROS_REDIS_URL is set, else builds the
// in-process bus of the embedded mode. The bus's metrics go to reg;
// claimIdle, when positive, replaces the bus's default ClaimIdle.
func openBus(ctx context.Context, cfg config.Config, log *slog.Logger, reg prometheus.Registerer, claimIdle time.Duration) (bus.Bus, error) {
	opts := bus.Options{Logger: log, Registerer: reg, ClaimIdle: claimIdle}
	if cfg.RedisURL == "" {
		log.Info("bus ready", slog.String("kind", "in-process"))
		return bus.NewMemory(opts), nil
	}
	b, err := bus.NewRedis(ctx, cfg.RedisURL, opts)
	if err != nil {
		return nil, err
	}
	log.Info("bus ready", slog.String("kind", "redis"))
	return b, nil
}

// subscribeMailer is the email channel as the subscribe page's mailer: nil
// (email subscriptions off) without PHAROS_SMTP_URL, never a typed nil.
func subscribeMailer(senders map[string]notify.Sender) public.Mailer {
	if m, ok := senders[notify.KindEmail].(public.Mailer); ok {
		return m
	}
	return nil
}
