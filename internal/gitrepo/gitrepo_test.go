package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
)

// linear returns n commits whose messages carry the key KEY-<i>.
func linear(n int) []gittest.Commit {
	cs := make([]gittest.Commit, n)
	for i := range cs {
		cs[i].Message = fmt.Sprintf("KEY-%d: commit %d\n\nbody %d\n", i, i, i)
	}
	return cs
}

func msg(i int) string { return fmt.Sprintf("KEY-%d: commit %d\n\nbody %d\n", i, i, i) }

func open(t *testing.T, dir string) *Repo {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func mustRange(t *testing.T, r *Repo, since string, max int) RangeResult {
	t.Helper()
	res, err := r.Range(context.Background(), since, max)
	if err != nil {
		t.Fatalf("Range(%q, %d): %v", since, max, err)
	}
	if len(res.Messages) != len(res.SHAs) {
		t.Fatalf("Range(%q): %d messages but %d SHAs", since, len(res.Messages), len(res.SHAs))
	}
	if len(res.Commits) != len(res.SHAs) {
		t.Fatalf("Range(%q): %d commits but %d SHAs", since, len(res.Commits), len(res.SHAs))
	}
	for i, c := range res.Commits {
		if c.Hash != res.SHAs[i] || c.Message != res.Messages[i] {
			t.Fatalf("Range(%q): commit %d is %s %q, SHAs/Messages say %s %q", since, i, c.Hash, c.Message, res.SHAs[i], res.Messages[i])
		}
	}
	return res
}

// shas picks SHAs of a built repository by index.
func shas(repo *gittest.Repo, idx ...int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = repo.SHAs[i]
	}
	return out
}

func seq(from, downTo int) []int {
	var out []int
	for i := from; i >= downTo; i-- {
		out = append(out, i)
	}
	return out
}

func checkShas(t *testing.T, what string, got []string, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got SHAs\n%v\nwant\n%v", what, got, want)
	}
}

func TestOpenFromSubdirectory(t *testing.T) {
	repo := gittest.Build(t, linear(3))
	sub := filepath.Join(repo.Dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{sub, filepath.Join(repo.Dir, "a"), repo.Dir, filepath.Join(repo.Dir, ".git")} {
		r := open(t, dir)
		h, err := r.Head()
		if err != nil {
			t.Fatalf("Head from %s: %v", dir, err)
		}
		if h.SHA != repo.SHAs[2] {
			t.Errorf("Head from %s = %s, want %s", dir, h.SHA, repo.SHAs[2])
		}
	}
	r := open(t, sub)
	if got, want := evalPath(t, r.WorkTree()), evalPath(t, repo.Dir); got != want {
		t.Errorf("WorkTree = %s, want %s", got, want)
	}
	// A file path works like its directory.
	file := filepath.Join(sub, "f.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	open(t, file)
}

func evalPath(t *testing.T, p string) string {
	t.Helper()
	e, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOpenOutsideRepository(t *testing.T) {
	dir := t.TempDir()
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), ".git")); err == nil {
		t.Skip("the temporary directory is inside a repository")
	}
	_, err := Open(dir)
	if err == nil {
		t.Fatal("Open outside a repository succeeded")
	}
	if !errors.Is(err, ErrNotRepository) || !strings.Contains(err.Error(), "not a git repository") || !strings.Contains(err.Error(), dir) {
		t.Errorf("error = %v; want ErrNotRepository naming %s", err, dir)
	}
	if _, err := Open(filepath.Join(dir, "missing")); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
}

func TestOpenGitFileAndLinkedWorktree(t *testing.T) {
	repo := gittest.Build(t, linear(5))
	gitDir := filepath.Join(repo.Dir, ".git")

	// A .git file pointing at the repository (as for submodules).
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, ".git"), []byte("gitdir: "+gitDir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := open(t, other).Head()
	if err != nil || h.SHA != repo.SHAs[4] || h.Branch != "main" {
		t.Errorf("via .git file: Head = %+v, %v", h, err)
	}

	// A linked worktree, laid out as `git worktree add --detach` does:
	// its own HEAD under .git/worktrees/wt, everything else in the
	// common directory.
	wtGit := filepath.Join(gitDir, "worktrees", "wt")
	wtDir := filepath.Join(t.TempDir(), "wt")
	for _, d := range []string{wtGit, filepath.Join(wtDir, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(wtGit, "HEAD"):      repo.SHAs[2] + "\n",
		filepath.Join(wtGit, "commondir"): "../..\n",
		filepath.Join(wtGit, "gitdir"):    filepath.Join(wtDir, ".git") + "\n",
		filepath.Join(wtDir, ".git"):      "gitdir: " + wtGit + "\n",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := open(t, filepath.Join(wtDir, "sub"))
	h, err = r.Head()
	if err != nil || h.SHA != repo.SHAs[2] || h.Branch != "" || h.Message != msg(2) {
		t.Fatalf("linked worktree: Head = %+v, %v", h, err)
	}
	res := mustRange(t, r, repo.SHAs[0], 0)
	checkShas(t, "worktree range", res.SHAs, shas(repo, 2, 1))
	if m, err := r.CommitMessage("main"); err != nil || m != msg(4) {
		t.Errorf("worktree CommitMessage(main) = %q, %v", m, err)
	}
}

func TestHead(t *testing.T) {
	cs := linear(4)
	cs[2].Tag = "v1-light"
	cs[2].AnnotatedTag = "v1.0.0"
	cs[3].Message = "KEY-3: tip\n"
	repo := gittest.Build(t, cs)

	t.Run("branch", func(t *testing.T) {
		h, err := open(t, repo.Dir).Head()
		if err != nil {
			t.Fatal(err)
		}
		want := Head{SHA: repo.SHAs[3], Branch: "main", Message: "KEY-3: tip\n", Time: gittest.Base.Add(3 * time.Minute)}
		if h.SHA != want.SHA || h.Branch != want.Branch || h.Tag != "" || h.Message != want.Message || !h.Time.Equal(want.Time) {
			t.Errorf("Head = %+v, want %+v", h, want)
		}
	})
	t.Run("detached", func(t *testing.T) {
		repo.SetHead(t, repo.SHAs[1])
		defer repo.SetHead(t, "refs/heads/main")
		h, err := open(t, repo.Dir).Head()
		if err != nil {
			t.Fatal(err)
		}
		if h.SHA != repo.SHAs[1] || h.Branch != "" || h.Tag != "" || h.Message != msg(1) {
			t.Errorf("Head = %+v", h)
		}
	})
	t.Run("on tag", func(t *testing.T) {
		repo.SetHead(t, repo.SHAs[2])
		defer repo.SetHead(t, "refs/heads/main")
		h, err := open(t, repo.Dir).Head()
		if err != nil {
			t.Fatal(err)
		}
		// Both tags point at HEAD; the annotated one is preferred.
		if h.SHA != repo.SHAs[2] || h.Branch != "" || h.Tag != "v1.0.0" {
			t.Errorf("Head = %+v", h)
		}
	})
	t.Run("other branch", func(t *testing.T) {
		repo.SetRef(t, "refs/heads/feature/x", repo.SHAs[0])
		repo.SetHead(t, "refs/heads/feature/x")
		defer repo.SetHead(t, "refs/heads/main")
		h, err := open(t, repo.Dir).Head()
		if err != nil || h.Branch != "feature/x" || h.SHA != repo.SHAs[0] {
			t.Errorf("Head = %+v, %v", h, err)
		}
	})
	t.Run("unborn", func(t *testing.T) {
		repo.SetHead(t, "refs/heads/nothing-yet")
		defer repo.SetHead(t, "refs/heads/main")
		r := open(t, repo.Dir)
		if _, err := r.Head(); err == nil || !strings.Contains(err.Error(), "no commits") {
			t.Errorf("Head on an unborn branch: %v", err)
		}
		if _, err := r.Range(context.Background(), "", 0); err == nil {
			t.Error("Range on an unborn branch succeeded")
		}
	})
}

func TestCommitMessage(t *testing.T) {
	cs := linear(5)
	cs[1].AnnotatedTag = "v0.1.0"
	cs[2].Tag = "light"
	cs[3].Branch = "topic"
	repo := gittest.Build(t, cs)
	r := open(t, repo.Dir)
	for rev, want := range map[string]string{
		repo.SHAs[0]:                       msg(0),
		repo.SHAs[0][:7]:                   msg(0),
		strings.ToUpper(repo.SHAs[3][:10]): msg(3),
		"HEAD":                             msg(4),
		"@":                                msg(4),
		"HEAD~2":                           msg(2),
		"main":                             msg(4),
		"refs/heads/main":                  msg(4),
		"topic":                            msg(3),
		"v0.1.0":                           msg(1),
		"refs/tags/v0.1.0":                 msg(1),
		repo.TagSHAs["v0.1.0"]:             msg(1), // the tag object itself
		"light":                            msg(2),
		"light^":                           msg(1),
	} {
		got, err := r.CommitMessage(rev)
		if err != nil || got != want {
			t.Errorf("CommitMessage(%q) = %q, %v; want %q", rev, got, err, want)
		}
	}
	for _, rev := range []string{"", "nope", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", "abc"} {
		if got, err := r.CommitMessage(rev); err == nil {
			t.Errorf("CommitMessage(%q) = %q, want an error", rev, got)
		}
	}
}

func TestOriginURL(t *testing.T) {
	repo := gittest.Build(t, linear(1))
	if got := open(t, repo.Dir).OriginURL(); got != "" {
		t.Errorf("OriginURL without remotes = %q", got)
	}
	repo.SetRemote(t, "upstream", "https://example.com/up.git")
	repo.SetRemote(t, "origin", "https://gitlab-ci-token:secret@gitlab.example.com/g/p.git", "https://mirror.example.com/p.git")
	if got, want := open(t, repo.Dir).OriginURL(), "https://gitlab.example.com/g/p.git"; got != want {
		t.Errorf("OriginURL = %q, want %q", got, want)
	}

	ssh := gittest.Build(t, linear(1))
	ssh.SetRemote(t, "origin", "git@github.com:acme/widgets.git")
	if got, want := open(t, ssh.Dir).OriginURL(), "git@github.com:acme/widgets.git"; got != want {
		t.Errorf("OriginURL = %q, want %q", got, want)
	}
}

func TestRangeLinear(t *testing.T) {
	cs := linear(30)
	cs[9].Tag = "light"
	cs[9].AnnotatedTag = "v1.0.0"
	cs[9].Branch = "release"
	repo := gittest.Build(t, cs)
	r := open(t, repo.Dir)
	want20 := shas(repo, seq(29, 10)...)

	for _, since := range []string{repo.SHAs[9], repo.SHAs[9][:7], repo.SHAs[9][:12], "light", "v1.0.0", "refs/tags/v1.0.0", "release", "refs/heads/release", "HEAD~20", repo.TagSHAs["v1.0.0"]} {
		res := mustRange(t, r, since, 0)
		checkShas(t, "since "+since, res.SHAs, want20)
		if len(res.Messages) != 20 || res.Messages[0] != msg(29) || res.Messages[19] != msg(10) {
			t.Errorf("since %s: messages %q…", since, res.Messages)
		}
		if res.Since != repo.SHAs[9] || res.Warning != "" || res.Capped {
			t.Errorf("since %s: Since %q, Warning %q, Capped %v", since, res.Since, res.Warning, res.Capped)
		}
		if res.Scanned < 21 || res.Scanned > 30 {
			t.Errorf("since %s: Scanned %d", since, res.Scanned)
		}
	}

	// The whole history from the root.
	res := mustRange(t, r, repo.SHAs[0], 0)
	checkShas(t, "since root", res.SHAs, shas(repo, seq(29, 1)...))

	// No since: HEAD alone.
	for _, since := range []string{"", "  ", ZeroSHA} {
		res := mustRange(t, r, since, 0)
		checkShas(t, fmt.Sprintf("since %q", since), res.SHAs, shas(repo, 29))
		if res.Messages[0] != msg(29) || res.Since != "" || res.Warning != "" || res.Capped {
			t.Errorf("since %q: %+v", since, res)
		}
	}
}

func TestRangeSinceProblems(t *testing.T) {
	cs := linear(6)
	// A side branch off commit 2 that HEAD never merged.
	cs = append(cs, gittest.Commit{Message: "SIDE-1: side\n", Parents: []int{2}, Branch: "side"})
	repo := gittest.Build(t, cs)
	r := open(t, repo.Dir)

	t.Run("unknown sha", func(t *testing.T) {
		res := mustRange(t, r, "0123456789abcdef0123456789abcdef01234567", 0)
		checkShas(t, "unknown", res.SHAs, shas(repo, 5))
		if res.Messages[0] != msg(5) || !strings.Contains(res.Warning, "not found") {
			t.Errorf("%+v", res)
		}
	})
	t.Run("unknown ref", func(t *testing.T) {
		res := mustRange(t, r, "v9.9.9", 0)
		checkShas(t, "unknown ref", res.SHAs, shas(repo, 5))
		if !strings.Contains(res.Warning, "v9.9.9") {
			t.Errorf("%+v", res)
		}
	})
	t.Run("since is HEAD", func(t *testing.T) {
		res := mustRange(t, r, "main", 0)
		checkShas(t, "since HEAD", res.SHAs, shas(repo, 5))
		if res.Since != repo.SHAs[5] || res.Warning == "" {
			t.Errorf("%+v", res)
		}
	})
	t.Run("diverged", func(t *testing.T) {
		// git log side..main lists 5, 4, 3: since is not an ancestor.
		res := mustRange(t, r, "side", 0)
		checkShas(t, "diverged", res.SHAs, shas(repo, 5, 4, 3))
		if !strings.Contains(res.Warning, "not an ancestor") {
			t.Errorf("warning %q", res.Warning)
		}
	})
	t.Run("HEAD behind since", func(t *testing.T) {
		repo.SetHead(t, repo.SHAs[3])
		defer repo.SetHead(t, "refs/heads/main")
		r := open(t, repo.Dir)
		res := mustRange(t, r, "main", 0)
		checkShas(t, "behind", res.SHAs, shas(repo, 3))
		if res.Messages[0] != msg(3) || !strings.Contains(res.Warning, "not an ancestor") {
			t.Errorf("%+v", res)
		}
	})
}

func TestRangeMerges(t *testing.T) {
	//   0 - 1 - 2 ----------- 5 - 6     main
	//        \               /
	//         3 ----------- 4           feature
	repo := gittest.Build(t, []gittest.Commit{
		{Message: "A-0\n"},
		{Message: "A-1\n"},
		{Message: "A-2\n"},
		{Message: "F-3\n", Parents: []int{1}, Branch: "feature"},
		{Message: "F-4\n", Branch: "feature"},
		{Message: "Merge F-4\n", Parents: []int{2, 4}},
		{Message: "A-6\n"},
	})
	r := open(t, repo.Dir)
	for _, tc := range []struct {
		since string
		want  []int
	}{
		{repo.SHAs[1], []int{6, 5, 4, 3, 2}},
		{repo.SHAs[0], []int{6, 5, 4, 3, 2, 1}},
		{"feature", []int{6, 5, 2}},
		{repo.SHAs[3], []int{6, 5, 4, 2}},
		{repo.SHAs[2], []int{6, 5, 4, 3}},
		{repo.SHAs[5], []int{6}},
	} {
		res := mustRange(t, r, tc.since, 0)
		checkShas(t, "since "+tc.since, res.SHAs, shas(repo, tc.want...))
		if res.Warning != "" {
			t.Errorf("since %s: warning %q", tc.since, res.Warning)
		}
	}
	// The merge's second parent's side is walked with HEAD on the merge.
	repo.SetHead(t, repo.SHAs[5])
	defer repo.SetHead(t, "refs/heads/main")
	res := mustRange(t, open(t, repo.Dir), repo.SHAs[1], 0)
	checkShas(t, "HEAD on merge", res.SHAs, shas(repo, 5, 4, 3, 2))
}

func TestRangeCap(t *testing.T) {
	repo := gittest.Build(t, linear(40))
	r := open(t, repo.Dir)
	res := mustRange(t, r, repo.SHAs[0], 5)
	checkShas(t, "max 5", res.SHAs, shas(repo, 39, 38, 37, 36, 35))
	if !res.Capped || res.Warning != "" {
		t.Errorf("max 5: %+v", res)
	}
	if res.Scanned > 5+1+2*slop+1 {
		t.Errorf("max 5: scanned %d commits, the walk did not stop early", res.Scanned)
	}
	// A range of exactly max commits is not capped.
	res = mustRange(t, r, repo.SHAs[34], 5)
	checkShas(t, "range of 5, max 5", res.SHAs, shas(repo, 39, 38, 37, 36, 35))
	if res.Capped {
		t.Errorf("range of 5, max 5: Capped")
	}
	res = mustRange(t, r, repo.SHAs[0], 1)
	checkShas(t, "max 1", res.SHAs, shas(repo, 39))
	if !res.Capped {
		t.Errorf("max 1 not capped")
	}
	// Merges and equal commit times: the cap must not cut the walk
	// before the since side has painted what it reaches.
	same := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	cs := linear(12)
	for i := range cs {
		cs[i].When = same
	}
	repo2 := gittest.Build(t, cs)
	res = mustRange(t, open(t, repo2.Dir), repo2.SHAs[8], 2)
	checkShas(t, "equal times", res.SHAs, shas(repo2, 11, 10))
	if !res.Capped {
		t.Error("equal times: not capped")
	}
}

func TestRangeShallow(t *testing.T) {
	full := gittest.Build(t, linear(10))
	shallow := full.Shallow(t, 3) // commits 9, 8, 7; 7 is the boundary
	r := open(t, shallow.Dir)
	if !r.IsShallow() {
		t.Fatal("IsShallow = false")
	}

	// since is older than the boundary: not in the clone.
	res := mustRange(t, r, full.SHAs[2], 0)
	checkShas(t, "beyond boundary", res.SHAs, shas(full, 9, 8, 7))
	for _, want := range []string{"shallow", "fetch-depth: 0"} {
		if !strings.Contains(res.Warning, want) {
			t.Errorf("warning %q does not mention %q", res.Warning, want)
		}
	}
	// The cap still applies.
	res = mustRange(t, r, full.SHAs[2], 1)
	checkShas(t, "beyond boundary, max 1", res.SHAs, shas(full, 9))

	// since inside the fetched history: a normal range.
	res = mustRange(t, r, full.SHAs[7], 0)
	checkShas(t, "inside", res.SHAs, shas(full, 9, 8))
	if res.Warning != "" {
		t.Errorf("inside: warning %q", res.Warning)
	}

	// since present but on a branch whose history the clone cut: the
	// walk from HEAD reaches the boundary without meeting it.
	side := gittest.Build(t, append(linear(6), gittest.Commit{Message: "SIDE-1\n", Parents: []int{1}, Branch: "side"}))
	sh := side.Shallow(t, 2)
	// Bring the side commit in, as a fetch of that branch would.
	sh.CopyCommit(t, side, side.SHAs[6])
	sh.SetRef(t, "refs/heads/side", side.SHAs[6])
	res = mustRange(t, open(t, sh.Dir), "side", 0)
	checkShas(t, "side", res.SHAs, shas(side, 5, 4))
	if !strings.Contains(res.Warning, "shallow") || !strings.Contains(res.Warning, "fetch-depth: 0") {
		t.Errorf("side: warning %q", res.Warning)
	}

	// HEAD alone in a depth-1 clone with no since.
	one := full.Shallow(t, 1)
	res = mustRange(t, open(t, one.Dir), "", 0)
	checkShas(t, "depth 1", res.SHAs, shas(full, 9))
	if res.Warning != "" {
		t.Errorf("depth 1 without since: warning %q", res.Warning)
	}
	res = mustRange(t, open(t, one.Dir), full.SHAs[5], 0)
	checkShas(t, "depth 1, since", res.SHAs, shas(full, 9))
	if !strings.Contains(res.Warning, "fetch-depth: 0") {
		t.Errorf("depth 1 with since: warning %q", res.Warning)
	}
	if tag, err := open(t, one.Dir).LastTag(context.Background()); err != nil || tag != "" {
		t.Errorf("LastTag in a depth-1 clone = %q, %v", tag, err)
	}
}

func TestLastTag(t *testing.T) {
	build := func(mod func(cs []gittest.Commit)) *Repo {
		cs := linear(10)
		mod(cs)
		return open(t, gittest.Build(t, cs).Dir)
	}
	for _, tc := range []struct {
		name string
		mod  func(cs []gittest.Commit)
		want string
	}{
		{"none", func(cs []gittest.Commit) {}, ""},
		{"lightweight", func(cs []gittest.Commit) { cs[4].Tag = "v0.4" }, "v0.4"},
		{"annotated", func(cs []gittest.Commit) { cs[4].AnnotatedTag = "v0.4.0" }, "v0.4.0"},
		{"nearest wins", func(cs []gittest.Commit) { cs[2].AnnotatedTag = "v0.2.0"; cs[6].Tag = "v0.6" }, "v0.6"},
		{"HEAD tagged is skipped", func(cs []gittest.Commit) { cs[9].AnnotatedTag = "v1.0.0"; cs[5].AnnotatedTag = "v0.9.0" }, "v0.9.0"},
		{"only HEAD tagged", func(cs []gittest.Commit) { cs[9].Tag = "v1.0.0" }, ""},
		{"parent tagged", func(cs []gittest.Commit) { cs[8].Tag = "v0.8" }, "v0.8"},
		{"annotated preferred on one commit", func(cs []gittest.Commit) { cs[3].Tag = "a-light"; cs[3].AnnotatedTag = "z-annotated" }, "z-annotated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := build(tc.mod).LastTag(context.Background())
			if err != nil || got != tc.want {
				t.Errorf("LastTag = %q, %v; want %q", got, err, tc.want)
			}
		})
	}

	t.Run("merge", func(t *testing.T) {
		// The tag on the merged side branch is newer than the one on main.
		repo := gittest.Build(t, []gittest.Commit{
			{Message: "0\n", Tag: "v1"},
			{Message: "1\n"},
			{Message: "2\n", Parents: []int{0}, Branch: "f", Tag: "f-tag"},
			{Message: "3\n", Parents: []int{1, 2}},
			{Message: "4\n"},
		})
		got, err := open(t, repo.Dir).LastTag(context.Background())
		if err != nil || got != "f-tag" {
			t.Errorf("LastTag = %q, %v", got, err)
		}
	})
	t.Run("root commit", func(t *testing.T) {
		got, err := open(t, gittest.Build(t, []gittest.Commit{{Message: "0\n", Tag: "v1"}}).Dir).LastTag(context.Background())
		if err != nil || got != "" {
			t.Errorf("LastTag = %q, %v", got, err)
		}
	})
	t.Run("used as since", func(t *testing.T) {
		cs := linear(10)
		cs[6].AnnotatedTag = "v0.6.0"
		cs[9].AnnotatedTag = "v0.9.0"
		repo := gittest.Build(t, cs)
		r := open(t, repo.Dir)
		tag, err := r.LastTag(context.Background())
		if err != nil || tag != "v0.6.0" {
			t.Fatalf("LastTag = %q, %v", tag, err)
		}
		res := mustRange(t, r, tag, 0)
		checkShas(t, "since last tag", res.SHAs, shas(repo, 9, 8, 7))
	})
}

// TestPackedObjects reads the same history from loose objects and from a
// pack made by go-git, which tests run without a git binary.
func TestPackedObjects(t *testing.T) {
	cs := linear(25)
	cs[3].AnnotatedTag = "v0.3.0"
	cs = append(cs, gittest.Commit{Message: "SIDE\n", Parents: []int{10}, Branch: "side"},
		gittest.Commit{Message: "Merge\n", Parents: []int{24, 25}})
	repo := gittest.Build(t, cs)
	loose := rangeSnapshot(t, repo.Dir, looseSinces)
	repo.Pack(t)
	if entries, _ := filepath.Glob(filepath.Join(repo.Dir, ".git", "objects", "pack", "*.pack")); len(entries) != 1 {
		t.Fatalf("packs: %v", entries)
	}
	r := open(t, repo.Dir)
	if len(r.db.packs) != 1 {
		t.Fatalf("the reader sees %d packs", len(r.db.packs))
	}
	diffSnapshots(t, rangeSnapshot(t, repo.Dir, looseSinces), loose)
}

var looseSinces = []string{"", "v0.3.0", "side", "HEAD~3", "HEAD~20"}

// rangeSnapshot records what the API says about a repository: HEAD, the last
// tag, and the range since each of sinces, whole and capped at each of maxes.
func rangeSnapshot(t *testing.T, dir string, sinces []string, maxes ...int) []string {
	t.Helper()
	r := open(t, dir)
	var out []string
	h, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, fmt.Sprintf("head %+v", h))
	tag, err := r.LastTag(context.Background())
	out = append(out, fmt.Sprintf("lasttag %q %v", tag, err))
	for _, since := range sinces {
		res, err := r.Range(context.Background(), since, 0)
		out = append(out, fmt.Sprintf("range %q: %v %q %v %v %q", since, res.SHAs, res.Messages, res.Capped, err, res.Warning))
		for _, max := range maxes {
			res, err = r.Range(context.Background(), since, max)
			out = append(out, fmt.Sprintf("range %q max %d: %v %v %v %q", since, max, res.SHAs, res.Capped, err, res.Warning))
		}
	}
	return out
}

// TestCorruptPackDoesNotPanic flips bytes of a pack and its index: the
// reader must report errors or warnings, never crash.
func TestCorruptPackDoesNotPanic(t *testing.T) {
	cs := linear(15)
	cs[5].AnnotatedTag = "v1"
	repo := gittest.Build(t, cs)
	repo.Pack(t)
	packs, _ := filepath.Glob(filepath.Join(repo.Dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	idx := strings.TrimSuffix(packs[0], ".pack") + ".idx"
	origPack, err := os.ReadFile(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	origIdx, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	for k := 0; k < 60; k++ {
		p := append([]byte(nil), origPack...)
		x := append([]byte(nil), origIdx...)
		switch k % 3 {
		case 0:
			for j := 0; j < 1+rng.Intn(8); j++ {
				p[12+rng.Intn(len(p)-12)] ^= byte(1 + rng.Intn(255))
			}
		case 1:
			for j := 0; j < 1+rng.Intn(4); j++ {
				x[rng.Intn(len(x))] ^= byte(1 + rng.Intn(255))
			}
		case 2:
			p = p[:12+rng.Intn(len(p)-12)]
		}
		for f, b := range map[string][]byte{packs[0]: p, idx: x} {
			os.Chmod(f, 0o644)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("case %d: panic: %v\n%s", k, v, debug.Stack())
				}
			}()
			r, err := Open(repo.Dir)
			if err != nil {
				return
			}
			defer r.Close()
			r.Head()
			r.LastTag(context.Background())
			r.Range(context.Background(), repo.SHAs[1], 0)
			r.Range(context.Background(), "v1", 3)
			r.CommitMessage(repo.SHAs[3][:6])
		}()
	}
}
