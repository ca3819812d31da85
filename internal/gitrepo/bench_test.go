package gitrepo

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
)

// benchRange is the size of the benchmarked range: the repository has one
// more commit, the root, tagged gittest.LinearBaseTag, so that
// base..HEAD holds exactly benchRange commits.
const benchRange = 10000

// bigRepo is built once per test binary run and removed by TestMain.
var bigRepo struct {
	once sync.Once
	root string
	dir  string
	err  error

	graphOnce sync.Once
	graphDir  string // a copy with a commit-graph file
	graphErr  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigRepo.root != "" {
		os.RemoveAll(bigRepo.root)
	}
	os.Exit(code)
}

// benchRepo returns the 10,001-commit repository, building it on first use.
// The benchmarks compare against the git CLI, so they skip without it.
func benchRepo(b *testing.B) string {
	b.Helper()
	if !gittest.HasGit() {
		b.Skip("git is not on PATH: the baseline needs it")
	}
	bigRepo.once.Do(func() {
		bigRepo.root, bigRepo.err = os.MkdirTemp("", "gitrepo-bench-")
		if bigRepo.err != nil {
			return
		}
		bigRepo.dir = filepath.Join(bigRepo.root, "repo")
		bigRepo.err = gittest.BuildLinearRepo(bigRepo.dir, benchRange+1)
	})
	if bigRepo.err != nil {
		b.Fatalf("build benchmark repository: %v", bigRepo.err)
	}
	return bigRepo.dir
}

// benchGraphRepo is benchRepo's repository with a commit-graph written.
func benchGraphRepo(b *testing.B) string {
	dir := benchRepo(b)
	bigRepo.graphOnce.Do(func() {
		bigRepo.graphDir = filepath.Join(bigRepo.root, "graph")
		if _, bigRepo.graphErr = gittest.Git(bigRepo.root, nil, "clone", "-q", "--bare", "--no-local", dir, bigRepo.graphDir); bigRepo.graphErr != nil {
			return
		}
		_, bigRepo.graphErr = gittest.Git(bigRepo.graphDir, nil, "commit-graph", "write", "--reachable")
	})
	if bigRepo.graphErr != nil {
		b.Fatalf("build commit-graph repository: %v", bigRepo.graphErr)
	}
	return bigRepo.graphDir
}

// countKeys counts the matches of [A-Z][A-Z0-9_]+-[0-9]+ the way grep -oE
// prints them (leftmost-longest, not overlapping), standing in for the
// project's key extractor so that both sides do the same work.
func countKeys(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 'A' || c > 'Z' {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] == '_') {
			j++
		}
		if j-i >= 2 && j+1 < len(s) && s[j] == '-' && s[j+1] >= '0' && s[j+1] <= '9' {
			k := j + 2
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			n++
			i = k
			continue
		}
		i = j
	}
	return n
}

// rangeKeys is what the CLI does: open the repository, walk the range,
// extract the keys.
func rangeKeys(tb testing.TB, dir, since string, max int) (RangeResult, int) {
	r, err := Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	res, err := r.Range(context.Background(), since, max)
	if err != nil {
		tb.Fatal(err)
	}
	keys := 0
	for _, m := range res.Messages {
		keys += countKeys(m)
	}
	return res, keys
}

// BenchmarkRange10000 walks a 10,000-commit range (open + Range + key
// extraction, what the CLI does) and reports, next to its own ns/op:
//
//   - git-ns/op: the time of
//     git log --format=%B base..HEAD | grep -oE '[A-Z][A-Z0-9_]+-[0-9]+'
//     on the same repository;
//   - x-git: our time over git's (the target is at most 3).
//
// Both are the best of ratioRounds rounds that alternate one git run and
// one of ours, so that load from other processes hits both sides alike.
func BenchmarkRange10000(b *testing.B) {
	dir := benchRepo(b)
	want := benchRange * gittest.LinearKeysPerCommit
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, keys := rangeKeys(b, dir, gittest.LinearBaseTag, 0)
		if keys != want || len(res.Messages) != benchRange || res.Warning != "" {
			b.Fatalf("got %d keys in %d messages (warning %q), want %d in %d", keys, len(res.Messages), res.Warning, want, benchRange)
		}
	}
	b.StopTimer()
	gitTime, ours, err := gittest.CompareWithGit(dir, gittest.LinearBaseTag, ratioRounds, func() (int, error) {
		_, keys := rangeKeys(b, dir, gittest.LinearBaseTag, 0)
		return keys, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(gitTime.Nanoseconds()), "git-ns/op")
	b.ReportMetric(float64(ours.Nanoseconds())/float64(gitTime.Nanoseconds()), "x-git")
}

const ratioRounds = 5

// BenchmarkGitLogGrep10000 is the baseline alone, with b.N runs.
func BenchmarkGitLogGrep10000(b *testing.B) {
	dir := benchRepo(b)
	for i := 0; i < b.N; i++ {
		n, err := gittest.GitLogGrep(dir, gittest.LinearBaseTag)
		if err != nil || n != benchRange*gittest.LinearKeysPerCommit {
			b.Fatalf("got %d keys, %v", n, err)
		}
	}
}

// BenchmarkGoGitLog10000 is the straightforward go-git walk (PlainOpen +
// repo.Log until the base commit), for comparison.
func BenchmarkGoGitLog10000(b *testing.B) {
	dir := benchRepo(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		repo, err := git.PlainOpen(dir)
		if err != nil {
			b.Fatal(err)
		}
		base, err := repo.ResolveRevision(gittest.LinearBaseTag)
		if err != nil {
			b.Fatal(err)
		}
		head, err := repo.Head()
		if err != nil {
			b.Fatal(err)
		}
		iter, err := repo.Log(&git.LogOptions{From: head.Hash()})
		if err != nil {
			b.Fatal(err)
		}
		keys := 0
		err = iter.ForEach(func(c *object.Commit) error {
			if c.Hash == *base {
				return io.EOF
			}
			keys += countKeys(c.Message)
			return nil
		})
		if err != nil && err != io.EOF {
			b.Fatal(err)
		}
		if keys != benchRange*gittest.LinearKeysPerCommit {
			b.Fatalf("got %d keys", keys)
		}
	}
}

// BenchmarkRangeCapped100 asks for 100 commits of the same 10,000-commit
// range: the walk stops early instead of reading the whole range.
func BenchmarkRangeCapped100(b *testing.B) {
	dir := benchRepo(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		res, _ := rangeKeys(b, dir, gittest.LinearBaseTag, 100)
		if len(res.Messages) != 100 || !res.Capped {
			b.Fatalf("got %d messages, capped %v", len(res.Messages), res.Capped)
		}
	}
}

// BenchmarkRange10000CommitGraph is BenchmarkRange10000 on a clone that has
// a commit-graph (the walk takes parents and times from it and inflates
// only the listed commits).
func BenchmarkRange10000CommitGraph(b *testing.B) {
	dir := benchGraphRepo(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		res, keys := rangeKeys(b, dir, gittest.LinearBaseTag, 0)
		if keys != benchRange*gittest.LinearKeysPerCommit || len(res.Messages) != benchRange {
			b.Fatalf("got %d keys in %d messages", keys, len(res.Messages))
		}
	}
}

// BenchmarkLastTag10000 finds the root's tag from the tip: a walk of the
// whole history that needs no messages.
func BenchmarkLastTag10000(b *testing.B) {
	for _, bc := range []struct {
		name string
		dir  func(*testing.B) string
	}{{"pack", benchRepo}, {"commit-graph", benchGraphRepo}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := bc.dir(b)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				tag, err := r.LastTag(context.Background())
				r.Close()
				if err != nil || tag != gittest.LinearBaseTag {
					b.Fatalf("LastTag = %q, %v", tag, err)
				}
			}
		})
	}
}
