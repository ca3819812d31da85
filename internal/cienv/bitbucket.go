package cienv

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// isBitbucket: every Bitbucket Pipelines step (and every pipe, which gets the
// step's BITBUCKET_* variables) has a build number and a pipeline uuid.
func isBitbucket(getenv Getenv) bool {
	return first(getenv, "BITBUCKET_BUILD_NUMBER", "BITBUCKET_PIPELINE_UUID") != ""
}

// readBitbucket reads Bitbucket's BITBUCKET_* variables. Bitbucket gives no
// commit message: the caller reads it from the clone in BITBUCKET_CLONE_DIR
// (see FillFromGit).
func readBitbucket(getenv Getenv, wd string) Context {
	c := Context{Name: "Bitbucket Pipelines", Forge: ForgeBitbucket}
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
	c.PipelineID = cmp.Or(c.RepoName, first(getenv, "BITBUCKET_REPO_UUID"))
	c.PipelineName = c.RepoName
	// The steps of a parallel group share the build number: each is its own
	// Jira pipeline, by its place in the group (stable while the group's
	// steps stay in the same order).
	if n, _ := strconv.Atoi(first(getenv, "BITBUCKET_PARALLEL_STEP_COUNT")); n > 1 {
		if i := first(getenv, "BITBUCKET_PARALLEL_STEP"); isDigits(i) {
			c.Axis = "step-" + i
			c.PipelineID = pipelineKey(c.PipelineID, c.Axis)
			c.PipelineName = pipelineLabel(c.PipelineName, "parallel step "+i)
		}
	}
	if c.PRNumber != "" {
		if c.RepoURL != "" {
			c.PRURL = c.RepoURL + "/pull-requests/" + c.PRNumber
		}
		c.PRState = PROpen
		// Bitbucket gives no variable telling a fork's pull request apart.
		c.Untrusted = "a pull request pipeline: Bitbucket withholds secured variables from pull requests from forks"
	}

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
	return c
}
