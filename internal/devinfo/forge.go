package devinfo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Forge is the kind of git server a repository lives on; it decides the
// shapes of the web URLs of commits, branches and pull requests.
type Forge string

// The forges whose URL shapes Build knows.
const (
	GitHub      Forge = "github"       // github.com and GitHub Enterprise
	GitLab      Forge = "gitlab"       // gitlab.com and GitLab self-managed
	Gitea       Forge = "gitea"        // Gitea, Forgejo, Codeberg
	Bitbucket   Forge = "bitbucket"    // Bitbucket Cloud
	BitbucketDC Forge = "bitbucket_dc" // Bitbucket Data Center / Server
)

// Forges lists the accepted values of the forge setting, in the order the
// documentation gives them.
func Forges() []Forge { return []Forge{GitHub, GitLab, Gitea, Bitbucket, BitbucketDC} }

// ParseForge reads the forge setting: one of Forges, case-insensitive, also
// "forgejo" and "codeberg" (gitea) and "bitbucket-dc" (Woodpecker's
// spelling). "" is "" (infer it).
func ParseForge(s string) (Forge, error) {
	if f, ok := forgeName(s); ok {
		return f, nil
	}
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return "", fmt.Errorf("forge: %q is not a known forge; use github, gitlab, gitea (also Forgejo and Codeberg), bitbucket (Cloud) or bitbucket_dc (Data Center)", s)
}

func forgeName(s string) (Forge, bool) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_") {
	case "github":
		return GitHub, true
	case "gitlab":
		return GitLab, true
	case "gitea", "forgejo", "codeberg":
		return Gitea, true
	case "bitbucket", "bitbucket_cloud":
		return Bitbucket, true
	case "bitbucket_dc", "bitbucket_server", "bitbucket_datacenter":
		return BitbucketDC, true
	}
	return "", false
}

// InferForge guesses the forge: from ciHint first (Woodpecker's
// CI_FORGE_TYPE, or the CI itself: "github" on GitHub Actions, "gitlab" on
// GitLab CI, "bitbucket" on Bitbucket Pipelines), then from the web URL: its
// host (github.com, gitlab.com, codeberg.org, bitbucket.org, or a host name
// that names one of them) or its path (Bitbucket Data Center's
// /projects/KEY/repos/slug or /scm/KEY/slug). "" when nothing tells.
func InferForge(ciHint, webURL string) Forge {
	if f, ok := forgeName(ciHint); ok {
		return f
	}
	u, err := url.Parse(strings.TrimSpace(webURL))
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	switch host {
	case "github.com", "www.github.com":
		return GitHub
	case "gitlab.com", "www.gitlab.com":
		return GitLab
	case "codeberg.org", "gitea.com":
		return Gitea
	case "bitbucket.org", "www.bitbucket.org":
		return Bitbucket
	}
	if _, _, ok := dcPath(u.Path); ok {
		return BitbucketDC
	}
	labels := strings.FieldsFunc(host, func(r rune) bool { return r == '.' || r == '-' })
	for _, l := range labels {
		switch l {
		case "github":
			return GitHub
		case "gitlab":
			return GitLab
		case "gitea", "forgejo", "codeberg":
			return Gitea
		case "bitbucket", "stash":
			// A self-hosted Bitbucket is Data Center.
			return BitbucketDC
		}
	}
	return ""
}

// dcPath finds a Bitbucket Data Center repository in a URL path:
// .../projects/KEY/repos/slug[/...], .../users/NAME/repos/slug[/...] (a
// personal repository) or the clone form .../scm/KEY/slug[.git] (personal:
// .../scm/~NAME/slug). It returns the part before (a context path such as
// /bitbucket) and the canonical rest: projects/KEY/repos/slug (the key
// upper-cased) or users/NAME/repos/slug.
func dcPath(p string) (prefix, rest string, ok bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	canon := func(area, owner, slug string) string {
		if area == "projects" {
			owner = strings.ToUpper(owner)
		}
		return area + "/" + owner + "/repos/" + slug
	}
	for i := range segs {
		if (segs[i] == "projects" || segs[i] == "users") && i+3 < len(segs) && segs[i+2] == "repos" && segs[i+1] != "" && segs[i+3] != "" {
			return joinSegs(segs[:i]), canon(segs[i], segs[i+1], segs[i+3]), true
		}
		if segs[i] == "scm" && i+2 == len(segs)-1 && segs[i+1] != "" && segs[i+2] != "" {
			owner, slug := segs[i+1], strings.TrimSuffix(segs[i+2], ".git")
			if user, ok := strings.CutPrefix(owner, "~"); ok && user != "" {
				return joinSegs(segs[:i]), canon("users", user, slug), true
			}
			if user, ok := strings.CutPrefix(owner, "%7E"); ok && user != "" {
				return joinSegs(segs[:i]), canon("users", user, slug), true
			}
			return joinSegs(segs[:i]), canon("projects", owner, slug), true
		}
	}
	return "", "", false
}

func joinSegs(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return "/" + strings.Join(s, "/")
}

// NormalizeURL makes a repository's web URL canonical: http(s) only, no
// user info (a clone URL may carry a token), no query or fragment, the host
// lower-cased and without its default port, no trailing "/" or ".git"; on
// Bitbucket Data Center, {base}/projects/{KEY}/repos/{slug} (or
// {base}/users/{name}/repos/{slug}) whatever page or clone URL was given.
func NormalizeURL(forge Forge, webURL string) (string, error) {
	raw := strings.TrimSpace(webURL)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("repository_url: %q is not the web address of a repository; give an http(s) URL such as https://git.example.com/team/app", redactURL(raw))
	}
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(u.Scheme == "https" && port == "443") && !(u.Scheme == "http" && port == "80") {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	p = strings.TrimSuffix(p, ".git")
	if forge == BitbucketDC {
		if prefix, rest, ok := dcPath(p); ok {
			p = prefix + "/" + rest
		}
	}
	if p == "" {
		return "", fmt.Errorf("repository_url: %q names a server, not a repository; give the repository's web address, such as https://%s/team/app", redactURL(raw), host)
	}
	return u.Scheme + "://" + host + p, nil
}

// redactURL drops the user info of a URL for messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// idChar reports whether c may appear in an entity id: the spec allows
// "only alphanumeric characters, and '~.-_'".
func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '~' || c == '.' || c == '-' || c == '_'
}

func validID(s string) bool {
	if s == "" || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return false
		}
	}
	return true
}

// maxRepoIDSlug bounds the readable part of a repository id.
const maxRepoIDSlug = 200

// RepositoryID derives a repository's id from its normalised web URL
// (NormalizeURL): the same repository gets the same id on every run and on
// every CI that builds it, whatever case or clone form the CI reports. The
// id is host and path, lower-cased, "/" written as "~"
// ("git.example.com~team~app"); a URL with other characters (or longer than
// 200) gets a readable slug (those characters as "_") and "-" and 12 hex
// digits of the URL's SHA-256, so that two URLs never share an id.
func RepositoryID(normalizedURL string) string {
	s := strings.ToLower(normalizedURL)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	plain := true
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('~')
		case c != '~' && idChar(c):
			b.WriteByte(c)
		default:
			plain = false
			if b.Len() == 0 || !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
	}
	slug := b.String()
	if plain && len(slug) <= maxRepoIDSlug {
		return slug
	}
	if len(slug) > maxRepoIDSlug {
		slug = slug[:maxRepoIDSlug]
	}
	sum := sha256.Sum256([]byte(s))
	return slug + "-" + hex.EncodeToString(sum[:6])
}

// BranchID is a branch's entity id, the convention of Atlassian's own
// GitHub app: the name itself when it is made only of the allowed
// characters [A-Za-z0-9~._-], else "~" and the name's bytes in hex (so
// "feature/ABC-1" is "~666561747572652f4142432d31"); a name whose hex form
// would pass 1,024 characters is "~~" and its SHA-256 in hex.
func BranchID(name string) string {
	if validID(name) && !strings.HasPrefix(name, "~") {
		return name
	}
	if 1+2*len(name) <= MaxIDLength {
		return "~" + hex.EncodeToString([]byte(name))
	}
	sum := sha256.Sum256([]byte(name))
	return "~~" + hex.EncodeToString(sum[:])
}

// pathEscape escapes each "/"-separated part of s for a URL path, keeping
// the slashes (branch "feature/a b" is "feature/a%20b").
func pathEscape(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// urls builds the web URLs of one repository on one forge.
type urls struct {
	forge Forge
	repo  string // normalised web URL
}

func (u urls) commit(sha string) string {
	switch u.forge {
	case GitLab:
		return u.repo + "/-/commit/" + sha
	case Bitbucket, BitbucketDC:
		return u.repo + "/commits/" + sha
	}
	return u.repo + "/commit/" + sha
}

func (u urls) branch(name string) string {
	switch u.forge {
	case GitLab:
		return u.repo + "/-/tree/" + pathEscape(name)
	case Gitea:
		return u.repo + "/src/branch/" + pathEscape(name)
	case Bitbucket:
		return u.repo + "/branch/" + pathEscape(name)
	case BitbucketDC:
		return u.repo + "/browse?at=" + url.QueryEscape("refs/heads/"+name)
	}
	return u.repo + "/tree/" + pathEscape(name)
}

// createPullRequest is the page that opens a pull request from the branch,
// or "" where it needs more than the branch (Gitea's compare page wants the
// base branch too).
func (u urls) createPullRequest(name string) string {
	switch u.forge {
	case GitHub:
		return u.repo + "/compare/" + pathEscape(name) + "?expand=1"
	case GitLab:
		return u.repo + "/-/merge_requests/new?" + url.Values{"merge_request[source_branch]": {name}}.Encode()
	case Bitbucket:
		return u.repo + "/pull-requests/new?" + url.Values{"source": {name}}.Encode()
	case BitbucketDC:
		return u.repo + "/pull-requests?create&sourceBranch=" + url.QueryEscape("refs/heads/"+name)
	}
	return ""
}

func (u urls) pullRequest(n int64) string {
	switch u.forge {
	case GitLab:
		return fmt.Sprintf("%s/-/merge_requests/%d", u.repo, n)
	case Gitea:
		return fmt.Sprintf("%s/pulls/%d", u.repo, n)
	case Bitbucket, BitbucketDC:
		return fmt.Sprintf("%s/pull-requests/%d", u.repo, n)
	}
	return fmt.Sprintf("%s/pull/%d", u.repo, n)
}

// pullRequestDisplayID is how the forge writes a pull request's number:
// GitLab's merge requests are !n, the others' #n.
func (u urls) pullRequestDisplayID(n int64) string {
	if u.forge == GitLab {
		return fmt.Sprintf("!%d", n)
	}
	return fmt.Sprintf("#%d", n)
}

// file is a file's page at a commit.
func (u urls) file(sha, path string) string {
	p := pathEscape(strings.TrimLeft(path, "/"))
	switch u.forge {
	case GitLab:
		return u.repo + "/-/blob/" + sha + "/" + p
	case Gitea:
		return u.repo + "/src/commit/" + sha + "/" + p
	case Bitbucket:
		return u.repo + "/src/" + sha + "/" + p
	case BitbucketDC:
		return u.repo + "/browse/" + p + "?at=" + sha
	}
	return u.repo + "/blob/" + sha + "/" + p
}
