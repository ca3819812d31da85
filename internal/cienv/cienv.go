// Package cienv reads what the CI tells a step about its run. Each CI has one
// file that fills the same Context from that CI's own variables; Detect picks
// the adapter. This package and the settings package are the only ones that
// read the environment. It reads nothing else but GitHub's event file: what
// the checked-out repository says comes from the caller (FillFromGit).
package cienv

import (
	"cmp"
	"strings"
	"time"
)

// Context is what the CI (or the local repository) says about this run. Empty
// fields are unknown.
type Context struct {
	CI   string // one of the CI* constants
	Name string // human name of the CI, for messages

	SHA            string   // the commit built (a PR's head commit, not a merge commit, where known)
	Branch         string   // the branch built; on pull requests, the PR's source branch
	Tag            string   // the tag built, on tag events
	PRNumber       string   // pull/merge request number
	PRTargetBranch string   // the branch a pull request merges into
	PRTitle        string   // pull/merge request title
	CommitMessages []string // messages the CI gives, newest first (HEAD's first)
	PreviousSHA    string   // the commit before this push, the start of a commit range ("" when none)
	Event          string   // push, pull_request, tag, deployment, ...

	BuildNumber  string // the run's number, increasing across runs of the pipeline
	BuildURL     string // link to this run
	RepoName     string // owner/name
	RepoURL      string // web URL of the repository
	PipelineID   string // stable across runs of the same pipeline
	PipelineName string

	Status          string // the CI's own word for the outcome so far ("" when unknown)
	Environment     string // deployment environment the CI names
	EnvironmentType string // a Jira environment type the CI gives (GitLab's tier)
	Workspace       string // where the repository is checked out

	// Where the CI wants reports ("" when it has none).
	GitHubOutput      string // GITHUB_OUTPUT
	GitHubStepSummary string // GITHUB_STEP_SUMMARY
	DroneCardPath     string // DRONE_CARD_PATH
	PipeStorageDir    string // BITBUCKET_PIPE_STORAGE_DIR

	// Untrusted says why the CI may have withheld secrets from this run (a
	// pull request from a fork, a Dependabot run, an unprotected GitLab ref,
	// ...); "" when the run is trusted. A run without credentials that is
	// untrusted sends nothing and passes (see app).
	Untrusted string

	// Parallel runs of one pipeline: the axis (a matrix combination, a
	// parallel job's index, a workflow number) that PipelineID already
	// includes; "" when the CI runs no axes.
	Axis string

	// For development information (commits, branches, pull requests).
	Forge          string    // one of the Forge* constants; "" when unknown
	RepoID         string    // stable identity of the repository across CIs: host/path of RepoURL, lower case
	PRURL          string    // the pull request's web page
	PRState        string    // OPEN, MERGED or DECLINED ("" when not a pull request run)
	PRAuthor       string    // login of the pull request's author
	PRAuthorName   string    // display name of that author, where the CI gives it
	PRHeadSHA      string    // the pull request's head commit (not a merge commit the CI made)
	PRBaseSHA      string    // the target branch's commit the pull request is compared with
	PRReviewers    []string  // logins asked to review
	PRCommentCount int       // comments on the pull request (0 when the CI does not say)
	PRUpdated      time.Time // the pull request's last update (zero when unknown)
	DeletedBranch  string    // a branch this run reports deleted (GitHub delete event)
	DeploymentID   string    // the forge's deployment id (GitHub deployment events)

	Warnings []string // things the adapter could not read, for the log
}

// Forges, for development information URLs.
const (
	ForgeGitHub      = "github"
	ForgeGitLab      = "gitlab"
	ForgeGitea       = "gitea" // also Forgejo and Codeberg
	ForgeBitbucket   = "bitbucket"
	ForgeBitbucketDC = "bitbucket_dc"
)

// Pull request states, as Jira's development information names them.
const (
	PROpen     = "OPEN"
	PRMerged   = "MERGED"
	PRDeclined = "DECLINED"
)

// The CIs this package knows.
const (
	CIGitHub     = "github"
	CIDrone      = "drone"
	CIWoodpecker = "woodpecker"
	CIBitbucket  = "bitbucket"
	CIGitLab     = "gitlab"
	CILocal      = "local"
)

// Getenv reads one variable; "" when unset.
type Getenv func(string) string

// FromEnviron makes a Getenv from "NAME=value" pairs.
func FromEnviron(environ []string) Getenv {
	m := EnvironMap(environ)
	return func(k string) string { return m[k] }
}

// EnvironMap maps "NAME=value" pairs by name; a later pair wins, as in the
// process environment. Entries without "=" are ignored.
func EnvironMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// adapter is one CI: whether it is the one running, and how to read it.
type adapter struct {
	ci     string
	detect func(Getenv) bool
	read   func(Getenv, string) Context
}

// adapters in the order they are tried. Order matters where CIs share
// variable names: Woodpecker exports Drone's DRONE_* names too (without
// DRONE=true), and Woodpecker and GitLab both use CI_* names.
var adapters = []adapter{
	{CIGitHub, isGitHub, readGitHub},
	{CIGitLab, isGitLab, readGitLab},
	{CIWoodpecker, isWoodpecker, readWoodpecker},
	{CIDrone, isDrone, readDrone},
	{CIBitbucket, isBitbucket, readBitbucket},
}

// Detect finds the CI running this step and reads its context. wd is the
// working directory, used where the CI names no workspace. An unknown CI is a
// local run, which FillFromGit completes from the repository in wd.
func Detect(getenv Getenv, wd string) Context {
	for _, a := range adapters {
		if a.detect(getenv) {
			c := a.read(getenv, wd)
			c.CI = a.ci
			c.finish()
			return c
		}
	}
	c := Context{CI: CILocal, Name: "local run", Workspace: wd}
	c.finish()
	return c
}

// finish derives what every adapter derives the same way.
func (c *Context) finish() {
	if c.Forge == "" {
		c.Forge = ForgeFromURL(c.RepoURL)
	}
	c.RepoID = RepoID(c.RepoURL)
	// Drone, Woodpecker, Bitbucket and GitLab (outside merged results
	// pipelines) build a pull request's own head commit.
	if c.PRNumber != "" && c.PRHeadSHA == "" {
		c.PRHeadSHA = c.SHA
	}
}

// pullRequestURL is a pull request's page on the forges whose URL shape
// needs only the repository's web URL ("" for the others).
func pullRequestURL(forge, repoURL, n string) string {
	forge = cmp.Or(forge, ForgeFromURL(repoURL))
	if repoURL == "" || !isDigits(n) {
		return ""
	}
	repoURL = strings.TrimRight(repoURL, "/")
	switch forge {
	case ForgeGitHub:
		return repoURL + "/pull/" + n
	case ForgeGitLab:
		return repoURL + "/-/merge_requests/" + n
	case ForgeGitea:
		return repoURL + "/pulls/" + n
	case ForgeBitbucket:
		return repoURL + "/pull-requests/" + n
	}
	return ""
}

// first returns the first non-empty value of the named variables.
func first(getenv Getenv, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// IsZeroSHA reports the all-zero sha CIs give for "no previous commit".
func IsZeroSHA(s string) bool {
	return s != "" && strings.Trim(s, "0") == ""
}

// noZero returns s, or "" for the all-zero sha.
func noZero(s string) string {
	if IsZeroSHA(s) {
		return ""
	}
	return s
}
