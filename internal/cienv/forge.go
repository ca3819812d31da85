package cienv

import (
	"fmt"
	"net/url"
	"strings"
)

// ForgeFromURL infers the forge from a repository web URL's host: the
// public services by name, self-hosted ones by the words their hosts
// usually carry. "" when the host says nothing.
func ForgeFromURL(webURL string) string {
	u, err := url.Parse(webURL)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "github.com" || strings.HasPrefix(host, "github."):
		return ForgeGitHub
	case host == "gitlab.com" || strings.HasPrefix(host, "gitlab."):
		return ForgeGitLab
	case host == "bitbucket.org":
		return ForgeBitbucket
	case host == "codeberg.org", strings.HasPrefix(host, "gitea."), strings.HasPrefix(host, "forgejo."):
		return ForgeGitea
	case strings.HasPrefix(host, "bitbucket."):
		return ForgeBitbucketDC
	}
	return ""
}

// forgeFromType maps Woodpecker's CI_FORGE_TYPE onto the forges known here.
func forgeFromType(t string) string {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "github":
		return ForgeGitHub
	case "gitlab":
		return ForgeGitLab
	case "gitea", "forgejo":
		return ForgeGitea
	case "bitbucket":
		return ForgeBitbucket
	case "bitbucket-dc", "bitbucket_dc", "bitbucketdatacenter", "bitbucket-datacenter", "stash":
		return ForgeBitbucketDC
	}
	return ""
}

// RepoID is a repository's identity that stays the same across runs and
// across CIs building it, made of [A-Za-z0-9._~-] only: its web URL's host
// and path, lower case, "/" written as "~", and any other byte (a port's ":",
// "_", "~" itself) as "_" and two hex digits, so two URLs never share an id.
// "" when the URL has no host.
func RepoID(webURL string) string {
	u, err := url.Parse(strings.TrimSpace(webURL))
	if err != nil || u.Host == "" {
		return ""
	}
	raw := strings.ToLower(u.Host + "/" + strings.Trim(strings.TrimSuffix(strings.TrimRight(u.Path, "/"), ".git"), "/"))
	raw = strings.TrimSuffix(raw, "/")
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		switch ch := raw[i]; {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '.', ch == '-':
			b.WriteByte(ch)
		case ch == '/':
			b.WriteByte('~')
		default:
			fmt.Fprintf(&b, "_%02x", ch)
		}
	}
	return b.String()
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
