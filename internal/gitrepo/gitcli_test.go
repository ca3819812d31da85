package gitrepo

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
)

// The tests in this file check the reader against the git CLI and against
// repositories only git writes (deltified commits, other index versions,
// commit-graphs, real shallow clones and worktrees). They skip without git.

func needGit(t *testing.T) {
	t.Helper()
	if !gittest.HasGit() {
		t.Skip("git is not on PATH")
	}
}

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gittest.Git(dir, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// randomDAG makes n commits with branches and merges; step is the time
// between commits (0 gives runs of equal times).
func randomDAG(seed int64, n int, equalRuns int) []gittest.Commit {
	rng := rand.New(rand.NewSource(seed))
	cs := make([]gittest.Commit, n)
	for i := range cs {
		cs[i].Message = fmt.Sprintf("DAG-%d: commit %d\n", i, i)
		if equalRuns > 0 {
			cs[i].When = gittest.Base.Add(time.Duration(i/equalRuns) * time.Minute)
		}
		if i == 0 {
			continue
		}
		switch r := rng.Intn(10); {
		case r < 6:
			cs[i].Parents = []int{i - 1}
		case r < 8:
			cs[i].Parents = []int{rng.Intn(i)}
		default:
			a, b := i-1, rng.Intn(i)
			if a == b {
				cs[i].Parents = []int{a}
			} else {
				cs[i].Parents = []int{a, b}
			}
		}
	}
	return cs // main is the last commit; unreachable ones make fine since values too
}

func TestRangeMatchesGitLog(t *testing.T) {
	needGit(t)
	for _, tc := range []struct {
		name      string
		seed      int64
		equalRuns int
	}{
		{"distinct times", 1, 0},
		{"equal times", 3, 4}, // git's queue order among equal times is kept too
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.Build(t, randomDAG(tc.seed, 80, tc.equalRuns))
			r := open(t, repo.Dir)
			rng := rand.New(rand.NewSource(tc.seed))
			for k := 0; k < 12; k++ {
				since := repo.SHAs[rng.Intn(len(repo.SHAs)-1)]
				want := strings.Fields(runGit(t, repo.Dir, "log", "--format=%H", since+"..HEAD"))
				res := mustRange(t, r, since, 0)
				got := res.SHAs
				if len(want) == 0 {
					// since is HEAD or a descendant: Range still
					// reports HEAD.
					want = []string{repo.SHAs[len(repo.SHAs)-1]}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("since %s:\n got %v\nwant %v", since[:7], got, want)
				}
				_, err := gittest.Git(repo.Dir, nil, "merge-base", "--is-ancestor", since, "HEAD")
				isAncestor := err == nil
				if isAncestor != (res.Warning == "") {
					t.Errorf("since %s: ancestor %v but warning %q", since[:7], isAncestor, res.Warning)
				}
				// RangeFrom walks from another head as git log does.
				head := repo.SHAs[rng.Intn(len(repo.SHAs))]
				wantFrom := strings.Fields(runGit(t, repo.Dir, "log", "--format=%H", since+".."+head))
				from, err := r.RangeFrom(context.Background(), head, since, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(wantFrom) == 0 {
					wantFrom = []string{head}
				}
				if !reflect.DeepEqual(from.SHAs, wantFrom) {
					t.Errorf("%s..%s:\n got %v\nwant %v", since[:7], head[:7], from.SHAs, wantFrom)
				}
				// The cap keeps git's first max commits.
				if len(want) > 3 {
					capped := mustRange(t, r, since, 3)
					if !reflect.DeepEqual(capped.SHAs, want[:3]) || !capped.Capped {
						t.Errorf("since %s max 3: got %v capped %v, want %v", since[:7], capped.SHAs, capped.Capped, want[:3])
					}
				}
			}
		})
	}
}

// deltaHistory has long, similar messages, which git stores as deltas of
// one another.
func deltaHistory() []gittest.Commit {
	body := strings.Repeat("A long shared paragraph that makes commit messages similar enough to delta.\n", 30)
	cs := make([]gittest.Commit, 60)
	for i := range cs {
		cs[i].Message = fmt.Sprintf("KEY-%d: change %d\n\n%s", i, i, body)
	}
	cs[10].AnnotatedTag = "v0.3.0"
	cs[20].Branch = "side"
	cs[21].Parents = []int{19}
	cs[40].Parents = []int{39, 20}
	cs[50].Tag = "light"
	return cs
}

func TestGitPackFormats(t *testing.T) {
	needGit(t)
	src := gittest.Build(t, deltaHistory())
	want := snapshotDelta(t, src.Dir)
	// Pack the source once (no deltas reused from go-git's writer), so
	// that each variant copies a few files, not hundreds of loose ones.
	runGit(t, src.Dir, "repack", "-a", "-d", "-q")

	variants := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"ofs-delta", func(t *testing.T, dir string) {
			runGit(t, dir, "repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50")
			if n := deltaCommits(t, dir); n == 0 {
				t.Fatal("git stored no commit as a delta; the test does not test deltas")
			}
		}},
		{"ref-delta", func(t *testing.T, dir string) {
			runGit(t, dir, "-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-f", "-q")
			if n := deltaCommits(t, dir); n == 0 {
				t.Fatal("git stored no commit as a delta")
			}
		}},
		{"idx-v1", func(t *testing.T, dir string) {
			runGit(t, dir, "repack", "-a", "-d", "-f", "-q")
			reindex(t, dir, "--index-version=1")
		}},
		{"idx-v2-large-offsets", func(t *testing.T, dir string) {
			runGit(t, dir, "repack", "-a", "-d", "-f", "-q")
			reindex(t, dir, "--index-version=2,0")
		}},
		{"two-packs-and-loose", func(t *testing.T, dir string) {
			// Old history in one pack, newer in another, the newest
			// commits and the side branch left loose.
			pack := filepath.Join(dir, ".git", "objects", "pack", "pack")
			packs, _ := filepath.Glob(pack + "-*.pack")
			if len(packs) != 1 {
				t.Fatalf("packs: %v", packs)
			}
			data, err := os.ReadFile(packs[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{packs[0], strings.TrimSuffix(packs[0], ".pack") + ".idx"} {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
			mustGit(t, dir, data, "unpack-objects", "-q")
			old := runGit(t, dir, "rev-list", "--objects", "HEAD~40")
			mustGit(t, dir, []byte(old), "pack-objects", "-q", pack)
			mid := runGit(t, dir, "rev-list", "--objects", "HEAD~40..HEAD~5")
			mustGit(t, dir, []byte(mid), "pack-objects", "-q", pack)
			runGit(t, dir, "prune-packed")
			if packs, _ := filepath.Glob(pack + "-*.pack"); len(packs) != 2 {
				t.Fatalf("packs: %v", packs)
			}
		}},
		{"no-mmap", func(t *testing.T, dir string) {
			runGit(t, dir, "repack", "-a", "-d", "-f", "-q")
			runGit(t, dir, "commit-graph", "write", "--reachable")
		}},
		{"commit-graph", func(t *testing.T, dir string) {
			runGit(t, dir, "repack", "-a", "-d", "-q")
			runGit(t, dir, "commit-graph", "write", "--reachable")
		}},
		{"commit-graph-split", func(t *testing.T, dir string) {
			runGit(t, dir, "repack", "-a", "-d", "-q")
			runGit(t, dir, "commit-graph", "write", "--reachable", "--split")
		}},
		{"packed-refs", func(t *testing.T, dir string) {
			runGit(t, dir, "gc", "-q")
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			if v.name == "no-mmap" {
				// Not parallel: it flips a package switch.
				noMmap = true
				defer func() { noMmap = false }()
			} else {
				t.Parallel()
			}
			dir := copyRepo(t, src.Dir)
			v.setup(t, dir)
			if v.name == "no-mmap" {
				r := open(t, dir)
				if len(r.db.packs) != 1 || r.db.packs[0].data != nil || r.graph == nil {
					t.Fatal("the pack was mapped, or the graph not opened")
				}
			}
			if strings.HasPrefix(v.name, "commit-graph") {
				r := open(t, dir)
				if r.graph == nil {
					t.Fatal("the commit-graph was not opened")
				}
			}
			diffSnapshots(t, snapshotDelta(t, dir), want)
		})
	}
}

// diffSnapshots reports the first lines where got and want differ, briefly.
func diffSnapshots(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("snapshot has %d lines, want %d", len(got), len(want))
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("line %d differs:\n got %.300s\nwant %.300s", i, got[i], want[i])
		}
	}
}

func mustGit(t *testing.T, dir string, stdin []byte, args ...string) string {
	t.Helper()
	out, err := gittest.Git(dir, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func snapshotDelta(t *testing.T, dir string) []string {
	t.Helper()
	out := rangeSnapshot(t, dir, []string{"", "v0.3.0", "side", "light", "HEAD~30"}, 7)
	r := open(t, dir)
	for _, rev := range []string{"v0.3.0", "side", "HEAD~5"} {
		m, err := r.CommitMessage(rev)
		out = append(out, fmt.Sprintf("message %q: %q %v", rev, m, err))
	}
	return out
}

func deltaCommits(t *testing.T, dir string) int {
	t.Helper()
	idx, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.idx"))
	n := 0
	for _, f := range idx {
		for _, line := range strings.Split(runGit(t, dir, "verify-pack", "-v", f), "\n") {
			// sha type size size-in-pack offset depth base
			if f := strings.Fields(line); len(f) == 7 && f[1] == "commit" {
				n++
			}
		}
	}
	return n
}

// reindex rewrites the pack's .idx with git index-pack options.
func reindex(t *testing.T, dir, opt string) {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	idx := strings.TrimSuffix(packs[0], ".pack") + ".idx"
	tmp := idx + ".new"
	runGit(t, dir, "index-pack", opt, "-o", tmp, packs[0])
	if err := os.Chmod(idx, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, idx); err != nil {
		t.Fatal(err)
	}
}

// copyRepo copies a repository directory tree.
func copyRepo(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestShallowCloneCLI(t *testing.T) {
	needGit(t)
	src := gittest.Build(t, linear(12))
	for _, depth := range []int{1, 4} {
		t.Run(fmt.Sprint("depth ", depth), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "clone")
			runGit(t, src.Dir, "clone", "-q", "--depth", fmt.Sprint(depth), "file://"+src.Dir, dst)
			r := open(t, dst)
			if !r.IsShallow() {
				t.Fatal("not shallow")
			}
			res := mustRange(t, r, src.SHAs[2], 0)
			checkShas(t, "range", res.SHAs, shas(src, seq(11, 12-depth)...))
			if !strings.Contains(res.Warning, "shallow") || !strings.Contains(res.Warning, "fetch-depth: 0") {
				t.Errorf("warning %q", res.Warning)
			}
			if res.Messages[0] != msg(11) {
				t.Errorf("HEAD message %q", res.Messages[0])
			}
			if r.OriginURL() != "file://"+src.Dir {
				t.Errorf("OriginURL %q", r.OriginURL())
			}
		})
	}
}

func TestGitWorktreeCLI(t *testing.T) {
	needGit(t)
	src := gittest.Build(t, linear(6))
	wt := filepath.Join(t.TempDir(), "wt")
	runGit(t, src.Dir, "worktree", "add", "-q", "--detach", wt, src.SHAs[3])
	r := open(t, wt)
	h, err := r.Head()
	if err != nil || h.SHA != src.SHAs[3] || h.Branch != "" {
		t.Fatalf("Head = %+v, %v", h, err)
	}
	res := mustRange(t, r, src.SHAs[1], 0)
	checkShas(t, "worktree range", res.SHAs, shas(src, 3, 2))
}

// HEAD is read once and followed: a HEAD on a branch with no commits says
// so, and a chain of symbolic refs is followed to git's depth and no further.
func TestHeadFollowsSymbolicRefs(t *testing.T) {
	needGit(t)
	dir := t.TempDir()
	runGit(t, dir, "init", "-q", "-b", "main")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Head(); err == nil || !strings.Contains(err.Error(), "HEAD points at refs/heads/main, which has no commits yet") {
		t.Errorf("unborn branch: %v", err)
	}
	r.Close()

	runGit(t, dir, "commit", "-q", "--allow-empty", "-m", "ABC-1 first")
	sha := strings.TrimSpace(runGit(t, dir, "rev-parse", "HEAD"))
	// HEAD -> refs/heads/s1 -> ... -> refs/heads/s<n> -> refs/heads/main.
	chain := func(n int) {
		target := "refs/heads/main"
		for i := n; i >= 1; i-- {
			name := fmt.Sprintf("refs/heads/s%d", i)
			if err := os.WriteFile(filepath.Join(dir, ".git", filepath.FromSlash(name)), []byte("ref: "+target+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			target = name
		}
		if err := os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: "+target+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// HEAD, the symrefs and main: maxSymrefDepth reads in all is the most.
	chain(maxSymrefDepth - 2)
	r, _ = Open(dir)
	if h, err := r.Head(); err != nil || h.SHA != sha || h.Branch != "s1" {
		t.Errorf("chain of %d: %+v, %v", maxSymrefDepth, h, err)
	}
	r.Close()
	chain(maxSymrefDepth - 1)
	r, _ = Open(dir)
	defer r.Close()
	if _, err := r.Head(); err == nil || !strings.Contains(err.Error(), "symbolic refs nested too deep") {
		t.Errorf("chain of %d: %v", maxSymrefDepth+1, err)
	}
}
