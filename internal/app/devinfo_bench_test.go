package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/devinfo"
	"github.com/jira-cicd/jira-cicd/internal/gitrepo"
	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
)

// The cost of development information beside the walk it rides on (issue
// 11: "at the default max_commits, the devinfo part adds no more than the
// walk itself costs"). The repository: 1,000 commits (the default
// max_commits) over 400 files in 20 directories, each commit changing 3
// files of 60 lines by one line, every message naming a key (the worst
// case: every commit is sent, every one's files are read and counted).
//
//	go test ./internal/app -run '^$' -bench DevinfoVsWalk -benchtime 20x
//
// Measured (linux/amd64, 2 cores, go1.26), ms per run of 1,000 commits:
//
//	walk: open + Range                                   4.6–5.0
//	devinfo-lines-all: every commit's lines counted     63–68 (160 before the
//	                   delta cache grew from 64 entries/1 MiB to 4,096/32 MiB)
//	devinfo (as run: lines for the newest 100)           35–40
//	devinfo-lines-none: file counts, Build and JSON only 26–27
//
// So with every one of 1,000 commits naming a key the devinfo part costs
// about 7× the walk, not the 1× asked for: a diff reads ~7 trees and a
// commit per commit where the walk inflates one commit, and Build plus the
// JSON of 1,000 commits alone (~10 ms) cost twice the walk. A push of a
// few commits is far below a millisecond. What would close the gap: the
// walk keeping each commit's tree hash (the Differ reads every commit
// again, 15% of its time), and diffs overlapped with the token request.

const benchCommits = 1000

func buildBenchRepo(b *testing.B) string {
	b.Helper()
	if !gittest.HasGit() {
		b.Skip("needs git")
	}
	dir := b.TempDir()
	if _, err := gittest.Git(dir, nil, "init", "-q"); err != nil {
		b.Fatal(err)
	}
	if _, err := gittest.Git(dir, nil, "symbolic-ref", "HEAD", "refs/heads/main"); err != nil {
		b.Fatal(err)
	}
	const nFiles, nLines = 400, 60
	content := func(f, rev int) string {
		var s strings.Builder
		for l := 0; l < nLines; l++ {
			if l == rev%nLines {
				fmt.Fprintf(&s, "file %d line %d rev %d\n", f, l, rev)
			} else {
				fmt.Fprintf(&s, "file %d line %d\n", f, l)
			}
		}
		return s.String()
	}
	path := func(f int) string { return fmt.Sprintf("dir%02d/sub/file%03d.go", f%20, f) }
	var stream bytes.Buffer
	ts := gittest.Base.Unix()
	for i := 0; i < benchCommits+1; i++ {
		msg := fmt.Sprintf("ABC-%d: change %d\n", i+1, i)
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\n", i+1)
		fmt.Fprintf(&stream, "author A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n", ts+int64(i)*60, ts+int64(i)*60)
		fmt.Fprintf(&stream, "data %d\n%s", len(msg), msg)
		files := []int{(i * 7) % nFiles, (i*13 + 1) % nFiles, (i*31 + 2) % nFiles}
		if i == 0 {
			files = files[:0]
			for f := 0; f < nFiles; f++ {
				files = append(files, f)
			}
		}
		for _, f := range files {
			c := content(f, i)
			fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", path(f), len(c), c)
		}
	}
	fmt.Fprintf(&stream, "reset refs/tags/base\nfrom :1\n\n")
	if _, err := gittest.Git(dir, stream.Bytes(), "fast-import", "--quiet"); err != nil {
		b.Fatal(err)
	}
	if _, err := gittest.Git(dir, nil, "repack", "-a", "-d", "-f", "-q"); err != nil {
		b.Fatal(err)
	}
	return dir
}

func BenchmarkDevinfoVsWalk(b *testing.B) {
	dir := buildBenchRepo(b)
	ctx := context.Background()
	walk := func(b *testing.B) (*gitrepo.Repo, gitrepo.RangeResult) {
		r, err := gitrepo.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		rr, err := r.Range(ctx, "base", benchCommits)
		if err != nil || len(rr.Commits) != benchCommits {
			b.Fatalf("%v: %d commits", err, len(rr.Commits))
		}
		return r, rr
	}
	b.Run("walk", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r, _ := walk(b)
			r.Close()
		}
	})
	for _, tc := range []struct {
		name  string
		lines int // commits whose lines are counted
	}{{"devinfo-lines-all", benchCommits}, {"devinfo", devinfoLineCommits}, {"devinfo-lines-none", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			r, rr := walk(b)
			defer r.Close()
			ex := issuekeys.New(nil)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d := r.NewDiffer()
				in := devinfo.Input{Repo: devinfo.Repo{WebURL: "https://github.com/acme/app"}, Keys: ex.Find, Now: time.Unix(1700000000, 0)}
				for _, cm := range rr.Commits {
					if len(ex.Find(cm.Message)) == 0 {
						continue
					}
					files, total, err := d.Changes(gitrepo.NewHash(cm.Hash), devinfoFiles, len(in.Commits) < tc.lines)
					if err != nil {
						b.Fatal(err)
					}
					c := devinfo.Commit{Hash: cm.Hash, Parents: cm.Parents, AuthorName: cm.AuthorName, AuthorEmail: cm.AuthorEmail,
						AuthorTime: cm.AuthorTime, Message: cm.Message, FileCount: total}
					for _, f := range files {
						c.Files = append(c.Files, devinfo.File{Path: f.Path, Change: f.Change, LinesAdded: f.LinesAdded, LinesRemoved: f.LinesRemoved, Counted: f.LinesKnown})
					}
					in.Commits = append(in.Commits, c)
				}
				out, err := devinfo.Build(in)
				if err != nil || out.Commits != benchCommits {
					b.Fatalf("%v: %d commits", err, out.Commits)
				}
				for _, req := range out.Requests {
					if _, err := json.Marshal(req); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
