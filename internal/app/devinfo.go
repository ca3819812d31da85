package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jira-cicd/jira-cicd/internal/cienv"
	"github.com/jira-cicd/jira-cicd/internal/devinfo"
	"github.com/jira-cicd/jira-cicd/internal/gitrepo"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
	"github.com/jira-cicd/jira-cicd/internal/record"
	"github.com/jira-cicd/jira-cicd/internal/settings"
)

// Development information (issue 11): the scanned commits that name keys,
// the branch and the pull request, gathered from the CI context and the
// workspace's repository, built by internal/devinfo.

// devinfoFiles is how many files of a commit are listed (Jira's maximum);
// all of them are counted.
const devinfoFiles = devinfo.MaxFiles

// devinfoLineCommits is how many key-naming commits (the newest) list their
// files with line counts ("where cheap"): counting reads both sides of each
// file, about twice a diff's cost (BenchmarkDevinfoVsWalk). Older commits
// of a long range are sent with their file count only.
const devinfoLineCommits = 100

// devinfoRepo is the repository and forge the development information is
// about: repository_url or the CI's web URL; the forge setting, else
// inferred from the CI and that URL.
func devinfoRepo(s *settings.Settings, c cienv.Context) (devinfo.Repo, devinfo.Forge, error) {
	repo := devinfo.Repo{WebURL: c.RepoURL, Name: c.RepoName}
	if s.RepositoryURL != "" {
		repo = devinfo.Repo{WebURL: s.RepositoryURL}
	}
	if strings.TrimSpace(repo.WebURL) == "" {
		return repo, "", &settings.Error{Setting: "repository_url", Msg: fmt.Sprintf("%s gives no web URL of the repository, which development information links to: set repository_url, such as https://git.example.com/team/app", c.Name)}
	}
	forge := devinfo.Forge(s.Forge)
	if forge == "" && s.RepositoryURL != "" {
		// A URL given by hand says more than the CI it runs on.
		forge = devinfo.InferForge("", repo.WebURL)
	}
	if forge == "" {
		forge = devinfo.InferForge(ciForgeHint(c), repo.WebURL)
	}
	if forge == "" {
		return repo, "", &settings.Error{Setting: "forge", Msg: fmt.Sprintf("cannot tell which forge the repository is on from %s or its URL; set forge to github, gitlab, gitea, bitbucket or bitbucket_dc", c.Name)}
	}
	return repo, forge, nil
}

// ciForgeHint is what the CI says about the forge: its own forge variable
// (Woodpecker), or the CI itself where it is bound to one.
func ciForgeHint(c cienv.Context) string {
	if c.Forge != "" {
		return c.Forge
	}
	switch c.CI {
	case cienv.CIGitHub, cienv.CIGitLab, cienv.CIBitbucket:
		return c.CI
	}
	return ""
}

// devinfoInput gathers what Build needs. It reads the changed files of the
// key-naming commits only, with the run's one Differ.
func (r *run) devinfoInput(ctx context.Context) (devinfo.Input, error) {
	s, c, w := r.s, r.c, r.git
	repo, forge, err := devinfoRepo(s, c)
	if err != nil {
		return devinfo.Input{}, err
	}
	ex := issuekeys.New(s.ProjectKeys)
	// The branch's name is read as the record reads it: with project_keys,
	// lower-case keys count there (feature/abc-12 -> ABC-12).
	keys := func(text string) []string {
		if c.Branch != "" && text == c.Branch {
			return ex.FindBranch(text)
		}
		return ex.Find(text)
	}
	in := devinfo.Input{Repo: repo, Forge: forge, Keys: keys, Now: r.env.Now(), Product: r.product()}

	commits := w.scan.Commits
	var prCommits []gitrepo.Commit
	if c.PRNumber != "" && w.repo != nil {
		prCommits = r.pullRequestCommits(ctx)
		if len(s.Paths) > 0 {
			prCommits, _ = keepPaths(s.Paths, w, prCommits)
		}
		// A pull request's own commits are commits of its branch too.
		commits = append(slices.Clip(commits), prCommits...)
	}
	seen := make(map[string]bool, len(commits))
	for _, cm := range commits {
		if seen[cm.Hash] || len(ex.Find(cm.Message)) == 0 {
			continue // Build leaves it out: do not read its files
		}
		seen[cm.Hash] = true
		in.Commits = append(in.Commits, r.devinfoCommit(cm))
	}

	if c.Branch != "" && record.BranchNamesKeys(s, c.Branch) {
		if head, ok := r.branchHead(commits); ok {
			in.Branch = &devinfo.Branch{Name: c.Branch, Head: head}
		}
	}
	if c.PRNumber != "" {
		n, err := strconv.ParseInt(c.PRNumber, 10, 64)
		if err == nil && n > 0 {
			pr := &devinfo.PullRequest{
				Number: n, Title: c.PRTitle, State: c.PRState,
				Author:            devinfo.Person{Name: cmp.Or(c.PRAuthorName, c.PRAuthor)},
				SourceBranch:      c.Branch,
				DestinationBranch: c.PRTargetBranch,
				CommentCount:      c.PRCommentCount,
				LastUpdate:        c.PRUpdated,
			}
			for _, login := range c.PRReviewers {
				pr.Reviewers = append(pr.Reviewers, devinfo.Reviewer{Person: devinfo.Person{Name: login}})
			}
			for _, cm := range prCommits {
				pr.CommitMessages = append(pr.CommitMessages, cm.Message)
			}
			in.PullRequest = pr
		}
	}
	return in, nil
}

// devinfoCommit reads a commit's changed files: all counted, the first ten
// (by path) listed with their lines. A commit whose parent is not in the
// clone (a shallow clone's first) is sent without files.
func (r *run) devinfoCommit(cm gitrepo.Commit) devinfo.Commit {
	if d, ok := r.devCommits[cm.Hash]; ok {
		return d
	}
	d := r.readDevinfoCommit(cm)
	if r.devCommits == nil {
		r.devCommits = map[string]devinfo.Commit{}
	}
	r.devCommits[cm.Hash] = d
	return d
}

func (r *run) readDevinfoCommit(cm gitrepo.Commit) devinfo.Commit {
	out := devinfo.Commit{Hash: cm.Hash, Parents: cm.Parents, AuthorName: cm.AuthorName,
		AuthorEmail: cm.AuthorEmail, AuthorTime: cm.AuthorTime, Message: cm.Message}
	if r.git.repo == nil {
		return out
	}
	countLines := r.linesCounted < devinfoLineCommits
	if countLines {
		r.linesCounted++
	}
	files, total, err := r.git.differ().Changes(gitrepo.NewHash(cm.Hash), devinfoFiles, countLines)
	if err != nil {
		if !errors.Is(err, gitrepo.ErrParentNotInClone) {
			r.rep.Debugf("development information: the files of commit %s could not be read: %v", shortSHA(cm.Hash), err)
		}
		return out
	}
	out.FileCount = total
	for _, f := range files {
		out.Files = append(out.Files, devinfo.File{Path: f.Path, Change: f.Change,
			LinesAdded: f.LinesAdded, LinesRemoved: f.LinesRemoved, Counted: f.LinesKnown})
	}
	return out
}

// branchHead is the branch's head commit: the pull request's head on a
// pull request run (not the merge commit the CI may have checked out),
// else the commit built, else HEAD.
func (r *run) branchHead(scanned []gitrepo.Commit) (devinfo.Commit, bool) {
	c := r.c
	sha := c.SHA
	if c.PRNumber != "" && c.PRHeadSHA != "" {
		sha = c.PRHeadSHA
	}
	for _, cm := range scanned {
		if sha != "" && strings.EqualFold(cm.Hash, sha) {
			return r.devinfoCommit(cm), true
		}
	}
	if r.git.repo == nil {
		return devinfo.Commit{}, false
	}
	cm, err := r.git.repo.Commit(cmp.Or(sha, "HEAD"))
	if err != nil {
		r.rep.Debugf("development information: the branch head %s could not be read: %v", shortSHA(sha), err)
		return devinfo.Commit{}, false
	}
	return r.devinfoCommit(cm), true
}

// pullRequestCommits are the pull request's own commits, base..head: the
// base the CI names, else the target branch as fetched.
func (r *run) pullRequestCommits(ctx context.Context) []gitrepo.Commit {
	c, repo := r.c, r.git.repo
	head := cmp.Or(c.PRHeadSHA, c.SHA)
	if head == "" {
		return nil
	}
	base := c.PRBaseSHA
	if base == "" && c.PRTargetBranch != "" {
		for _, ref := range []string{"refs/remotes/origin/" + c.PRTargetBranch, "refs/heads/" + c.PRTargetBranch} {
			if h, err := repo.Resolve(ref); err == nil {
				base = h.String()
				break
			}
		}
	}
	if base == "" {
		r.rep.Debugf("development information: the pull request's base is not known, so its commits are not read")
		return nil
	}
	rr, err := repo.RangeFrom(ctx, head, base, r.s.MaxCommits)
	if err != nil {
		r.rep.Debugf("development information: the pull request's commits could not be read: %v", err)
		return nil
	}
	if rr.Warning != "" {
		r.rep.Debugf("development information: the pull request's commits: %s", rr.Warning)
		if rr.Since == "" {
			// The base is not in the clone: only the head is known.
			return nil
		}
	}
	return rr.Commits
}
