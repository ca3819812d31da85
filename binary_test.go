package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// binary/jira-cicd.sh is what the composite action (binary/action.yml) runs
// on Windows, macOS and Docker-less Linux runners: it fetches the release's
// binary for the runner, checks it against the release's SHA256SUMS and runs
// it. These tests serve a fake release from loopback and run the script as
// the action does, with its release URL pointed at the fake.

// fakeRelease serves a release's files by name and records what was asked
// for. As GitHub does, a binary's download URL redirects to where the file
// is stored.
type fakeRelease struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	got   []string
}

func newFakeRelease(t *testing.T, files map[string][]byte) *fakeRelease {
	f := &fakeRelease{files: files}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.got = append(f.got, r.URL.Path)
		name, release := strings.CutPrefix(r.URL.Path, "/releases/download/v9.9.9/")
		if !release {
			name, _ = strings.CutPrefix(r.URL.Path, "/objects/")
		}
		data, ok := f.files[name]
		f.mu.Unlock()
		switch {
		case !ok || r.Method != http.MethodGet:
			http.NotFound(w, r)
		case release && name != "SHA256SUMS":
			http.Redirect(w, r, "/objects/"+name, http.StatusFound)
		default:
			w.Write(data)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func sumLine(name string, data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:]) + "  " + name + "\n"
}

// fakeBinary is a "release binary" that records its arguments and an input
// in a file, so a test can tell whether it ran and with what.
func fakeBinary(marker string) []byte {
	return []byte("#!/bin/sh\nprintf '%s\\n' \"$*\" \"$INPUT_SITE\" > " + shellQuote(marker) + "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

type scriptRun struct {
	code   int
	output string
	temp   string
}

// runFetchScript runs binary/jira-cicd.sh as the composite action does, with
// the release at url and the runner's OS and architecture given.
func runFetchScript(t *testing.T, url, runnerOS, runnerArch string) scriptRun {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		if _, err := exec.LookPath("wget"); err != nil {
			t.Skip("neither curl nor wget is installed")
		}
	}
	temp := t.TempDir()
	cmd := exec.Command(bash, filepath.Join("binary", "jira-cicd.sh"), "--issue-keys", "ABC-1")
	// The runner's variables alone, and PATH (no proxy settings: the fake
	// release is on loopback).
	cmd.Env = []string{"HOME=" + temp, "JIRA_CICD_RELEASE_URL=" + url,
		"RUNNER_OS=" + runnerOS, "RUNNER_ARCH=" + runnerArch, "RUNNER_TEMP=" + temp, "INPUT_SITE=acme.atlassian.net"}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	r := scriptRun{output: string(out), temp: temp}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// downloaded lists the files the script left under the runner's temp
// directory.
func downloaded(t *testing.T, temp string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(temp, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, d.Name())
		}
		return nil
	})
	return names
}

func TestBinaryActionFetchesVerifiesAndRuns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake release binary is a shell script")
	}
	for _, tc := range []struct{ os, arch, name string }{
		{"Linux", "X64", "jira-cicd-linux-amd64"},
		{"Linux", "ARM64", "jira-cicd-linux-arm64"},
		{"macOS", "ARM64", "jira-cicd-darwin-arm64"},
		{"macOS", "X64", "jira-cicd-darwin-amd64"},
		{"Windows", "X64", "jira-cicd-windows-amd64.exe"},
		{"Windows", "ARM64", "jira-cicd-windows-arm64.exe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			bin := fakeBinary(marker)
			other := []byte("another platform's binary")
			// Every platform of a release, as the release workflow publishes them.
			files := map[string][]byte{}
			var sums strings.Builder
			for _, n := range []string{"jira-cicd-darwin-amd64", "jira-cicd-darwin-arm64", "jira-cicd-linux-amd64",
				"jira-cicd-linux-arm64", "jira-cicd-windows-amd64.exe", "jira-cicd-windows-arm64.exe"} {
				data := other
				if n == tc.name {
					data = bin
				}
				files[n] = data
				sums.WriteString(sumLine(n, data))
			}
			files["SHA256SUMS"] = []byte(sums.String())
			rel := newFakeRelease(t, files)

			r := runFetchScript(t, rel.URL+"/releases/download/v9.9.9", tc.os, tc.arch)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.output)
			}
			ran, err := os.ReadFile(marker)
			if err != nil {
				t.Fatalf("the binary did not run: %v\n%s", err, r.output)
			}
			if got, want := string(ran), "--issue-keys ABC-1\nacme.atlassian.net\n"; got != want {
				t.Errorf("the binary ran with %q, want its arguments and inputs %q", got, want)
			}
			want := []string{"/releases/download/v9.9.9/SHA256SUMS", "/releases/download/v9.9.9/" + tc.name, "/objects/" + tc.name}
			if fmt.Sprint(rel.got) != fmt.Sprint(want) {
				t.Errorf("requests %v, want %v", rel.got, want)
			}
		})
	}
}

func TestBinaryActionRejectsATamperedBinary(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	good := fakeBinary(marker)
	tampered := append(fakeBinary(marker), []byte("# one more line\n")...)
	rel := newFakeRelease(t, map[string][]byte{
		"jira-cicd-linux-amd64": tampered,
		"SHA256SUMS":            []byte(sumLine("jira-cicd-linux-arm64", []byte("x")) + sumLine("jira-cicd-linux-amd64", good)),
	})
	r := runFetchScript(t, rel.URL+"/releases/download/v9.9.9", "Linux", "X64")
	if r.code == 0 {
		t.Fatalf("a binary that does not match SHA256SUMS was accepted\n%s", r.output)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("the tampered binary ran")
	}
	if !strings.Contains(r.output, "jira-cicd-linux-amd64") || !strings.Contains(r.output, "does not match the release's SHA256SUMS") {
		t.Errorf("the message does not say which file failed its checksum:\n%s", r.output)
	}
	for _, f := range downloaded(t, r.temp) {
		if f == "jira-cicd-linux-amd64" {
			t.Errorf("the tampered binary was left on disk")
		}
	}
}

func TestBinaryActionFailures(t *testing.T) {
	bin := []byte("#!/bin/sh\nexit 0\n")
	for _, tc := range []struct {
		name     string
		files    map[string][]byte
		os, arch string
		url      string // default: the fake release
		want     string
	}{
		{name: "no checksum for this platform", os: "Linux", arch: "X64",
			files: map[string][]byte{"jira-cicd-linux-amd64": bin, "SHA256SUMS": []byte(sumLine("jira-cicd-linux-amd64x", bin))},
			want:  "SHA256SUMS has no checksum for jira-cicd-linux-amd64"},
		{name: "no SHA256SUMS", os: "Linux", arch: "X64",
			files: map[string][]byte{"jira-cicd-linux-amd64": bin},
			want:  "could not download"},
		{name: "no binary", os: "Linux", arch: "X64",
			files: map[string][]byte{"SHA256SUMS": []byte(sumLine("jira-cicd-linux-amd64", bin))},
			want:  "could not download"},
		{name: "unknown OS", os: "FreeBSD", arch: "X64", want: "RUNNER_OS 'FreeBSD' is not one jira-cicd has a binary for"},
		{name: "unknown arch", os: "Linux", arch: "ARM", want: "RUNNER_ARCH 'ARM' is not one jira-cicd has a binary for"},
		{name: "plain http to another host", os: "Linux", arch: "X64", url: "http://example.com/releases/download/v9.9.9",
			want: "JIRA_CICD_RELEASE_URL must be an https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := newFakeRelease(t, tc.files)
			url := cmp.Or(tc.url, rel.URL+"/releases/download/v9.9.9")
			r := runFetchScript(t, url, tc.os, tc.arch)
			if r.code == 0 || !strings.Contains(r.output, tc.want) {
				t.Fatalf("exit %d, want non-zero with %q\n%s", r.code, tc.want, r.output)
			}
			if !strings.HasPrefix(r.output, "::error title=jira-cicd binary::") {
				t.Errorf("the failure is not one GitHub annotation:\n%s", r.output)
			}
			if tc.url != "" && len(rel.got) > 0 {
				t.Errorf("requests were made: %v", rel.got)
			}
		})
	}
}
