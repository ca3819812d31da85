// Command jira-cicd sends one build or deployment record to Jira Software
// Cloud from any CI. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// graceAfterSignal is how long the run has, after the first SIGTERM or
// SIGINT, to stop where it is and write its report; past it the process
// exits whatever still runs (a phase that cannot be interrupted).
var graceAfterSignal = 700 * time.Millisecond

// runApp runs the step; tests replace it.
var runApp = app.Run

func main() { os.Exit(run()) }

// run runs the step and returns the exit code. The first SIGTERM or SIGINT
// stops the run: its context is cancelled (with "stopped by SIGTERM" as the
// cause), a line says so at once, and the exit is 128+signal (143 for
// SIGTERM, 130 for SIGINT, as shells report a process a signal ended), within
// graceAfterSignal. A second signal exits at once, with its own code.
func run() int {
	sigs := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	wd, _ := os.Getwd()
	// The handlers are registered while the run reads its settings and the
	// repository, not before it starts: signal.Notify takes ~0.11 ms (the
	// runtime starts its signal thread and waits for it), the median of 61
	// runs of bench's end-to-end job, ~4% of the step's wall time (issue 12).
	// The run waits for them before its first request to Jira (Env.Ready)
	// and before its first line (heldWriter), so a signal once the run has
	// printed or sent anything is always handled; one before that ends the
	// process as one during the runtime's start does, with nothing done.
	ready := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- runApp(ctx, app.Env{
			Args:    os.Args[1:],
			Environ: os.Environ(),
			WorkDir: wd,
			Stdout:  heldWriter{ready, os.Stdout},
			Stderr:  heldWriter{ready, os.Stderr},
			Version: version,
			Ready:   ready,
		})
	}()
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	close(ready)
	var sig os.Signal
	select {
	case code := <-done:
		return code
	case sig = <-sigs:
	}
	name := signalName(sig)
	fmt.Fprintf(os.Stderr, "jira-cicd: stopped by %s; nothing more is sent\n", name)
	cancel(fmt.Errorf("stopped by %s", name))
	grace := time.NewTimer(graceAfterSignal)
	defer grace.Stop()
	select {
	case <-done: // the run stopped and wrote its report
	case sig = <-sigs:
		fmt.Fprintf(os.Stderr, "jira-cicd: second signal (%s); exiting now\n", signalName(sig))
	case <-grace.C:
	}
	return signalExit(sig)
}

// heldWriter holds the run's output back until ready is closed (the signal
// handlers are in place).
type heldWriter struct {
	ready <-chan struct{}
	w     io.Writer
}

func (h heldWriter) Write(p []byte) (int, error) {
	<-h.ready
	return h.w.Write(p)
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	}
	return sig.String()
}

// signalExit is 128+n for signal n.
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return app.ExitFailure
}
