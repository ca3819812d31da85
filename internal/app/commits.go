package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/jira-cicd/jira-cicd/internal/cienv"
	"github.com/jira-cicd/jira-cicd/internal/gitrepo"
	"github.com/jira-cicd/jira-cicd/internal/settings"
)

// lastTag is the commits_since value that means "the nearest tag before
// HEAD".
const lastTag = "last_tag"

// commitScan is the commit messages whose keys are sent, and what the log
// should say about how they were found.
type commitScan struct {
	Messages []string // newest first: the range's, then the CI's others
	Walked   bool     // a range was walked in the repository
	Since    string   // what the range started from, for the log
	Capped   bool     // max_commits was reached
	Warnings []string
	Notices  []string
	Info     string
	// Commits are the scanned commits read from the repository (the
	// range, or HEAD alone without one), newest first; with paths, only
	// those that change a matching file. Development information sends
	// the key-naming ones.
	Commits []gitrepo.Commit
	// Paths says the paths setting filtered the commits (their messages
	// are then the only commit messages scanned).
	Paths bool
}

// workspaceRepo is the repository of the CI's workspace, opened once per
// run: what git knows goes into the CI context (cienv reads no repository),
// and the commit walk reads the same repository.
type workspaceRepo struct {
	repo    *gitrepo.Repo // nil when it could not be opened
	err     error         // why not
	headMsg bool          // HEAD's message was read (a source of keys)
	ciMsgs  int           // how many messages the CI itself gave
	scan    commitScan    // what the key scan read
	diff    *gitrepo.Differ
}

// differ is the run's one Differ: consecutive commits share trees.
func (w *workspaceRepo) differ() *gitrepo.Differ {
	if w.diff == nil {
		w.diff = w.repo.NewDiffer()
	}
	return w.diff
}

// openWorkspace opens the repository at c's workspace and fills c with what
// it says (see cienv.FillFromGit). It costs about 0.7 ms on a small
// repository (measured with a throwaway benchmark: open, resolve HEAD and
// read its message), 1.8 ms when HEAD's tag is looked up too, so that is
// only done when the CI names no branch or tag.
func openWorkspace(c *cienv.Context) *workspaceRepo {
	w := &workspaceRepo{ciMsgs: len(c.CommitMessages)}
	w.repo, w.err = gitrepo.Open(c.Workspace)
	if w.err != nil {
		c.GitUnreadable(w.err)
		return w
	}
	facts := cienv.GitFacts{OriginURL: w.repo.OriginURL(), WorkTree: w.repo.WorkTree()}
	if c.Branch == "" && c.Tag == "" {
		// The branch or tag from git too (a local run, a Bitbucket
		// custom pipeline): Head reads every tag ref to find HEAD's.
		if h, err := w.repo.Head(); err != nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("could not read HEAD of the repository in %s (%v)", c.Workspace, err))
		} else {
			facts.HeadSHA, facts.Branch, facts.Tag, facts.HeadMessage = h.SHA, h.Branch, h.Tag, h.Message
		}
	} else if h, err := w.repo.Resolve("HEAD"); err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("could not read HEAD of the repository in %s (%v)", c.Workspace, err))
	} else {
		facts.HeadSHA = h.String()
		facts.HeadMessage, _ = w.repo.CommitMessage(facts.HeadSHA)
	}
	w.headMsg = strings.TrimSpace(facts.HeadMessage) != ""
	// The commit the CI names, when it is not HEAD (a pull request's head
	// behind GitHub's merge commit) or is abbreviated (Bitbucket's).
	if c.SHA != "" && !strings.EqualFold(c.SHA, facts.HeadSHA) {
		if h, err := w.repo.Resolve(c.SHA); err == nil {
			if msg, err := w.repo.CommitMessage(h.String()); err == nil {
				facts.CISHA, facts.CIMessage = h.String(), msg
			}
		}
	}
	c.FillFromGit(facts)
	return w
}

func (w *workspaceRepo) close() {
	if w.repo != nil {
		w.repo.Close()
	}
}

// scanCommits gathers the commit messages to scan for keys. With
// commits_since, or a previous commit the CI names, it walks since..HEAD in
// the workspace's repository; otherwise, or when the repository cannot be
// read, the messages of the context (the CI's and HEAD's) are used. A shallow
// clone or a since that is not in the clone is never fatal: a warning says
// what to change, and the messages that could be read are used.
func scanCommits(ctx context.Context, s *settings.Settings, c cienv.Context, w *workspaceRepo) commitScan {
	out := scanRange(ctx, s, c, w)
	if w.repo != nil && !out.Walked && (len(s.Paths) > 0 || s.DevelopmentInfo.On()) {
		// No range: the commit built is HEAD alone.
		if rr, err := w.repo.Range(ctx, "", 1); err == nil {
			out.Commits = rr.Commits
		}
	}
	if len(s.Paths) > 0 {
		filterPaths(s.Paths, w, &out)
	}
	return out
}

// filterPaths keeps the commits that change a file matching one of the
// globs (a merge: against its first parent), and makes their messages the
// only commit messages scanned: a message the CI gives cannot be told to
// touch the paths, so it counts only as one of those commits.
func filterPaths(globs []string, w *workspaceRepo, out *commitScan) {
	out.Paths = true
	if w.repo == nil {
		out.Warnings = append(out.Warnings, fmt.Sprintf("paths: the git repository cannot be read (%v), so no commit can be told to change %s; no commit message is scanned", w.err, strings.Join(globs, ", ")))
		out.Messages, out.Commits = nil, nil
		return
	}
	kept, unknown := keepPaths(globs, w, out.Commits)
	if len(unknown) > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("paths: the files changed by %s could not be read (a shallow clone's first commit has no parent to compare with: fetch one more commit, such as `fetch-depth: 2`, or the full history), so they do not count", listShort(unknown)))
	}
	msgs := make([]string, len(kept))
	for i, cm := range kept {
		msgs[i] = cm.Message
	}
	out.Info = strings.TrimSpace(out.Info + fmt.Sprintf("; %d of %d commit(s) change %s", len(kept), len(out.Commits), strings.Join(globs, ", ")))
	out.Info = strings.TrimPrefix(out.Info, "; ")
	out.Commits, out.Messages = kept, msgs
}

// keepPaths returns the commits that change a file matching one of the
// globs (a merge: against its first parent), and the short shas of those
// whose changes could not be read (they are not kept). w.repo is not nil.
func keepPaths(globs []string, w *workspaceRepo, in []gitrepo.Commit) (kept []gitrepo.Commit, unknown []string) {
	d := w.differ()
	for _, cm := range in {
		paths, err := d.ChangedPaths(gitrepo.NewHash(cm.Hash))
		if err != nil {
			unknown = append(unknown, shortSHA(cm.Hash))
			continue
		}
		if matchAny(globs, paths) {
			kept = append(kept, cm)
		}
	}
	return kept, unknown
}

// matchAny reports whether a path matches one of the globs (validated by
// settings, so Match cannot fail on the pattern).
func matchAny(globs, paths []string) bool {
	for _, p := range paths {
		for _, g := range globs {
			if ok, _ := doublestar.Match(g, p); ok {
				return true
			}
		}
	}
	return false
}

// listShort names at most five commits, then how many more.
func listShort(shas []string) string {
	if len(shas) <= 5 {
		return strings.Join(shas, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(shas[:5], ", "), len(shas)-5)
}

// scanRange is scanCommits before the paths filter.
func scanRange(ctx context.Context, s *settings.Settings, c cienv.Context, w *workspaceRepo) commitScan {
	dir := c.Workspace
	out := commitScan{Messages: c.CommitMessages}
	since := strings.TrimSpace(s.CommitsSince)
	explicit := since != ""
	origin := "commits_since " + since
	if !explicit {
		since = strings.TrimSpace(c.PreviousSHA)
		origin = fmt.Sprintf("the previous commit %s (from %s)", shortSHA(since), c.Name)
	}
	if since == "" || cienv.IsZeroSHA(since) {
		if explicit {
			out.Notices = append(out.Notices, fmt.Sprintf("commits_since %s names no commit (a new branch): only the commit messages %s gives are scanned", since, c.Name))
		}
		return out
	}

	repo := w.repo
	if repo == nil {
		msg := fmt.Sprintf("%s: the git repository in %s cannot be read (%v), so only the commit messages %s gives are scanned; check the repository out in this job to scan every commit since then", origin, dir, w.err, c.Name)
		if explicit {
			out.Warnings = append(out.Warnings, msg)
		} else {
			out.Notices = append(out.Notices, msg)
		}
		return out
	}

	if strings.EqualFold(since, lastTag) {
		tag, err := repo.LastTag(ctx)
		switch {
		case err != nil:
			out.Warnings = append(out.Warnings, fmt.Sprintf("commits_since last_tag: the tags could not be read (%v); only HEAD's message and the CI's are scanned", err))
		case tag == "" && repo.IsShallow():
			out.Warnings = append(out.Warnings, "commits_since last_tag: no tag before HEAD in this shallow clone, so only HEAD's message and the CI's are scanned; fetch the full history and its tags (on GitHub Actions set `fetch-depth: 0` on actions/checkout; elsewhere `git fetch --unshallow --tags`)")
		case tag == "":
			out.Notices = append(out.Notices, "commits_since last_tag: no tag before HEAD (a first release?), so only HEAD's message and the CI's are scanned")
		}
		since, origin = tag, "commits_since last_tag ("+tag+")"
	}

	rr, err := repo.Range(ctx, since, s.MaxCommits)
	if err != nil {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s: the commit range could not be read (%v); only the commit messages %s gives are scanned", origin, err, c.Name))
		return out
	}
	out.Walked, out.Since, out.Capped = since != "", since, rr.Capped
	out.Messages = mergeMessages(rr.Messages, c.CommitMessages)
	out.Commits = rr.Commits
	if rr.Warning != "" {
		// A default range that cannot be walked is worth a notice, not a
		// warning: the CI's own messages are still scanned.
		msg := fmt.Sprintf("%s: %s. The keys of the %d commit(s) that could be read are sent.", origin, strings.TrimSuffix(rr.Warning, "."), len(rr.Messages))
		if explicit {
			out.Warnings = append(out.Warnings, msg)
		} else {
			out.Notices = append(out.Notices, msg)
		}
	}
	if rr.Capped {
		out.Notices = append(out.Notices, fmt.Sprintf("%s: the range has more than max_commits (%d) commits; only the newest %d were scanned (raise max_commits to scan more)", origin, s.MaxCommits, len(rr.Messages)))
	}
	if out.Walked {
		out.Info = fmt.Sprintf("commits: %d commit message(s) scanned, since %s", len(out.Messages), origin)
	}
	return out
}

// mergeMessages is a followed by the messages of b that a lacks (compared
// without surrounding white space: a CI's payload and the repository may
// differ in a trailing newline). Commits of a with the same message all
// stay: each is a commit scanned.
func mergeMessages(a, b []string) []string {
	out := append(make([]string, 0, len(a)+len(b)), a...)
	seen := make(map[string]bool, len(a))
	for _, m := range a {
		seen[strings.TrimSpace(m)] = true
	}
	for _, m := range b {
		if k := strings.TrimSpace(m); !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out
}

// noKeysMessage says where keys were looked for, naming only the sources
// this run had: a CI that gave only its message variable is not said to
// have had "the commit messages" scanned.
func noKeysMessage(s *settings.Settings, c cienv.Context, w *workspaceRepo) string {
	scan := w.scan
	var places []string
	if len(s.IssueKeys) > 0 {
		places = append(places, "issue_keys")
	}
	if c.Branch != "" {
		places = append(places, "the branch "+c.Branch)
	}
	if c.PRTitle != "" {
		places = append(places, "the pull request title")
	}
	switch {
	case scan.Paths:
		places = append(places, fmt.Sprintf("the %d commit message(s) that change %s", len(scan.Messages), strings.Join(s.Paths, ", ")))
	case scan.Walked:
		places = append(places, fmt.Sprintf("the %d commit message(s) since %s", len(scan.Messages), shortSHA(scan.Since)))
	default:
		if w.ciMsgs > 0 {
			places = append(places, fmt.Sprintf("the commit message(s) %s gives", c.Name))
		}
		if w.headMsg {
			places = append(places, "the checked-out commit's message")
		}
	}
	switch len(places) {
	case 0:
		return "no Jira issue keys found: no issue_keys, branch, pull request title or commit message to look in"
	case 1:
		return "no Jira issue keys found in " + places[0]
	}
	return "no Jira issue keys found in " + strings.Join(places[:len(places)-1], ", ") + " or " + places[len(places)-1]
}

func shortSHA(s string) string {
	if len(s) == 40 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == "" {
		return s[:12]
	}
	return s
}
