package app

import (
	"context"
	"fmt"
)

// userCommand and tokenCommand are being built (issue 2, accounts).
func userCommand(ctx context.Context, args []string, env Env) int {
	fmt.Fprintln(env.Stderr, "pharos user: not available yet")
	return 2
}

func tokenCommand(ctx context.Context, args []string, env Env) int {
	fmt.Fprintln(env.Stderr, "pharos token: not available yet")
	return 2
}
