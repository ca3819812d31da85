package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
)

// The tests in this file open repositories in the layouts git itself
// writes (sparse checkouts, worktrees, submodules, --shared and partial
// clones, repository extensions) and compare what they read with the git
// CLI's own answers. They skip without git.

// cliRepo makes a repository with the git CLI: n commits on main, each
// adding a file, with KEY-<i> messages and author dates a minute apart.
func cliRepo(t *testing.T, n int, initArgs ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	runGit(t, "", append([]string{"init", "-q", "-b", "main", dir}, initArgs...)...)
	for i := 0; i < n; i++ {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("d%d", i%3)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%d.txt", i)), []byte(strings.Repeat(fmt.Sprintf("line %d\n", i), 50)), 0o644); err != nil {
			t.Fatal(err)
		}
		runGit(t, dir, "add", "-A")
		date := fmt.Sprintf("%d +0100", 1700000000+60*i)
		runGit(t, dir, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--date", date, "-m", fmt.Sprintf("KEY-%d: change %d", i, i), "-m", fmt.Sprintf("body %d", i))
	}
	return dir
}

// checkAgainstGit compares Commit("HEAD"), Head and Range(HEAD~k) in dir
// with the git CLI run in the same directory.
func checkAgainstGit(t *testing.T, dir string, k int) {
	t.Helper()
	r := open(t, dir)
	want := gitCommit(t, dir, "HEAD")
	got, err := r.Commit("HEAD")
	if err != nil {
		t.Fatalf("Commit(HEAD): %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Commit(HEAD):\n got %+v\nwant %+v", got, want)
	}
	h, err := r.Head()
	if err != nil || h.SHA != want.Hash || h.Message != want.Message {
		t.Errorf("Head = %+v, %v", h, err)
	}
	since := fmt.Sprintf("HEAD~%d", k)
	wantSHAs := strings.Fields(runGit(t, dir, "log", "--format=%H", since+"..HEAD"))
	res := mustRange(t, r, since, 0)
	if res.Warning != "" {
		t.Errorf("Range warning: %s", res.Warning)
	}
	checkShas(t, "Range "+since, res.SHAs, wantSHAs)
	if len(res.Commits) > 0 && !reflect.DeepEqual(res.Commits[0], want) {
		t.Errorf("Range's first commit:\n got %+v\nwant %+v", res.Commits[0], want)
	}
}

// gitCommit asks git log for a commit's details.
func gitCommit(t *testing.T, dir, rev string) Commit {
	t.Helper()
	out := runGit(t, dir, "log", "-1", "--format=%H%n%P%n%an%n%ae%n%at %ai%n%ct %ci%n%B", rev)
	lines := strings.SplitN(out, "\n", 7)
	if len(lines) < 7 {
		t.Fatalf("git log: %q", out)
	}
	c := Commit{Hash: lines[0], Parents: strings.Fields(lines[1]), AuthorName: lines[2], AuthorEmail: lines[3]}
	if len(c.Parents) == 0 {
		c.Parents = nil
	}
	c.AuthorTime = parseGitTime(t, lines[4])
	c.CommitTime = parseGitTime(t, lines[5])
	// %B ends with the message's own newline plus the format's.
	c.Message = strings.TrimSuffix(lines[6], "\n")
	return c
}

// parseGitTime reads "<unix> 2023-11-14 23:13:20 +0100".
func parseGitTime(t *testing.T, s string) time.Time {
	t.Helper()
	f := strings.Fields(s)
	sec, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || len(f) != 4 {
		t.Fatalf("time %q", s)
	}
	zone, err := time.Parse("-0700", f[3])
	if err != nil {
		t.Fatalf("zone %q", s)
	}
	_, off := zone.Zone()
	tm := time.Unix(sec, 0)
	if off == 0 {
		return tm.UTC()
	}
	return tm.In(time.FixedZone("", off))
}

func configOf(t *testing.T, dir string) string {
	t.Helper()
	return runGit(t, dir, "config", "--list", "--local")
}

func TestSparseCheckoutLayouts(t *testing.T) {
	needGit(t)
	t.Parallel()
	src := cliRepo(t, 6)
	for _, tc := range []struct {
		name string
		cmds [][]string
	}{
		{"sparse-checkout set", [][]string{{"sparse-checkout", "set", "d1"}}},
		// What actions/checkout leaves behind.
		{"sparse-checkout disable", [][]string{{"sparse-checkout", "set", "d1"}, {"sparse-checkout", "disable"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "clone")
			runGit(t, "", "clone", "-q", "file://"+src, dst)
			for _, c := range tc.cmds {
				runGit(t, dst, c...)
			}
			if cfg := configOf(t, dst); !strings.Contains(cfg, "extensions.worktreeconfig=true") {
				t.Fatalf("git did not write extensions.worktreeConfig:\n%s", cfg)
			}
			checkAgainstGit(t, dst, 4)
			if got := open(t, filepath.Join(dst, "d1")).OriginURL(); got != "file://"+src {
				t.Errorf("OriginURL %q", got)
			}
		})
	}
}

func TestWorktreeLayouts(t *testing.T) {
	needGit(t)
	t.Parallel()
	src := cliRepo(t, 6)
	wt := filepath.Join(t.TempDir(), "wt")
	runGit(t, src, "worktree", "add", "-q", "-b", "feature", wt, "HEAD~2")
	// A sparse worktree: config.worktree in the worktree's own directory.
	runGit(t, wt, "sparse-checkout", "set", "d0")
	runGit(t, wt, "pack-refs", "--all")
	checkAgainstGit(t, wt, 3)
	r := open(t, filepath.Join(wt, "d0"))
	h, err := r.Head()
	if err != nil || h.Branch != "feature" {
		t.Errorf("Head = %+v, %v", h, err)
	}
	if r.WorkTree() != wt {
		t.Errorf("WorkTree %q, want %q", r.WorkTree(), wt)
	}
	// The main worktree's HEAD is its own, not the linked one's.
	checkAgainstGit(t, src, 5)
}

func TestSubmoduleLayout(t *testing.T) {
	needGit(t)
	t.Parallel()
	lib := cliRepo(t, 4)
	super := cliRepo(t, 2)
	runGit(t, super, "-c", "protocol.file.allow=always", "submodule", "add", "-q", "file://"+lib, "lib")
	runGit(t, super, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "KEY-9: add lib")
	if fi, err := os.Stat(filepath.Join(super, "lib", ".git")); err != nil || fi.IsDir() {
		t.Fatalf("the submodule's .git is not a file: %v", err)
	}
	checkAgainstGit(t, filepath.Join(super, "lib"), 3)
	checkAgainstGit(t, filepath.Join(super, "lib", "d1"), 2)
	checkAgainstGit(t, super, 2)
}

func TestSharedCloneUsesAlternatesAndTheirCommitGraph(t *testing.T) {
	needGit(t)
	t.Parallel()
	src := cliRepo(t, 12)
	runGit(t, src, "repack", "-a", "-d", "-q")
	runGit(t, src, "commit-graph", "write", "--reachable")
	dst := filepath.Join(t.TempDir(), "shared")
	runGit(t, "", "clone", "-q", "--shared", src, dst)
	if _, err := os.Stat(filepath.Join(dst, ".git", "objects", "info", "alternates")); err != nil {
		t.Fatal(err)
	}
	checkAgainstGit(t, dst, 7)
	r := open(t, dst)
	if len(r.db.packs) != 1 || len(r.db.objDirs) != 2 {
		t.Errorf("packs %d, object dirs %v", len(r.db.packs), r.db.objDirs)
	}
	// The alternate's commit-graph is used (issue 10): a commit of the
	// range is found in it.
	if r.graph == nil {
		t.Fatal("the alternate's commit-graph was not opened")
	}
	head, _ := r.Resolve("HEAD")
	ct, _ := strconv.ParseInt(strings.TrimSpace(runGit(t, dst, "log", "-1", "--format=%ct")), 10, 64)
	if when, parents, ok := r.graph.lookup(head, nil); !ok || len(parents) != 1 || when != ct {
		t.Errorf("graph lookup of HEAD: %d %v %v", when, parents, ok)
	}
	// A chain of alternates: a --shared clone of the --shared clone.
	dst2 := filepath.Join(t.TempDir(), "shared2")
	runGit(t, "", "clone", "-q", "--shared", dst, dst2)
	checkAgainstGit(t, dst2, 11)
}

func TestPartialCloneBlobless(t *testing.T) {
	needGit(t)
	t.Parallel()
	src := cliRepo(t, 8)
	runGit(t, src, "config", "uploadpack.allowFilter", "true")
	dst := filepath.Join(t.TempDir(), "partial")
	runGit(t, "", "clone", "-q", "--no-checkout", "--filter=blob:none", "file://"+src, dst)
	if cfg := configOf(t, dst); !strings.Contains(cfg, "remote.origin.promisor=true") {
		t.Fatalf("not a partial clone:\n%s", cfg)
	}
	if promisor, _ := filepath.Glob(filepath.Join(dst, ".git", "objects", "pack", "*.promisor")); len(promisor) == 0 {
		t.Fatal("no promisor pack")
	}
	checkAgainstGit(t, dst, 7)
	// The extension older gits (and some tools) write, which go-git's
	// Open refused.
	runGit(t, dst, "config", "extensions.partialClone", "origin")
	checkAgainstGit(t, dst, 7)
	// Same with a tree-less clone, which lacks trees as well.
	dst2 := filepath.Join(t.TempDir(), "treeless")
	runGit(t, "", "clone", "-q", "--no-checkout", "--filter=tree:0", "file://"+src, dst2)
	checkAgainstGit(t, dst2, 5)
}

func TestPreciousObjectsAndNoop(t *testing.T) {
	needGit(t)
	t.Parallel()
	src := cliRepo(t, 4)
	runGit(t, src, "config", "core.repositoryformatversion", "1")
	runGit(t, src, "config", "extensions.preciousObjects", "true")
	runGit(t, src, "config", "extensions.noop", "true")
	checkAgainstGit(t, src, 3)
}

func TestSHA256RepositoryIsRefusedClearly(t *testing.T) {
	needGit(t)
	t.Parallel()
	src := cliRepo(t, 2, "--object-format=sha256")
	_, err := Open(src)
	if !errors.Is(err, ErrUnsupportedRepository) || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("Open = %v, want ErrUnsupportedRepository naming sha256", err)
	}
}

func TestLatin1MessageIsConverted(t *testing.T) {
	needGit(t)
	t.Parallel()
	dir := cliRepo(t, 1)
	msgFile := filepath.Join(t.TempDir(), "msg")
	// "KEY-2: café für Jürgen" in ISO-8859-1.
	if err := os.WriteFile(msgFile, []byte("KEY-2: caf\xe9 f\xfcr J\xfcrgen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "-c", "i18n.commitEncoding=ISO-8859-1", "-c", "user.name=J\xfcrgen", "-c", "core.hooksPath=/dev/null",
		"commit", "-q", "--allow-empty", "-F", msgFile)
	raw := runGit(t, dir, "cat-file", "commit", "HEAD")
	if !strings.Contains(raw, "\nencoding ISO-8859-1\n") {
		t.Fatalf("no encoding header:\n%s", raw)
	}
	r := open(t, dir)
	c, err := r.Commit("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != "KEY-2: café für Jürgen\n" {
		t.Errorf("Message %q", c.Message)
	}
	// git log converts to UTF-8 the same way.
	checkAgainstGit(t, dir, 1)
	res := mustRange(t, r, "HEAD~1", 0)
	if res.Messages[0] != c.Message {
		t.Errorf("Range message %q", res.Messages[0])
	}
	if m, _ := r.CommitMessage("HEAD"); m != c.Message {
		t.Errorf("CommitMessage %q", m)
	}
}

func TestToUTF8(t *testing.T) {
	for _, tc := range []struct{ in, enc, want string }{
		{"caf\xe9", "ISO-8859-1", "café"},
		{"caf\xe9", "latin1", "café"},
		{"\x80 \x93quoted\x94", "windows-1252", "€ “quoted”"},
		{"\x80", "iso-8859-1", "\u0080"},
		{"café", "UTF-8", "café"},
		{"caf\xe9", "", "caf\xe9"},       // no header: bytes as they are
		{"caf\xe9", "KOI8-R", "caf\xe9"}, // not converted
		{"plain ascii", "latin1", "plain ascii"},
	} {
		if got := string(toUTF8([]byte(tc.in), []byte(tc.enc))); got != tc.want {
			t.Errorf("toUTF8(%q, %s) = %q, want %q", tc.in, tc.enc, got, tc.want)
		}
	}
}

func TestPackedRefsAndTags(t *testing.T) {
	needGit(t)
	t.Parallel()
	src := cliRepo(t, 6)
	runGit(t, src, "tag", "-a", "-m", "release", "v1.0", "HEAD~3")
	runGit(t, src, "tag", "light", "HEAD~1")
	runGit(t, src, "branch", "side", "HEAD~4")
	runGit(t, src, "pack-refs", "--all")
	if b, _ := os.ReadFile(filepath.Join(src, ".git", "packed-refs")); !strings.Contains(string(b), "\n^") {
		t.Fatalf("no peeled line in packed-refs:\n%s", b)
	}
	// A loose ref wins over its packed value.
	runGit(t, src, "update-ref", "refs/heads/side", "HEAD~3")
	r := open(t, src)
	for _, rev := range []string{"v1.0", "light", "side", "refs/heads/side", "main", "v1.0^{}", "v1.0^{commit}", "side~1", "HEAD^"} {
		want := strings.TrimSpace(runGit(t, src, "rev-parse", rev+"^{commit}"))
		got, err := r.Resolve(rev)
		if err != nil || got.String() != want {
			t.Errorf("Resolve(%s) = %s, %v; git says %s", rev, got, err, want)
		}
	}
	tag, err := r.LastTag(context.Background())
	if err != nil || tag != "light" {
		t.Errorf("LastTag = %q, %v", tag, err)
	}
	res := mustRange(t, r, "v1.0", 0)
	checkShas(t, "v1.0..HEAD", res.SHAs, strings.Fields(runGit(t, src, "log", "--format=%H", "v1.0..HEAD")))
	for _, bad := range []string{"../config", "refs/heads/../../config", "main@{1}", "HEAD:file", ":/KEY"} {
		if _, err := r.Resolve(bad); err == nil {
			t.Errorf("Resolve(%q) succeeded", bad)
		}
	}
}

func TestRangeStopsWhenContextEnds(t *testing.T) {
	repo := cliRepoOrBuild(t)
	r := open(t, repo)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Range(ctx, "HEAD~300", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Range with an ended context: %v", err)
	}
	if _, err := r.LastTag(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("LastTag with an ended context: %v", err)
	}
	// A context that ends during the walk: the walk looks at it every
	// tickEvery commits.
	ctx2 := &countingCtx{Context: context.Background(), after: 1}
	if _, err := r.Range(ctx2, "HEAD~499", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Range with a context ending mid-walk: %v", err)
	}
	if ctx2.calls != 2 {
		t.Errorf("ctx.Err called %d times for a 500-commit walk", ctx2.calls)
	}
}

// countingCtx ends after its Err has been asked after times.
type countingCtx struct {
	context.Context
	after, calls int
}

func (c *countingCtx) Err() error {
	c.calls++
	if c.calls > c.after {
		return context.Canceled
	}
	return nil
}

// cliRepoOrBuild is a 600-commit linear repository.
func cliRepoOrBuild(t *testing.T) string {
	t.Helper()
	return gittest.MakeLinearRepo(t, 600)
}
