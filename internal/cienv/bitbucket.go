package cienv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo"
)

// isBitbucket: every Bitbucket Pipelines step (and every pipe, which gets the
// step's BITBUCKET_* variables) has a build number and a pipeline uuid.
func isBitbucket(getenv Getenv) bool {
	return first(getenv, "BITBUCKET_BUILD_NUMBER", "BITBUCKET_PIPELINE_UUID") != ""
}

// readBitbucket reads Bitbucket's BITBUCKET_* variables. Bitbucket gives no
// commit message: it is read from the clone in BITBUCKET_CLONE_DIR.
func readBitbucket(getenv Getenv, wd string) Context {
	c := Context{Name: "Bitbucket Pipelines"}
	c.SHA = first(getenv, "BITBUCKET_COMMIT")
	c.Tag = first(getenv, "BITBUCKET_TAG")
	if c.Tag == "" {
		c.Branch = first(getenv, "BITBUCKET_BRANCH")
	}
	c.PRNumber = first(getenv, "BITBUCKET_PR_ID")
	switch {
	case c.PRNumber != "":
		c.Event = "pull_request"
		c.PRTargetBranch = first(getenv, "BITBUCKET_PR_DESTINATION_BRANCH")
	case c.Tag != "":
		c.Event = "tag"
	}
	c.Environment = first(getenv, "BITBUCKET_DEPLOYMENT_ENVIRONMENT")

	c.RepoName = first(getenv, "BITBUCKET_REPO_FULL_NAME")
	if c.RepoName == "" {
		c.RepoName = joinRepo(first(getenv, "BITBUCKET_WORKSPACE", "BITBUCKET_REPO_OWNER"), first(getenv, "BITBUCKET_REPO_SLUG"))
	}
	if strings.Contains(c.RepoName, "/") {
		// Pipelines runs on Bitbucket Cloud only.
		c.RepoURL = "https://bitbucket.org/" + c.RepoName
	} else {
		c.RepoURL = WebURL(first(getenv, "BITBUCKET_GIT_HTTP_ORIGIN"))
	}
	c.BuildNumber = first(getenv, "BITBUCKET_BUILD_NUMBER")
	if c.RepoURL != "" && c.BuildNumber != "" {
		c.BuildURL = c.RepoURL + "/pipelines/results/" + c.BuildNumber
	}
	// Bitbucket names no pipeline or step in a way that stays the same across
	// runs: the repository is the pipeline.
	c.PipelineID = or(c.RepoName, first(getenv, "BITBUCKET_REPO_UUID"))
	c.PipelineName = c.RepoName

	// BITBUCKET_EXIT_CODE is set in after-script only: the step's script
	// exit code.
	switch code := first(getenv, "BITBUCKET_EXIT_CODE"); {
	case code == "":
	case code == "0":
		c.Status = "success"
	default:
		if _, err := strconv.Atoi(code); err != nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("BITBUCKET_EXIT_CODE %q is not a number; the state is not taken from it", code))
		} else {
			c.Status = "failure"
		}
	}

	c.Workspace = first(getenv, "BITBUCKET_CLONE_DIR")
	if c.Workspace == "" {
		c.Workspace = wd
	}
	c.PipeStorageDir = first(getenv, "BITBUCKET_PIPE_STORAGE_DIR")
	readBitbucketCommit(&c)
	return c
}

// readBitbucketCommit takes the commit's message (and its full sha, where
// BITBUCKET_COMMIT is abbreviated) from the clone.
func readBitbucketCommit(c *Context) {
	repo, err := gitrepo.Open(c.Workspace)
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("Bitbucket gives no commit message and the repository in %s could not be read (%v); keys come from the branch and issue_keys only", c.Workspace, err))
		return
	}
	defer repo.Close()
	if c.SHA == "" {
		fillFromHead(c, repo)
		return
	}
	h, err := repo.Resolve(c.SHA)
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("commit %s (BITBUCKET_COMMIT) is not in the repository in %s (%v); keys come from the branch and issue_keys only", c.SHA, c.Workspace, err))
		return
	}
	c.SHA = h.String()
	msg, err := repo.CommitMessage(c.SHA)
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("could not read the message of commit %s (%v)", c.SHA, err))
		return
	}
	c.CommitMessages = messages(strings.TrimRight(msg, "\r\n"))
}
