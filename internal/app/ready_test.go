package app

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// lineHook is a writer that calls hook once, when a written line contains
// want.
type lineHook struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	once sync.Once
	hook func()
}

func (w *lineHook) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), w.want) {
		w.once.Do(w.hook)
	}
	return w.buf.Write(p)
}

// Env.Ready holds the first request to Jira back: main registers its signal
// handlers meanwhile. A run whose Ready never comes and whose context ends
// sends nothing, and says where it stopped.
func TestReadyHoldsTheFirstRequest(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv, "INPUT_STATE=success")
	// A backstop, should the keys line never come.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Cancelled from another goroutine once the keys are printed, the last
	// line before the send: without the wait, the run would be sending.
	hooked := false
	log := &lineHook{want: "issue keys:", hook: func() { hooked = true; go cancel() }}
	code := Run(ctx, Env{
		Environ: env, WorkDir: dir, Stdout: log, Stderr: log,
		Now: func() time.Time { return fixedNow }, Version: "test",
		Ready: make(chan struct{}), // never ready
	})
	log.mu.Lock()
	printed, fired := log.buf.String(), hooked
	log.mu.Unlock()
	if !fired || code != ExitFailure {
		t.Fatalf("exit %d, want %d (keys line printed: %v)\n%s", code, ExitFailure, fired, printed)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests before Ready: %+v", n, srv.Requests())
	}
	// Mostly "before the send"; "during the commit scan" when the cancel
	// is seen at the check just after the keys.
	if !strings.Contains(printed, "before the send; nothing more is sent") && !strings.Contains(printed, "during the commit scan; nothing more is sent") {
		t.Errorf("the run does not say where it stopped:\n%s", printed)
	}
}

// Once Ready is closed the run sends as usual.
func TestReadyClosedSends(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv, "INPUT_STATE=success")
	ready := make(chan struct{})
	close(ready)
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{
		Environ: env, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, Version: "test", Ready: ready,
	})
	if code != ExitOK || srv.Count(fakejira.EndpointBuilds) != 1 {
		t.Fatalf("exit %d, %d submissions\n%s%s", code, srv.Count(fakejira.EndpointBuilds), out.String(), errb.String())
	}
}
