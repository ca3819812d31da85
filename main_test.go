//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/app"
)

// The signal tests run this test binary again as the step: with
// JIRA_CICD_TEST_MAIN=1, TestMain runs main() instead of the tests.
// JIRA_CICD_TEST_GRACE sets graceAfterSignal; JIRA_CICD_TEST_STUCK=1 makes
// the run a phase that ignores its context (as a long commit walk or JUnit
// parse does until it takes one).
func TestMain(m *testing.M) {
	if os.Getenv("JIRA_CICD_TEST_MAIN") != "1" {
		os.Exit(m.Run())
	}
	if g := os.Getenv("JIRA_CICD_TEST_GRACE"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil {
			panic(err)
		}
		graceAfterSignal = d
	}
	if os.Getenv("JIRA_CICD_TEST_STUCK") == "1" {
		runApp = func(_ context.Context, e app.Env) int {
			// Once a signal can stop it (a run's phases that take time
			// come after that; see run).
			<-e.SignalsReady
			fmt.Fprintln(os.Stderr, "test: stuck in a phase that ignores its context")
			time.Sleep(time.Hour)
			return 0
		}
	}
	main()
}

// signalLimit is the most a stop may take (issue 9: "SIGTERM ends any phase
// within 2 s"); only an upper bound, never a wait.
const signalLimit = 2 * time.Second

type child struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	log   strings.Builder
	lines chan string
	exit  chan struct{}
}

// startStep starts the step with only the given environment (no CI's
// variables leak in from the test's own).
func startStep(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append([]string{"JIRA_CICD_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 100), exit: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.log.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		_ = cmd.Wait()
		close(c.exit)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exit
	})
	return c
}

func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// waitLine waits for a line of stderr holding s (the step is where the test
// wants it); it fails if the step exits first.
func (c *child) waitLine(t *testing.T, s string) {
	t.Helper()
	for {
		select {
		case line := <-c.lines:
			if strings.Contains(line, s) {
				return
			}
		case <-c.exit:
			t.Fatalf("the step exited before printing %q:\n%s", s, c.stderr())
		}
	}
}

func (c *child) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// exited waits at most signalLimit for the step to exit and returns its code.
func (c *child) exited(t *testing.T) int {
	t.Helper()
	timer := time.NewTimer(signalLimit)
	defer timer.Stop()
	select {
	case <-c.exit:
		return c.cmd.ProcessState.ExitCode()
	case <-timer.C:
		t.Fatalf("the step still runs %s after the signal:\n%s", signalLimit, c.stderr())
		return -1
	}
}

// A SIGTERM while a request hangs on Jira stops the run itself (the grace is
// an hour here, so the exit is the run's, not the backstop's), with a line
// at once, the run's report, and exit 143.
func TestSIGTERMStopsASlowRequest(t *testing.T) {
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := startStep(t, "JIRA_CICD_TEST_GRACE=1h",
		"PLUGIN_ISSUE_KEYS=ABC-1", "PLUGIN_PIPELINE_ID=p", "PLUGIN_BUILD_NUMBER=3", "PLUGIN_URL=https://ci.example.com/3",
		"PLUGIN_CLIENT_ID=client-1", "PLUGIN_CLIENT_SECRET=canary-S3CRET-signal", "PLUGIN_SITE="+srv.URL, "PLUGIN_API_URL="+srv.URL,
		"PLUGIN_TIMEOUT=60s")
	select {
	case <-arrived:
	case <-c.exit:
		t.Fatalf("the step exited before asking Jira:\n%s", c.stderr())
	}
	c.signal(t, syscall.SIGTERM)
	if code := c.exited(t); code != 143 {
		t.Errorf("exit %d, want 143:\n%s", code, c.stderr())
	}
	log := c.stderr()
	for _, want := range []string{"jira-cicd: stopped by SIGTERM; nothing more is sent", "error: stopped by SIGTERM during the send; nothing more is sent", "not sent: stopped by SIGTERM"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "canary-S3CRET-signal") {
		t.Errorf("the secret leaked:\n%s", log)
	}
}

// A phase that does not look at its context (a commit walk or a JUnit parse
// without one) still ends within the limit: main exits after its grace.
func TestSIGTERMEndsAPhaseThatIgnoresIt(t *testing.T) {
	c := startStep(t, "JIRA_CICD_TEST_STUCK=1")
	c.waitLine(t, "test: stuck")
	c.signal(t, syscall.SIGTERM)
	if code := c.exited(t); code != 143 {
		t.Errorf("exit %d, want 143:\n%s", code, c.stderr())
	}
	if !strings.Contains(c.stderr(), "jira-cicd: stopped by SIGTERM; nothing more is sent") {
		t.Errorf("no message:\n%s", c.stderr())
	}
}

// A second signal exits at once: the grace is an hour, so only the second
// signal can end the process, with its own code (SIGINT: 130).
func TestSecondSignalExitsAtOnce(t *testing.T) {
	c := startStep(t, "JIRA_CICD_TEST_STUCK=1", "JIRA_CICD_TEST_GRACE=1h")
	c.waitLine(t, "test: stuck")
	c.signal(t, syscall.SIGTERM)
	c.waitLine(t, "stopped by SIGTERM")
	c.signal(t, syscall.SIGINT)
	if code := c.exited(t); code != 130 {
		t.Errorf("exit %d, want 130:\n%s", code, c.stderr())
	}
	if !strings.Contains(c.stderr(), "jira-cicd: second signal (SIGINT); exiting now") {
		t.Errorf("stderr:\n%s", c.stderr())
	}
}

// SIGINT alone: 130.
func TestSIGINTExits130(t *testing.T) {
	c := startStep(t, "JIRA_CICD_TEST_STUCK=1")
	c.waitLine(t, "test: stuck")
	c.signal(t, syscall.SIGINT)
	if code := c.exited(t); code != 130 || !strings.Contains(c.stderr(), "stopped by SIGINT") {
		t.Errorf("exit %d, want 130:\n%s", code, c.stderr())
	}
}
