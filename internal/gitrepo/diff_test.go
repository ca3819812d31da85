package gitrepo

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
)

// The helpers of this file are prefixed dt (diff test) so that they cannot
// collide with the package's other test helpers.

// dtRepo is a repository the tests write with the git CLI.
type dtRepo struct {
	t   testing.TB
	dir string
	n   int // commits made, for the dates
}

func dtNewRepo(t testing.TB) *dtRepo {
	t.Helper()
	if !gittest.HasGit() {
		t.Skip("git is not on PATH")
	}
	r := &dtRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q")
	r.git("symbolic-ref", "HEAD", "refs/heads/main")
	return r
}

// git runs git with a fixed identity and dates, so every run makes the same
// objects.
func (r *dtRepo) git(args ...string) string {
	r.t.Helper()
	out, err := dtGit(r.dir, nil, r.n, args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func dtGit(dir string, stdin []byte, n int, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-c", "core.autocrlf=false", "-c", "gc.auto=0", "-c", "core.quotePath=false"}, args...)...)
	cmd.Dir = dir
	date := fmt.Sprintf("%d +0000", 1700000000+60*n)
	cmd.Env = append(gittest.GitEnv(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func (r *dtRepo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *dtRepo) remove(path string) {
	r.t.Helper()
	if err := os.RemoveAll(filepath.Join(r.dir, filepath.FromSlash(path))); err != nil {
		r.t.Fatal(err)
	}
}

// commit commits the whole work tree and returns the new commit.
func (r *dtRepo) commit(msg string) Hash {
	r.t.Helper()
	r.n++
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.rev("HEAD")
}

func (r *dtRepo) rev(rev string) Hash {
	r.t.Helper()
	return NewHash(strings.TrimSpace(r.git("rev-parse", rev)))
}

func (r *dtRepo) open() *Repo {
	r.t.Helper()
	repo, err := Open(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { repo.Close() })
	return repo
}

// numstat is what git says commit c changes against its first parent (a
// root commit: what it adds): path → "added removed" ("- -" for binary).
func (r *dtRepo) numstat(c Hash) map[string]string {
	r.t.Helper()
	parents := strings.Fields(r.git("rev-list", "--parents", "-n", "1", c.String()))[1:]
	var out string
	if len(parents) == 0 {
		out = r.git("show", "--numstat", "--format=", "--no-renames", c.String())
	} else {
		out = r.git("diff", "--numstat", "--no-renames", parents[0], c.String())
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			r.t.Fatalf("numstat line %q", line)
		}
		m[f[2]] = f[0] + " " + f[1]
	}
	return m
}

// nameStatus is git's change letter per path (A, D, M, T).
func (r *dtRepo) nameStatus(c Hash) map[string]string {
	r.t.Helper()
	parents := strings.Fields(r.git("rev-list", "--parents", "-n", "1", c.String()))[1:]
	var out string
	if len(parents) == 0 {
		out = r.git("show", "--name-status", "--format=", "--no-renames", c.String())
	} else {
		out = r.git("diff", "--name-status", "--no-renames", parents[0], c.String())
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.SplitN(line, "\t", 2); len(f) == 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}

func mustChanges(t *testing.T, r *Repo, h Hash, max int, lines bool) ([]FileChange, int) {
	t.Helper()
	files, total, err := r.Changes(h, max, lines)
	if err != nil {
		t.Fatalf("Changes(%s): %v", h, err)
	}
	return files, total
}

// dtFmt prints changes as "CHANGE path +a -r" ("?" for unknown lines).
func dtFmt(files []FileChange) []string {
	var out []string
	for _, f := range files {
		if f.LinesKnown {
			out = append(out, fmt.Sprintf("%s %s +%d -%d", f.Change, f.Path, f.LinesAdded, f.LinesRemoved))
		} else {
			out = append(out, fmt.Sprintf("%s %s ?", f.Change, f.Path))
		}
	}
	return out
}

func dtExpect(t *testing.T, what string, got []FileChange, want ...string) {
	t.Helper()
	if g := dtFmt(got); !reflect.DeepEqual(g, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, g, want)
	}
}

func TestChangesScenarios(t *testing.T) {
	g := dtNewRepo(t)
	g.write("a.txt", "one\ntwo\nthree\n")
	g.write("dir/b.txt", "b\n")
	g.write("dir/sub/c.txt", "c1\nc2")
	g.write("keep/k.txt", "kept\n")
	g.write("x", "a file that becomes a directory\n")
	root := g.commit("root")

	g.write("a.txt", "one\n2\nthree\nfour\n")
	g.remove("dir/b.txt")
	g.write("dir/sub/d.txt", "d\n")
	modify := g.commit("modify, delete, add nested")

	g.remove("x")
	g.write("x/y", "now inside\n")
	g.write("x.txt", "sorts between x and x/\n")
	typeChange := g.commit("file to directory")

	g.write("three/1", "1\n")
	g.write("three/2", "2\n")
	g.write("a.txt", "one\n")
	threeFiles := g.commit("a 3-file commit")

	g.git("checkout", "-q", "-b", "side")
	g.write("side.txt", "from side\n")
	g.commit("on side")
	g.git("checkout", "-q", "main")
	g.write("main.txt", "on main\n")
	g.commit("on main")
	g.n++
	g.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
	merge := g.rev("HEAD")

	g.write("bin.dat", "GIF89a\x00\x01\x02\n")
	g.write("keep/k.txt", "kept\n") // unchanged
	binary := g.commit("binary")

	if err := os.Chmod(filepath.Join(g.dir, "a.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(g.dir, "link")); err != nil {
		t.Fatal(err)
	}
	chmod := g.commit("mode change and a symlink")

	r := g.open()
	for _, tc := range []struct {
		name string
		h    Hash
		want []string
	}{
		{"root", root, []string{"ADDED a.txt +3 -0", "ADDED dir/b.txt +1 -0", "ADDED dir/sub/c.txt +2 -0", "ADDED keep/k.txt +1 -0", "ADDED x +1 -0"}},
		{"modify", modify, []string{"MODIFIED a.txt +2 -1", "DELETED dir/b.txt +0 -1", "ADDED dir/sub/d.txt +1 -0"}},
		{"file to directory", typeChange, []string{"DELETED x +0 -1", "ADDED x.txt +1 -0", "ADDED x/y +1 -0"}},
		{"three files", threeFiles, []string{"MODIFIED a.txt +0 -3", "ADDED three/1 +1 -0", "ADDED three/2 +1 -0"}},
		{"merge: first parent", merge, []string{"ADDED side.txt +1 -0"}},
		{"binary", binary, []string{"ADDED bin.dat ?"}},
		{"mode change", chmod, []string{"MODIFIED a.txt +0 -0", "ADDED link +1 -0"}},
	} {
		files, total := mustChanges(t, r, tc.h, 0, true)
		dtExpect(t, tc.name, files, tc.want...)
		if total != len(tc.want) {
			t.Errorf("%s: total %d, want %d", tc.name, total, len(tc.want))
		}
		// Against git.
		ns := g.numstat(tc.h)
		if len(ns) != total {
			t.Errorf("%s: git says %d files (%v), Changes %d", tc.name, len(ns), ns, total)
		}
		for _, f := range files {
			want := "- -"
			if f.LinesKnown {
				want = fmt.Sprintf("%d %d", f.LinesAdded, f.LinesRemoved)
			}
			if ns[f.Path] != want {
				t.Errorf("%s: %s: git numstat %q, Changes %q", tc.name, f.Path, ns[f.Path], want)
			}
		}
		paths, err := r.ChangedPaths(tc.h)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range files {
			want = append(want, f.Path)
		}
		if !reflect.DeepEqual(paths, want) {
			t.Errorf("%s: ChangedPaths %q, want %q", tc.name, paths, want)
		}
	}

	// maxFiles caps the files, not the total; without lines no counts.
	files, total := mustChanges(t, r, root, 2, false)
	dtExpect(t, "root, 2 files, no lines", files, "ADDED a.txt ?", "ADDED dir/b.txt ?")
	if total != 5 {
		t.Errorf("total %d, want 5", total)
	}
	// A commit whose tree is its parent's changes nothing.
	g.n++
	g.git("commit", "-q", "--allow-empty", "-m", "empty")
	if files, total := mustChanges(t, r, g.rev("HEAD"), 0, true); len(files) != 0 || total != 0 {
		t.Errorf("empty commit: %v %d", files, total)
	}
	// Not a commit.
	blob := NewHash(strings.TrimSpace(g.git("rev-parse", "HEAD:a.txt")))
	if _, _, err := r.Changes(blob, 0, false); err == nil || !strings.Contains(err.Error(), "not a commit") {
		t.Errorf("Changes(blob): %v", err)
	}
	if _, err := r.ChangedPaths(NewHash(strings.Repeat("ab", 20))); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("ChangedPaths(absent): %v", err)
	}
}

// dtLoosePath is where loose object h lives.
func dtLoosePath(dir string, h Hash) string {
	s := h.String()
	return filepath.Join(dir, ".git", "objects", s[:2], s[2:])
}

func TestChangesReadsOnlyWhatDiffers(t *testing.T) {
	g := dtNewRepo(t)
	g.write("big/a/1.txt", "1\n")
	g.write("big/b/2.txt", "2\n")
	g.write("src/main.go", "package main\n")
	g.commit("root")
	g.write("src/main.go", "package main\n\nfunc main() {}\n")
	g.write("src/new.go", "package other\n")
	h := g.commit("change src only")

	// Remove the unchanged subtree (shared by both commits) and the old
	// blob of the changed file: the diff must not need the first, and
	// must treat the second as a partial clone's missing blob.
	bigTree := g.rev("HEAD:big")
	oldBlob := g.rev("HEAD~1:src/main.go")
	for _, o := range []Hash{bigTree, oldBlob} {
		if err := os.Remove(dtLoosePath(g.dir, o)); err != nil {
			t.Fatal(err)
		}
	}
	r := g.open()
	files, total := mustChanges(t, r, h, 0, true)
	dtExpect(t, "partial", files, "MODIFIED src/main.go ?", "ADDED src/new.go +1 -0")
	if total != 2 {
		t.Errorf("total %d", total)
	}
	// The root commit adds big/: its tree is needed, and missing.
	if _, _, err := r.Changes(g.rev("HEAD~1"), 0, false); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("root commit without its tree: %v", err)
	}
}

func TestChangesShallowBoundary(t *testing.T) {
	g := dtNewRepo(t)
	g.write("f", "1\n")
	g.commit("one")
	g.write("f", "2\n")
	g.commit("two")
	g.write("f", "3\n")
	head := g.commit("three")
	clone := t.TempDir()
	if _, err := dtGit(clone, nil, 0, "clone", "-q", "--depth=1", "file://"+g.dir, "."); err != nil {
		t.Fatal(err)
	}
	r, err := Open(clone)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, _, err := r.Changes(head, 10, true); !errors.Is(err, ErrParentNotInClone) {
		t.Errorf("Changes at the shallow boundary: %v", err)
	}
	if _, err := r.ChangedPaths(head); !errors.Is(err, ErrParentNotInClone) {
		t.Errorf("ChangedPaths at the shallow boundary: %v", err)
	}
}

func TestChangesSubmodule(t *testing.T) {
	g := dtNewRepo(t)
	g.write("f", "1\n")
	first := g.commit("one")
	g.git("update-index", "--add", "--cacheinfo", "160000,"+first.String()+",vendor/lib")
	g.n++
	g.git("commit", "-q", "-m", "add a submodule")
	h := g.rev("HEAD")
	r := g.open()
	files, total := mustChanges(t, r, h, 0, true)
	dtExpect(t, "submodule", files, "ADDED vendor/lib ?")
	if total != 1 {
		t.Errorf("total %d", total)
	}
}

// TestChangesMatchGit compares Changes with git on a generated history of
// 60 commits: adds, edits (insertions, deletions, replacements among
// repeated lines), deletions, files becoming directories and back, binary
// files, mode changes, nested directories and merges.
func TestChangesMatchGit(t *testing.T) {
	g := dtNewRepo(t)
	rng := rand.New(rand.NewSource(11))
	files := map[string][]string{} // path → lines
	words := []string{"alpha", "beta", "gamma", "delta", "", "}", "return nil", "x := 1"}
	randLines := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			if rng.Intn(3) == 0 {
				out[i] = words[rng.Intn(len(words))]
			} else {
				out[i] = fmt.Sprintf("line %d", rng.Intn(1000))
			}
		}
		return out
	}
	dirs := []string{"", "a/", "a/b/", "a/b/c/", "d/", "d/e f/"}
	write := func(p string) {
		content := strings.Join(files[p], "\n")
		if len(files[p]) > 0 && rng.Intn(8) != 0 {
			content += "\n" // sometimes no newline at the end
		}
		g.write(p, content)
	}
	pick := func() string {
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		return paths[rng.Intn(len(paths))]
	}
	var commits []Hash
	for i := 0; i < 60; i++ {
		if i > 0 && i%15 == 0 {
			// A merge: a side branch changes its own files.
			g.git("checkout", "-q", "-b", "side"+strconv.Itoa(i))
			p := fmt.Sprintf("side/%d.txt", i)
			files[p] = randLines(5)
			write(p)
			commits = append(commits, g.commit("side"))
			g.git("checkout", "-q", "main")
			g.write("main.txt", strconv.Itoa(i)+"\n")
			commits = append(commits, g.commit("main"))
			g.n++
			g.git("merge", "-q", "--no-ff", "-m", "merge", "side"+strconv.Itoa(i))
			commits = append(commits, g.rev("HEAD"))
			continue
		}
		ops := 1 + rng.Intn(3)
		if i == 0 {
			ops = 8
		}
		for k := 0; k < ops; k++ {
			switch op := rng.Intn(10); {
			case op < 3 || len(files) < 3:
				p := fmt.Sprintf("%sf%d.txt", dirs[rng.Intn(len(dirs))], rng.Intn(40))
				if _, ok := files[p]; ok {
					continue
				}
				if _, err := os.Stat(filepath.Join(g.dir, p)); err == nil {
					continue // a directory of that name
				}
				files[p] = randLines(rng.Intn(30))
				write(p)
			case op < 7:
				p := pick()
				ls := files[p]
				for e := 0; e < 1+rng.Intn(4); e++ {
					at := 0
					if len(ls) > 0 {
						at = rng.Intn(len(ls))
					}
					switch rng.Intn(3) {
					case 0:
						ls = append(ls[:at], append(randLines(1+rng.Intn(3)), ls[at:]...)...)
					case 1:
						if len(ls) > 0 {
							ls = append(ls[:at], ls[at+1:]...)
						}
					default:
						if len(ls) > 0 {
							ls[at] = randLines(1)[0]
						}
					}
				}
				files[p] = ls
				write(p)
			case op < 8:
				p := pick()
				delete(files, p)
				g.remove(p)
			case op < 9:
				// A file becomes a directory of the same name.
				p := pick()
				delete(files, p)
				g.remove(p)
				q := p + "/inner.txt"
				files[q] = randLines(3)
				write(q)
			default:
				p := pick()
				g.write(p, "\x00binary "+strconv.Itoa(i))
				files[p] = []string{"\x00binary " + strconv.Itoa(i)}
				if rng.Intn(2) == 0 {
					delete(files, p)
					g.remove(p)
				}
			}
		}
		commits = append(commits, g.commit(fmt.Sprintf("commit %d", i)))
	}
	// Check the loose objects first, then the same commits from a pack
	// (deltified blobs and trees).
	seen := map[string]int{}
	check := func(r *Repo) {
		t.Helper()
		// One Differ, newest commit first, as a run reads them.
		d := r.NewDiffer()
		for k := len(commits) - 1; k >= 0; k-- {
			c := commits[k]
			files, total, err := d.Changes(c, 0, true)
			if err != nil {
				t.Fatal(err)
			}
			ns := g.numstat(c)
			st := g.nameStatus(c)
			if total != len(ns) {
				t.Errorf("%s: %d files, git %d: %q vs %v", c, total, len(ns), dtFmt(files), ns)
				continue
			}
			letter := map[string]string{ChangeAdded: "A", ChangeDeleted: "D", ChangeModified: "M"}
			for _, f := range files {
				want := "- -"
				if f.LinesKnown {
					want = fmt.Sprintf("%d %d", f.LinesAdded, f.LinesRemoved)
				}
				if ns[f.Path] != want {
					t.Errorf("%s %s: numstat %q, Changes %q", c, f.Path, ns[f.Path], want)
				}
				if l := st[f.Path]; l != letter[f.Change] && !(l == "T" && f.Change == ChangeModified) {
					t.Errorf("%s %s: git %q, Changes %s", c, f.Path, l, f.Change)
				}
				seen[f.Change]++
				if !f.LinesKnown {
					seen["binary"]++
				}
				if strings.HasSuffix(f.Path, "/inner.txt") && f.Change == ChangeAdded {
					seen["file to directory"]++
				}
				if f.LinesAdded > 0 && f.LinesRemoved > 0 {
					seen["edited"]++
				}
			}
		}
	}
	check(g.open())
	g.git("repack", "-a", "-d", "-f", "-q")
	g.git("prune-packed")
	check(g.open())
	// The history must hold every kind of change it is meant to test.
	for _, kind := range []string{ChangeAdded, ChangeDeleted, ChangeModified, "binary", "file to directory", "edited"} {
		if seen[kind] < 2 {
			t.Errorf("the generated history has %d %q changes: %v", seen[kind], kind, seen)
		}
	}
	t.Logf("compared with git: %v", seen)
}

func TestTreeCacheGenerations(t *testing.T) {
	var c treeCache
	ents := func(i int) []treeEntry { return []treeEntry{{mode: uint32(i)}} }
	h := func(i int) Hash { return Hash{byte(i), byte(i >> 8)} }
	const cost = maxCachedTreeBytes / 16
	for i := 0; i < 100; i++ {
		c.put(h(i), ents(i), cost)
		if c.curBytes > maxCachedTreeBytes/2 {
			t.Fatalf("current generation holds %d bytes", c.curBytes)
		}
		// The tree put first stays while it is asked for.
		if e, ok := c.get(h(0)); !ok || e[0].mode != 0 {
			t.Fatalf("after %d puts, tree 0: %v %v", i, e, ok)
		}
	}
	if len(c.cur)+len(c.old) > 16 {
		t.Errorf("%d trees kept", len(c.cur)+len(c.old))
	}
	if _, ok := c.get(h(1)); ok {
		t.Error("an old tree that was not asked for was kept")
	}
	if e, ok := c.get(h(99)); !ok || e[0].mode != 99 {
		t.Errorf("the newest tree: %v %v", e, ok)
	}
	c.put(h(1000), ents(1000), maxCachedTreeBytes) // too large to cache
	if _, ok := c.get(h(1000)); ok {
		t.Error("a tree over the budget was cached")
	}
}

// lcsLen is the textbook dynamic programme.
func lcsLen(a, b []int32) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] >= cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func TestLineCountIsMinimal(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	var lc lineCounter
	for round := 0; round < 3000; round++ {
		alphabet := 1 + rng.Intn(6)
		gen := func() []int32 {
			s := make([]int32, rng.Intn(25))
			for i := range s {
				s[i] = int32(rng.Intn(alphabet))
			}
			return s
		}
		a, b := gen(), gen()
		text := func(s []int32) []byte {
			var buf bytes.Buffer
			for _, v := range s {
				fmt.Fprintf(&buf, "%d\n", v)
			}
			return buf.Bytes()
		}
		added, removed, ok := lc.count(text(a), text(b))
		l := lcsLen(a, b)
		if !ok || added != len(b)-l || removed != len(a)-l {
			t.Fatalf("%v → %v: +%d -%d %v, want +%d -%d", a, b, added, removed, ok, len(b)-l, len(a)-l)
		}
		// The distance alone, without the cuts.
		if d, ok := lc.editDistance(a, b, 1<<30); !ok || d != len(a)+len(b)-2*l {
			t.Fatalf("editDistance(%v, %v) = %d %v, want %d", a, b, d, ok, len(a)+len(b)-2*l)
		}
	}
}

func TestLineCountEdges(t *testing.T) {
	var lc lineCounter
	for _, tc := range []struct {
		a, b           string
		added, removed int
	}{
		{"", "", 0, 0},
		{"", "a\nb", 2, 0},
		{"a\nb\n", "", 0, 2},
		{"a", "a\n", 1, 1}, // the newline at the end is part of the line, as in git
		{"a\nb", "a\nb\n", 1, 1},
		{"a\nb\nc\n", "a\nc\n", 0, 1},
		{"x\ny\n", "y\nx\n", 1, 1},
		{"same\n", "same\n", 0, 0},
	} {
		added, removed, ok := lc.count([]byte(tc.a), []byte(tc.b))
		if !ok || added != tc.added || removed != tc.removed {
			t.Errorf("%q → %q: +%d -%d %v, want +%d -%d", tc.a, tc.b, added, removed, ok, tc.added, tc.removed)
		}
	}
	// A diff too costly to compute is reported as such: two 40,000-line
	// files sharing their lines in an order that aligns badly.
	var a, b bytes.Buffer
	for i := 0; i < 40000; i++ {
		fmt.Fprintf(&a, "%d\n", i)
		fmt.Fprintf(&b, "%d\n", (i*7919)%40000)
	}
	if _, _, ok := lc.count(a.Bytes(), b.Bytes()); ok {
		t.Error("a shuffled 40,000-line file was counted within the work bound")
	}
	// A large file with a small change is cheap.
	c := bytes.Replace(a.Bytes(), []byte("\n20000\n"), []byte("\n20000\nnew\n"), 1)
	if added, removed, ok := lc.count(a.Bytes(), c); !ok || added != 1 || removed != 0 {
		t.Errorf("one line added to 40,000: +%d -%d %v", added, removed, ok)
	}
}

// dtBuildMonorepo writes, with git fast-import, a repository of n commits
// over a tree of 1,200 files (30 services × 4 packages × 10 files of 40
// lines, three levels deep); after the root, each commit edits 1 to 3
// lines of 1 to 3 files, and every 10th adds a file. The pack is rewritten
// as a clone's would be (repack -a -d -f). It returns the commits, newest
// first.
func dtBuildMonorepo(tb testing.TB, dir string, n int) {
	tb.Helper()
	rng := rand.New(rand.NewSource(1))
	type file struct {
		path  string
		lines []string
	}
	var files []*file
	for s := 0; s < 30; s++ {
		for p := 0; p < 4; p++ {
			for f := 0; f < 10; f++ {
				fl := &file{path: fmt.Sprintf("services/svc%02d/pkg%d/file%d.go", s, p, f)}
				for l := 0; l < 40; l++ {
					fl.lines = append(fl.lines, fmt.Sprintf("\tline %d of %s", l, fl.path))
				}
				files = append(files, fl)
			}
		}
	}
	var stream bytes.Buffer
	put := func(f *file) {
		content := strings.Join(f.lines, "\n") + "\n"
		fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", f.path, len(content), content)
	}
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("KEY-%d: commit %d\n", i+1, i)
		ts := 1700000000 + 60*i
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\n", i+1)
		fmt.Fprintf(&stream, "author A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n", ts, ts)
		fmt.Fprintf(&stream, "data %d\n%s", len(msg), msg)
		if i == 0 {
			for _, f := range files {
				put(f)
			}
			continue
		}
		fmt.Fprintf(&stream, "from :%d\n", i)
		for k := 0; k < 1+rng.Intn(3); k++ {
			f := files[rng.Intn(len(files))]
			for e := 0; e < 1+rng.Intn(3); e++ {
				f.lines[rng.Intn(len(f.lines))] = fmt.Sprintf("\tedited in commit %d", i)
			}
			put(f)
		}
		if i%10 == 0 {
			f := &file{path: fmt.Sprintf("services/svc%02d/pkg%d/new%d.go", rng.Intn(30), rng.Intn(4), i), lines: []string{"package x"}}
			files = append(files, f)
			put(f)
		}
	}
	for _, args := range [][]string{{"init", "-q", "--bare"}, {"symbolic-ref", "HEAD", "refs/heads/main"}} {
		if _, err := dtGit(dir, nil, 0, args...); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := dtGit(dir, stream.Bytes(), 0, "fast-import", "--quiet"); err != nil {
		tb.Fatal(err)
	}
	if _, err := dtGit(dir, nil, 0, "repack", "-a", "-d", "-f", "-q"); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkChangesVsWalk1000 measures, on a 1,000-commit monorepo (the
// default max_commits), the cost per commit of the walk (Range over the
// whole history; open+walk also opens the repository, as a run does) and
// of reading each commit's changes (Changes, the
// file count and up to 10 files, with and without line counts; and
// ChangedPaths for the paths filter). Each sub-benchmark reports ns/commit.
// Issue 11 wants the changes to cost no more than the walk.
func BenchmarkChangesVsWalk1000(b *testing.B) {
	if !gittest.HasGit() {
		b.Skip("git is not on PATH")
	}
	const n = 1000
	dir := b.TempDir()
	dtBuildMonorepo(b, dir, n)
	r, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	res, err := r.Range(context.Background(), "", 0)
	if err != nil {
		b.Fatal(err)
	}
	root, err := r.Resolve("HEAD~999")
	if err != nil {
		b.Fatal(err)
	}
	res, err = r.Range(context.Background(), root.String(), 0)
	if err != nil || len(res.SHAs) != n-1 {
		b.Fatalf("range: %d commits, %v", len(res.SHAs), err)
	}
	commits := make([]Hash, len(res.SHAs))
	for i, s := range res.SHAs {
		commits[i] = NewHash(s)
	}
	perCommit := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(commits)), "ns/commit")
	}
	b.Run("walk", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			res, err := r.Range(context.Background(), root.String(), 0)
			if err != nil || len(res.SHAs) != len(commits) {
				b.Fatal(err)
			}
		}
		perCommit(b)
	})
	b.Run("open+walk", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r, err := Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			res, err := r.Range(context.Background(), root.String(), 0)
			r.Close()
			if err != nil || len(res.SHAs) != len(commits) {
				b.Fatal(err)
			}
		}
		perCommit(b)
	})
	for _, bc := range []struct {
		name  string
		lines bool
	}{{"changes", false}, {"changes+lines", true}} {
		b.Run(bc.name, func(b *testing.B) {
			files := 0
			for i := 0; i < b.N; i++ {
				d := r.NewDiffer()
				for _, c := range commits {
					fs, total, err := d.Changes(c, 10, bc.lines)
					if err != nil || total == 0 {
						b.Fatalf("%s: %d files, %v", c, total, err)
					}
					files += len(fs)
				}
			}
			perCommit(b)
		})
	}
	b.Run("changes-without-differ", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, c := range commits {
				if _, _, err := r.Changes(c, 10, false); err != nil {
					b.Fatal(err)
				}
			}
		}
		perCommit(b)
	})
	b.Run("paths", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d := r.NewDiffer()
			for _, c := range commits {
				if _, err := d.ChangedPaths(c); err != nil {
					b.Fatal(err)
				}
			}
		}
		perCommit(b)
	})
	// What a run does, from a cold reader: open, walk, then read the
	// changes of every commit (the worst case: every message names a
	// key). The sub-benchmarks above reuse one Repo, whose object cache
	// stays warm from one iteration to the next.
	for _, bc := range []struct {
		name  string
		lines bool
	}{{"open+walk+changes", false}, {"open+walk+changes+lines", true}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				res, err := r.Range(context.Background(), root.String(), 0)
				if err != nil || len(res.SHAs) != len(commits) {
					b.Fatal(err)
				}
				d := r.NewDiffer()
				for _, s := range res.SHAs {
					if _, _, err := d.Changes(NewHash(s), 10, bc.lines); err != nil {
						b.Fatal(err)
					}
				}
				r.Close()
			}
			perCommit(b)
		})
	}
}

// dtWriteLoose stores content as loose object name (which need not be its
// hash: a hostile repository can hold anything).
func dtWriteLoose(t *testing.T, dir string, name Hash, typ string, content []byte) {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	fmt.Fprintf(w, "%s %d\x00", typ, len(content))
	w.Write(content)
	w.Close()
	p := dtLoosePath(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func dtTree(entries ...string) []byte {
	var b bytes.Buffer
	for i := 0; i+2 < len(entries); i += 3 {
		h := NewHash(entries[i+2])
		fmt.Fprintf(&b, "%s %s\x00%s", entries[i], entries[i+1], h[:])
	}
	return b.Bytes()
}

// TestChangesHostileTrees diffs trees that name themselves (made-up
// object names: a pack or loose object is not checked against its
// hash): the walk must end with an error, not recurse without end.
func TestChangesHostileTrees(t *testing.T) {
	g := dtNewRepo(t)
	g.write("f", "a file\n")
	blob := strings.TrimSpace(g.git("hash-object", "-w", "f"))
	self := strings.Repeat("1", 40)
	commit := func(name, tree string) Hash {
		h := NewHash(name)
		dtWriteLoose(t, g.dir, h, "commit", []byte("tree "+tree+"\nauthor a <a> 1 +0000\ncommitter a <a> 1 +0000\n\nKEY-1\n"))
		return h
	}
	// A tree holding itself twice, and a file.
	dtWriteLoose(t, g.dir, NewHash(self), "tree", dtTree("40000", "a", self, "40000", "b", self, "100644", "f", blob))
	deep := commit(strings.Repeat("2", 40), self)
	// A tree of 2,000 directories that are all one tree of 2,000
	// directories that are all one tree of 2,000 files: 8e9 files.
	var wide, mid, leaf []string
	for i := 0; i < 2000; i++ {
		wide = append(wide, "40000", fmt.Sprintf("d%04d", i), strings.Repeat("4", 40))
		mid = append(mid, "40000", fmt.Sprintf("e%04d", i), strings.Repeat("5", 40))
		leaf = append(leaf, "100644", fmt.Sprintf("f%04d", i), blob)
	}
	dtWriteLoose(t, g.dir, NewHash(strings.Repeat("3", 40)), "tree", dtTree(wide...))
	dtWriteLoose(t, g.dir, NewHash(strings.Repeat("4", 40)), "tree", dtTree(mid...))
	dtWriteLoose(t, g.dir, NewHash(strings.Repeat("5", 40)), "tree", dtTree(leaf...))
	bomb := commit(strings.Repeat("6", 40), strings.Repeat("3", 40))
	// A "tree" that is a blob.
	dtWriteLoose(t, g.dir, NewHash(strings.Repeat("7", 40)), "tree", dtTree("40000", "x", blob))
	notTree := commit(strings.Repeat("8", 40), strings.Repeat("7", 40))

	r := g.open()
	for _, tc := range []struct {
		name string
		h    Hash
		says string
	}{
		{"self-reference", deep, "nested deeper than 256"},
		{"tree bomb", bomb, "visits more than"},
		{"blob as a tree", notTree, "not a tree"},
	} {
		if _, _, err := r.Changes(tc.h, 10, true); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Changes: %v, want %q", tc.name, err, tc.says)
		}
		if _, err := r.ChangedPaths(tc.h); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: ChangedPaths: %v, want %q", tc.name, err, tc.says)
		}
	}
}
