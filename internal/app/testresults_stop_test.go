package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A run whose context has ended (a signal) with test_results to read stops
// at the first check: exit 1, a message, and no record, not even a dry run's.
// (testresults.Collect's own prompt stop is tested in its package.)
func TestStoppedRunWithTestResultsSendsNothing(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv, "INPUT_TEST_RESULTS=reports/*.xml", "INPUT_DRY_RUN=true")
	if err := os.MkdirAll(filepath.Join(dir, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "reports", "a.xml"), []byte(`<testsuite><testcase/></testsuite>`), 0o644); err != nil {
		t.Fatal(err)
	}
	env = append(env, "GITHUB_WORKSPACE="+dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := Run(ctx, Env{Environ: env, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, Version: "test"})
	if code != ExitFailure || !strings.Contains(out.String()+errb.String(), "; nothing more is sent") ||
		strings.Contains(out.String(), `"builds"`) {
		t.Errorf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
