package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck asks the local web role for /healthz. Container images without
// a shell or curl use it as their HEALTHCHECK.
func healthcheck(ctx context.Context, args []string, env Env) int {
	cfg, _, err := loadConfig("healthcheck", args, env, nil)
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos healthcheck: %v\n", err)
		return 2
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos healthcheck: %v\n", err)
		return 2
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos healthcheck: %v\n", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.Stderr, "pharos healthcheck: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(env.Stderr, "pharos healthcheck: /healthz answered %s\n", resp.Status)
		return 1
	}
	return 0
}
