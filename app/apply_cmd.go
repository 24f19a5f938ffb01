package app

import (
	"context"
	"fmt"

	"pharos/app/apply"
	"pharos/app/config"
)

// applyCommand runs `pharos apply`. Its flags are apply's own (-f, --dry-run,
// --org); the database comes from the environment (PHAROS_DATABASE_URL).
func applyCommand(ctx context.Context, args []string, env Env) int {
	cfg, err := config.Load(env.Getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos apply: %v\n", err)
		return 2
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos apply: %v\n", err)
		return 1
	}
	defer st.Close()
	return apply.Command(ctx, st, apply.LimitsOf(cfg), args, env.Stdin, env.Stdout, env.Stderr)
}
