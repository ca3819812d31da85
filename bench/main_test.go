//go:build unix

package main

import (
	"os/exec"
	"testing"
)

// TestBenchmarkRuns runs the whole benchmark once, small, so that it keeps
// working as the step changes (a renamed flag, a new request). It checks
// that every run did exactly the expected work; the targets are the
// benchmark's to judge (bench/run.sh), never a test's.
func TestBenchmarkRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	for _, tool := range []string{"go", "curl", "git", "sh", "grep", timeBin} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (bench/run.sh installs it)", tool)
		}
	}
	t.Chdir("..")
	if err := run(1, 300, false); err != nil {
		t.Fatal(err)
	}
	failed = false // a ratio missed on a busy machine is not this test's business
}
