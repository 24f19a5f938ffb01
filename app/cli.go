// Package app wires Pharos together: it parses the subcommand, loads the
// configuration, builds every role (each a value with Run(ctx) error) and runs
// the chosen set under one context. The all-in-one process and a distributed
// deployment are the same code wired differently.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"pharos/app/buildinfo"
	"pharos/app/checkcmd"
	"pharos/app/config"
	"pharos/app/store"
)

// Env is the process's outside world, injected so commands are testable.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

const usage = `usage: pharos [command] [flags]

commands:
  run       everything in one process (default): web, scheduler, aggregator, notifier, local probe
  serve     the web and control-plane roles (--roles web,scheduler,aggregator,housekeeping,notifier)
  probe     a probe worker for one region (pharos probe --region fra); needs only Redis
  check     probe one URL from the command line (pharos check --help)
  apply     apply a configuration file (pharos apply -f pharos.yaml [--dry-run])
  migrate   apply database migrations and exit
  user      manage users (pharos user create --email … --org …)
  token     manage API tokens (pharos token create --name …)
  healthcheck  exit 0 when the local web role answers /healthz (for container HEALTHCHECK)
  version   print the version (also pharos -V, pharos --version)

Configuration comes from PHAROS_* environment variables; flags override them.
`

// Main runs the command named by args[0] and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	cmd := "run"
	switch {
	case len(args) > 0 && slices.Contains([]string{"-V", "-version", "--version"}, args[0]):
		cmd, args = "version", args[1:]
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(env.Stdout, buildinfo.Read())
		return 0
	case "check":
		return checkcmd.Main(ctx, args, env.Stdout, env.Stderr)
	case "run", "serve":
		return runServer(ctx, cmd, args, env)
	case "probe":
		return probeCommand(ctx, args, env)
	case "migrate":
		return withStore(ctx, "migrate", args, env, nil, func(ctx context.Context, _ config.Config, st *store.Store, _ []string) error {
			fmt.Fprintln(env.Stdout, "migrate: database is up to date")
			return nil
		})
	case "apply":
		return applyCommand(ctx, args, env)
	case "user":
		return userCommand(ctx, args, env)
	case "token":
		return tokenCommand(ctx, args, env)
	case "healthcheck":
		return healthcheck(ctx, args, env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "pharos: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// loadConfig reads the environment, then the command's flags.
func loadConfig(name string, args []string, env Env, extra func(*flag.FlagSet)) (config.Config, []string, error) {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return config.Config{}, nil, err
	}
	fs := flag.NewFlagSet("pharos "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg.RegisterFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, nil, err
	}
	return cfg, fs.Args(), nil
}

// withStore loads the configuration, opens and migrates the database, and
// runs fn; errors are printed on stderr and turn into exit code 1 (2 for bad
// flags).
func withStore(ctx context.Context, name string, args []string, env Env, extra func(*flag.FlagSet),
	fn func(ctx context.Context, cfg config.Config, st *store.Store, rest []string) error) int {
	cfg, rest, err := loadConfig(name, args, env, extra)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos %s: %v\n", name, err)
		return 2
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos %s: %v\n", name, err)
		return 1
	}
	defer st.Close()
	if err := fn(ctx, cfg, st, rest); err != nil {
		fmt.Fprintf(env.Stderr, "pharos %s: %v\n", name, err)
		return 1
	}
	return 0
}

func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func newLogger(env Env) *slog.Logger {
	level := slog.LevelInfo
	if env.Getenv("PHAROS_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
}
