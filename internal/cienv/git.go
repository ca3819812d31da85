package cienv

import (
	"cmp"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// GitFacts is what the repository checked out in the workspace says, read by
// the caller (this package reads no repository): app opens the repository
// once and hands these over.
type GitFacts struct {
	HeadSHA     string // HEAD's commit
	Branch      string // the branch HEAD is on ("" when detached)
	Tag         string // a tag pointing at HEAD
	OriginURL   string // the remote "origin"'s URL, credentials removed
	HeadMessage string // HEAD's commit message
	WorkTree    string // the work tree's top directory ("" for a bare repository)

	// The commit the CI names (Context.SHA), when the repository has it:
	// its full sha and message. Empty when the CI names none or the
	// repository lacks it.
	CISHA, CIMessage string
}

// FillFromGit completes the context with what git knows, filling only empty
// fields, and always adds HEAD's message to the messages scanned for keys
// (the checked-out commit is a source of keys whatever the CI's variables
// say: Woodpecker's CI_COMMIT_MESSAGE is the PR title on pull requests and
// empty on Gitea tags).
//
// Per CI: a local run takes everything from git (sha, branch or tag, the
// repository from origin, and, having no run, pipeline and link from the
// repository); Bitbucket gives no message, so the named commit's comes
// from git, and an abbreviated BITBUCKET_COMMIT becomes the full sha; the
// other CIs name sha, branch and repository themselves, so git only adds
// HEAD's message there, and a repository link where the CI gave none.
func (c *Context) FillFromGit(g GitFacts) {
	switch {
	case c.SHA == "":
		c.SHA = g.HeadSHA
	case isAbbrevOf(c.SHA, g.CISHA):
		c.SHA = g.CISHA
	}
	if isAbbrevOf(c.PRHeadSHA, c.SHA) {
		c.PRHeadSHA = c.SHA
	}
	if c.Branch == "" && c.Tag == "" && c.SHA == g.HeadSHA {
		c.Branch, c.Tag = g.Branch, g.Tag
	}
	if g.CISHA != "" && strings.EqualFold(c.SHA, g.CISHA) {
		c.CommitMessages = addMessage(c.CommitMessages, g.CIMessage)
	}
	c.CommitMessages = addMessage(c.CommitMessages, g.HeadMessage)
	if c.CI == CIBitbucket && c.SHA != "" && g.CISHA == "" && !strings.EqualFold(c.SHA, g.HeadSHA) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("commit %s (BITBUCKET_COMMIT) is not in the repository in %s; keys come from the branch, HEAD's message and issue_keys only", c.SHA, c.Workspace))
	}
	if c.RepoURL == "" {
		c.RepoURL = WebURL(g.OriginURL)
		c.RepoID = RepoID(c.RepoURL)
		if c.Forge == "" {
			c.Forge = ForgeFromURL(c.RepoURL)
		}
	}
	if c.CI != CILocal {
		return
	}
	c.RepoName = repoName(c.RepoURL)
	if c.RepoName == "" {
		c.RepoName = filepath.Base(cmp.Or(g.WorkTree, c.Workspace))
	}
	c.PipelineID = c.RepoName
	c.PipelineName = c.RepoName
	// No run to link to: the repository's web page, else the checkout.
	c.BuildURL = c.RepoURL
	if c.BuildURL == "" && g.WorkTree != "" {
		c.BuildURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(g.WorkTree)}).String()
	}
}

// GitUnreadable records that the workspace's repository could not be
// opened, where that costs this CI something: a local run has nothing else,
// and Bitbucket gives no commit message.
func (c *Context) GitUnreadable(err error) {
	switch c.CI {
	case CILocal:
		c.Warnings = append(c.Warnings, fmt.Sprintf("no CI detected and no git repository readable in %s (%v)", c.Workspace, err))
	case CIBitbucket:
		c.Warnings = append(c.Warnings, fmt.Sprintf("Bitbucket gives no commit message and the repository in %s could not be read (%v); keys come from the branch and issue_keys only", c.Workspace, err))
	}
}

// addMessage appends m (its trailing newlines cut) unless it is blank or
// already there.
func addMessage(list []string, m string) []string {
	m = strings.TrimRight(m, "\r\n")
	if strings.TrimSpace(m) == "" {
		return list
	}
	for _, l := range list {
		if strings.TrimSpace(l) == strings.TrimSpace(m) {
			return list
		}
	}
	return append(list, m)
}

// isAbbrevOf reports an abbreviated sha (at least 7 hex digits) of full.
func isAbbrevOf(short, full string) bool {
	return len(short) >= 7 && len(short) < len(full) && strings.HasPrefix(strings.ToLower(full), strings.ToLower(short))
}
