// Command pharos is a synthetic-probe status page service: probe workers in
// several regions check TLS certificates and content, an aggregator decides
// what is really broken, and a public status page tells users. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"pharos/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], app.Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}
