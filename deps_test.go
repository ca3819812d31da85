package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinks holds the binary to what a run uses (issue 12): no go-git
// (the repository reader is internal/gitrepo's own; go-git is for writing
// test repositories only), so neither OpenPGP nor SSH, nor sha1cd (whose
// init probes the CPU), nor regexp (its unicode tables and init cost every
// run's start for no run-time use). Linking go-git's plumbing package for
// its Hash type alone cost ~240 KB of binary and ~80 µs of every start.
func TestBinaryLinks(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	forbidden := []string{
		"github.com/go-git/",
		"github.com/pjbgf/sha1cd",
		"github.com/ProtonMail/go-crypto", // OpenPGP
		"golang.org/x/crypto/ssh",
		"golang.org/x/crypto/openpgp",
		"regexp",
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command(goTool, "list", "-deps", ".")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GOOS=%s go list -deps .: %v", goos, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 20 {
			t.Fatalf("GOOS=%s go list -deps . listed only %q", goos, deps)
		}
		for _, p := range deps {
			for _, f := range forbidden {
				if p == f || strings.HasPrefix(p, strings.TrimSuffix(f, "/")+"/") {
					t.Errorf("GOOS=%s: the binary links %s", goos, p)
				}
			}
		}
	}
}
