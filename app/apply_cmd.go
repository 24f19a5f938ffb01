package app

import (
	"context"
	"fmt"
)

func applyCommand(ctx context.Context, args []string, env Env) int {
	fmt.Fprintln(env.Stderr, "pharos apply: not available yet")
	return 2
}
