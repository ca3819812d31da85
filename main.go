// Command jira-cicd sends one build or deployment record to Jira Software
// Cloud from any CI. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/jira-cicd/jira-cicd/internal/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	wd, _ := os.Getwd()
	code := app.Run(ctx, app.Env{
		Args:    os.Args[1:],
		Environ: os.Environ(),
		WorkDir: wd,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: version,
	})
	stop()
	os.Exit(code)
}
