//go:build linux || darwin

package testresults

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A named pipe that a glob happens to match must not block Collect.
func TestCollectSkipsNamedPipe(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.xml"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.xml"), []byte(`<testsuite><testcase/></testsuite>`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, warnings := collect(t, dir, []string{"*.xml"})
	if got.Total != 1 {
		t.Errorf("Total = %d, want 1", got.Total)
	}
	// doublestar may or may not list the pipe; if it does, it is a warning.
	for _, w := range warnings {
		if !errors.Is(w, ErrRead) || w.File != filepath.Join(dir, "pipe.xml") {
			t.Errorf("unexpected warning %v", w)
		}
	}
}
