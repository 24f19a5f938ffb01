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
	case len(args) > 0 && slices.Contains([]string{"-h", "-help", "--help"}, args[0]):
		// Help for pharos itself, not for the default command: `pharos
		// run --help` lists run's flags.
		cmd, args = "help", args[1:]
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(env.Stdout, buildinfo.Read())
		return 0
	case "check":
		return checkcmd.Main(ctx, args, env.Stdout, env.Stderr)
	case "run":
		tuneGC()
		return runServer(ctx, cmd, args, env)
	case "serve":
		return runServer(ctx, cmd, args, env)
	case "probe":
		return probeCommand(ctx, args, env)
	case "migrate":
		return migrateCommand(ctx, args, env)
	case "apply":
		return applyCommand(ctx, args, env)
	case "user":
		return userCommand(ctx, args, env)
	case "token":
		return tokenCommand(ctx, args, env)
	case "healthcheck":
		return healthcheck(ctx, args, env)
	case "help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "pharos: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// loadConfig reads the environment, then the command's flags: every
// configuration flag, and the command's own from extra.
func loadConfig(name string, args []string, env Env, extra func(*flag.FlagSet)) (config.Config, []string, error) {
	return loadConfigFlags(name, args, env, nil, extra)
}

// loadConfigFlags is loadConfig offering only the configuration flags named
// in only (every one when only is nil); the other settings still come from
// the environment.
func loadConfigFlags(name string, args []string, env Env, only []string, extra func(*flag.FlagSet)) (config.Config, []string, error) {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return config.Config{}, nil, err
	}
	fs := flag.NewFlagSet("pharos "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	// The flags keep config's own definitions (names, help, target fields);
	// only some of them are copied over.
	all := flag.NewFlagSet("", flag.ContinueOnError)
	cfg.RegisterFlags(all)
	all.VisitAll(func(f *flag.Flag) {
		if only == nil || slices.Contains(only, f.Name) {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
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
// flags). Of the configuration flags it offers only --database-url: the
// commands that use it (user, token) need nothing else, and --listen or
// --smtp-url would do nothing there.
func withStore(ctx context.Context, name string, args []string, env Env, extra func(*flag.FlagSet),
	fn func(ctx context.Context, cfg config.Config, st *store.Store, rest []string) error) int {
	cfg, rest, err := loadConfigFlags(name, args, env, []string{"database-url"}, extra)
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
	st, _, err := openMigrated(ctx, cfg)
	return st, err
}

// openMigrated opens the database and applies its pending migrations,
// returning how many it applied.
func openMigrated(ctx context.Context, cfg config.Config) (*store.Store, int, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, 0, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, 0, err
	}
	return st, applied, nil
}

func newLogger(env Env) *slog.Logger {
	level := slog.LevelInfo
	if env.Getenv("PHAROS_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
}
