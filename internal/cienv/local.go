package cienv

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo"
)

// readLocal reads the git repository in the working directory: no CI.
func readLocal(wd string) Context {
	c := Context{Name: "local run", Workspace: wd}
	repo, err := gitrepo.Open(wd)
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("no CI detected and no git repository readable in %s (%v)", wd, err))
		return c
	}
	defer repo.Close()
	fillFromHead(&c, repo)
	c.RepoURL = WebURL(repo.OriginURL())
	c.RepoName = repoName(c.RepoURL)
	if c.RepoName == "" {
		c.RepoName = filepath.Base(wd)
	}
	c.PipelineID = c.RepoName
	c.PipelineName = c.RepoName
	// No run to link to: the repository's web page, else the checkout.
	c.BuildURL = c.RepoURL
	if c.BuildURL == "" {
		c.BuildURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(repo.WorkTree())}).String()
	}
	return c
}

// fillFromHead takes sha, branch, tag and message from HEAD where the CI did
// not give them.
func fillFromHead(c *Context, repo *gitrepo.Repo) {
	h, err := repo.Head()
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("could not read HEAD of the repository (%v)", err))
		return
	}
	if c.SHA == "" {
		c.SHA = h.SHA
	}
	if c.Branch == "" && c.Tag == "" {
		c.Branch, c.Tag = h.Branch, h.Tag
	}
	if len(c.CommitMessages) == 0 && h.Message != "" {
		c.CommitMessages = []string{h.Message}
	}
}

// WebURL turns a git remote URL into the repository's web URL:
// git@host:owner/repo.git and ssh://git@host/owner/repo.git become
// https://host/owner/repo. It returns "" when it cannot tell.
func WebURL(remote string) string {
	r := strings.TrimSuffix(strings.TrimSpace(remote), ".git")
	switch {
	case strings.HasPrefix(r, "https://"), strings.HasPrefix(r, "http://"):
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return ""
		}
		u.User = nil // never carry a clone token into Jira
		return u.String()
	case strings.HasPrefix(r, "ssh://"):
		rest := r[len("ssh://"):]
		if at := strings.Index(rest, "@"); at >= 0 {
			rest = rest[at+1:]
		}
		host, path, ok := strings.Cut(rest, "/")
		if !ok {
			return ""
		}
		if h, _, ok := strings.Cut(host, ":"); ok {
			host = h
		}
		return "https://" + host + "/" + path
	case strings.Contains(r, "@") && strings.Contains(r, ":"):
		rest := r[strings.Index(r, "@")+1:]
		host, path, _ := strings.Cut(rest, ":")
		return "https://" + host + "/" + path
	}
	return ""
}

// repoName is the owner/name path of a repository's web URL ("" when it
// has none).
func repoName(webURL string) string {
	parts := strings.SplitN(webURL, "/", 4)
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}
