package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"pharos/app/config"
)

// migrateCommand runs `pharos migrate`: it applies the pending migrations
// and says how many it applied and at which version the database is.
func migrateCommand(ctx context.Context, args []string, env Env) int {
	cfg, rest, err := loadConfigFlags("migrate", args, env, []string{"database-url"}, nil)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected arguments %q", rest)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos migrate: %v\n", err)
		return 2
	}
	if err := migrate(ctx, cfg, env.Stdout); err != nil {
		fmt.Fprintf(env.Stderr, "pharos migrate: %v\n", err)
		return 1
	}
	return 0
}

// migrate migrates the database and reports on w. "Up to date" is said
// only when this run applied nothing.
func migrate(ctx context.Context, cfg config.Config, w io.Writer) error {
	st, applied, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	version, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if applied == 0 {
		fmt.Fprintf(w, "migrate: database is up to date at version %d\n", version)
		return nil
	}
	fmt.Fprintf(w, "migrate: applied %d migration(s); the database is now at version %d\n", applied, version)
	return nil
}
