// Command jira-cicd sends one build or deployment record to Jira Software
// Cloud from any CI. See README.md.
package main

import (
	"context"
	"fmt"
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
//
// The handlers are installed beside the run, not before it: os/signal starts
// three threads (a locked one for signal masks, the runtime's template
// thread, and one blocked receiving signals), and waiting for them held a
// run on loopback up by ~0.4 ms of its ~3.8 (hyperfine, 800 runs each, 2
// CPUs; bench/run.sh's end-to-end job). The run waits for them before its
// first request (app.Env.SignalsReady), so a signal stops every request
// gracefully; one that comes earlier, while the settings and the workspace
// are read, ends the process as the default action does, as one that comes
// before main always could.
func run() int {
	sigs := make(chan os.Signal, 2)
	ready := make(chan struct{})
	go func() {
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		close(ready)
	}()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	wd, _ := os.Getwd()
	done := make(chan int, 1)
	go func() {
		done <- runApp(ctx, app.Env{
			Args:         os.Args[1:],
			Environ:      os.Environ(),
			WorkDir:      wd,
			Stdout:       os.Stdout,
			Stderr:       os.Stderr,
			Version:      version,
			SignalsReady: ready,
		})
	}()
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
