// Package web is the HTTP shell: the echo server, its listener, middleware,
// metrics, health endpoints and graceful shutdown, and routes.go, the one
// table of every route. The audiences' handlers live in public (status
// pages), console (admin HTML) and api (/api/v1); auth decides who a request
// acts as and respond turns handlers' results and errors into responses.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"pharos/app/apply"
	"pharos/app/bus"
	"pharos/app/notify"
	"pharos/app/store"
	"pharos/app/web/api"
	"pharos/app/web/auth"
	"pharos/app/web/console"
	"pharos/app/web/public"
	"pharos/app/web/respond"
)

// Options configures a Server.
type Options struct {
	Listen        string
	BaseURL       string
	SecretKey     string
	SecureCookies bool
	// DefaultPage is the slug of the page served at / of the service's
	// own host (PHAROS_DEFAULT_PAGE); "" for none.
	DefaultPage string
	Store       *store.Store
	// Bus carries the pages' live events to the public pages (nil: no live
	// updates; the pages still work and refresh on a short TTL).
	Bus    bus.Events
	Logger *slog.Logger
	// Registry receives the server's metrics; a fresh one is made when nil.
	Registry *prometheus.Registry
	// MetricsToken, when set, is the bearer token /metrics requires
	// (PHAROS_METRICS_TOKEN).
	MetricsToken string
	// MetricsChecks adds the per-check series (pharos_check_up, …) to
	// /metrics, read from the store at each scrape (PHAROS_METRICS_CHECKS).
	MetricsChecks bool
	// ShutdownTimeout bounds how long in-flight requests may run after a
	// shutdown signal (default 15s).
	ShutdownTimeout time.Duration
	// RunNow queues an immediate probe of a check ("Run now"); nil when
	// this process has no bus.
	RunNow func(ctx context.Context, orgID, checkID int64) error
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For is believed (PHAROS_TRUSTED_PROXIES). Empty: the
	// client is the connection's peer.
	TrustedProxies []*net.IPNet

	// Mailer sends subscription confirmation mails; nil when
	// PHAROS_SMTP_URL is unset (email subscriptions say they are off).
	Mailer public.Mailer
	// Webhooks is the notifier's webhook channel; the subscribe page
	// sends its signed test delivery through it (nil: new endpoints stay
	// pending).
	Webhooks notify.Sender
	// AllowPrivate lets webhook endpoints resolve to private addresses
	// (PHAROS_ALLOW_PRIVATE_TARGETS).
	AllowPrivate bool
	// DomainVerify configures how pages' custom domains are proven (the
	// defaults: the system's resolver, port 80); tests point its Resolver
	// at a DNS server on loopback.
	DomainVerify public.DomainVerifierOptions
	// SubscribeAttempts bounds subscription attempts per address (and ten
	// times that per client) per hour; 0 means 3.
	SubscribeAttempts int
	// AccountMailer mails team invitations and password reset links; nil
	// when PHAROS_SMTP_URL is unset (invitation links are shown to copy,
	// reset by email is off).
	AccountMailer console.AccountMailer

	// PasswordCost is the bcrypt cost for new passwords (0 means
	// store.DefaultPasswordCost; tests use bcrypt.MinCost).
	PasswordCost int
	// CheckPassword verifies a password against its hash (nil means
	// store.CheckPassword). Tests count calls through it.
	CheckPassword func(hash store.PasswordHash, password string) error
	// LoginAttempts is how many sign-in attempts one account or one client
	// address gets per LoginWindow (defaults 10 per minute).
	LoginAttempts int
	LoginWindow   time.Duration

	// Streams caps the public pages' open event streams, in all and per
	// client network (PHAROS_SSE_MAX_STREAMS, PHAROS_SSE_MAX_PER_CLIENT);
	// caps left at 0 are sized from Streams.FileLimit.
	Streams public.StreamLimits

	// Limits are the per-organisation quotas (PHAROS_MAX_CHECKS, …) the
	// console's forms and the API's apply enforce; zero limits nothing.
	Limits apply.Limits
}

// Server is the web role: Run(ctx) serves until ctx ends, then drains.
type Server struct {
	opts    Options
	st      *store.Store
	log     *slog.Logger
	e       *echo.Echo
	reg     *prometheus.Registry
	metrics *httpMetrics
	// ready is closed once Run bound the listener (addr) or failed to
	// (listenErr).
	ready     chan struct{}
	addr      net.Addr
	listenErr error

	// The audiences.
	auth    *auth.Auth
	site    *public.Site
	console *console.Console
	api     *api.API
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("web: no store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	au, err := auth.New(auth.Options{
		Store: opts.Store, Logger: opts.Logger, SecretKey: opts.SecretKey, SecureCookies: opts.SecureCookies,
		PasswordCost: opts.PasswordCost, CheckPassword: opts.CheckPassword,
		LoginAttempts: opts.LoginAttempts, LoginWindow: opts.LoginWindow,
	})
	if err != nil {
		return nil, err
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	site := public.New(public.Options{Store: opts.Store, Bus: opts.Bus, BaseURL: opts.BaseURL, DefaultPage: opts.DefaultPage, Logger: opts.Logger,
		Subscribe: public.SubscribeOptions{Auth: au, SecretKey: []byte(opts.SecretKey), Mailer: opts.Mailer,
			Webhooks: opts.Webhooks, AllowPrivate: opts.AllowPrivate,
			PerAddress: opts.SubscribeAttempts, PerClient: 10 * opts.SubscribeAttempts},
		Streams: opts.Streams})
	lim := site.StreamLimits()
	opts.Logger.Info("event streams capped", slog.Int("max", lim.Max), slog.Int("per_client", lim.PerClient),
		slog.Int("file_limit", lim.FileLimit))
	// One limiter for console and API alike: a button and a script share
	// the same budget.
	runNow := queueRun(opts.Store, limitRunNow(opts.RunNow, runNowPerCheck, runNowPerOrg, runNowWindow))
	changed := pageChanged(site, opts.Bus, opts.Logger)
	s := &Server{
		opts:  opts,
		st:    opts.Store,
		log:   opts.Logger,
		e:     echo.New(),
		reg:   reg,
		ready: make(chan struct{}),

		auth:    au,
		site:    site,
		console: console.New(console.Options{Store: opts.Store, Auth: au, RunNow: runNow, PageChanged: changed, Logger: opts.Logger, EmailOff: opts.Mailer == nil, Accounts: opts.AccountMailer, BaseURL: opts.BaseURL, Limits: opts.Limits}),
		api:     api.New(api.Options{Store: opts.Store, Auth: au, RunNow: runNow, PageChanged: changed, Logger: opts.Logger, Subscriptions: site, Limits: opts.Limits, BaseURL: opts.BaseURL}),
	}
	m, err := newHTTPMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	for _, c := range site.Collectors() {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	if err := registerBuildInfo(reg); err != nil {
		return nil, err
	}
	if opts.MetricsChecks {
		if err := reg.Register(newCheckCollector(opts.Store.CheckRegionStates, opts.Logger)); err != nil {
			return nil, err
		}
	}
	s.e.HideBanner = true
	s.e.HidePort = true
	s.e.HTTPErrorHandler = respond.ErrorHandler(opts.Logger)
	s.e.IPExtractor = clientIP(opts.TrustedProxies)
	s.e.Server.ReadHeaderTimeout = 10 * time.Second
	s.e.Server.ReadTimeout = 30 * time.Second
	// SSE streams hold the response open; they reset their own write deadline.
	s.e.Server.WriteTimeout = 60 * time.Second
	s.e.Server.IdleTimeout = 120 * time.Second
	s.e.Server.MaxHeaderBytes = 64 << 10
	// Shutdown waits for active connections; event streams end themselves.
	s.e.Server.RegisterOnShutdown(s.site.Stop)
	if opts.SecureCookies {
		s.e.Use(strictTransportSecurity()) // before every route's middleware (routes.go)
	}
	s.routes()
	return s, nil
}

// Handler exposes the router for tests. Without Run, nothing follows the
// pages' events: pages refresh on their TTL and streams get no events.
func (s *Server) Handler() http.Handler { return s.e }

// Addr is the bound address once Run has started listening, or nil when
// Run could not listen.
func (s *Server) Addr() net.Addr {
	<-s.ready
	return s.addr
}

// Listening returns the bound address once Run listens, or the error
// that kept it from listening, or ctx's error if neither happened first.
func (s *Server) Listening(ctx context.Context) (net.Addr, error) {
	select {
	case <-s.ready:
		if s.addr == nil {
			return nil, s.listenErr
		}
		return s.addr, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Run listens on the configured address and serves until ctx is cancelled;
// then it stops accepting and lets in-flight requests finish (bounded by
// ShutdownTimeout) before returning. Beside the listener it runs the one
// follower of the pages' live events (public.Site.Run); it returns only
// when both have stopped.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		s.listenErr = fmt.Errorf("web: listen %s: %w", s.opts.Listen, err)
		close(s.ready)
		return s.listenErr
	}
	s.addr = ln.Addr()
	close(s.ready)
	s.e.Listener = ln
	s.log.Info("web listening", slog.String("addr", ln.Addr().String()))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.site.Run(gctx) })
	// Connections wait in the listen queue until the events are followed.
	s.site.WaitFollowing(gctx)
	g.Go(func() error {
		if err := s.e.Server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("web: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
		defer cancel()
		if err := s.e.Server.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("web: shutdown: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	s.log.Info("web stopped")
	return nil
}

// clientIP decides who the client is; login rate limiting keys on it.
// X-Forwarded-For is trivially forged, so it is read only when the
// connection comes from a configured proxy, and then only the hops those
// proxies appended.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
