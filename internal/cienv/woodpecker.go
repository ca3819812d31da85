package cienv

import (
	"cmp"
	"strings"
)

// isWoodpecker: Woodpecker sets CI and CI_SYSTEM_NAME to its name
// ("woodpecker"). Its CI_* names overlap GitLab's (CI_COMMIT_SHA,
// CI_PIPELINE_URL, ...), so GitLab is told apart by GITLAB_CI, not by them;
// Drone 0.8's CI_* names come with CI=drone.
func isWoodpecker(getenv Getenv) bool {
	return getenv("CI") == "woodpecker" || getenv("CI_SYSTEM_NAME") == "woodpecker"
}

// readWoodpecker reads Woodpecker's CI_* variables, current names first, then
// the names of 1.x and earlier (CI_BUILD_*, CI_COMMIT, CI_SYSTEM_LINK). It
// never reads the DRONE_* names Woodpecker exports for Drone plugins:
// DRONE_BUILD_STATUS is always "success" there and DRONE_COMMIT_BEFORE is the
// previous pipeline's commit.
func readWoodpecker(getenv Getenv, wd string) Context {
	c := Context{Name: "Woodpecker", Forge: forgeFromType(first(getenv, "CI_FORGE_TYPE"))}
	c.Event = first(getenv, "CI_PIPELINE_EVENT", "CI_BUILD_EVENT")
	c.SHA = first(getenv, "CI_COMMIT_SHA", "CI_COMMIT")
	ref := first(getenv, "CI_COMMIT_REF")
	c.Tag = first(getenv, "CI_COMMIT_TAG")
	if c.Tag == "" {
		c.Tag = tagFromRef(ref)
	}
	c.PRNumber = first(getenv, "CI_COMMIT_PULL_REQUEST")
	pr := c.PRNumber != "" || strings.HasPrefix(c.Event, "pull_request")
	var src string
	if pr {
		// Older versions give only the refspec, source:target.
		src, c.PRTargetBranch = first(getenv, "CI_COMMIT_SOURCE_BRANCH"), first(getenv, "CI_COMMIT_TARGET_BRANCH")
		if s, d, ok := strings.Cut(first(getenv, "CI_COMMIT_REFSPEC"), ":"); ok {
			src, c.PRTargetBranch = cmp.Or(src, s), cmp.Or(c.PRTargetBranch, d)
		}
	}
	if c.Tag == "" {
		// On pull requests CI_COMMIT_BRANCH is the target branch.
		c.Branch = cmp.Or(src, first(getenv, "CI_COMMIT_BRANCH"))
	}
	// On pull requests Woodpecker's forges put the pull request's title in
	// CI_COMMIT_MESSAGE (no version has a title variable of its own); the
	// commits' messages come from git (FillFromGit).
	if pr {
		c.PRTitle = first(getenv, "CI_COMMIT_MESSAGE")
		// pull_request_closed says closed, not whether merged or declined.
		if c.Event != "pull_request_closed" {
			c.PRState = PROpen
		}
		c.PRAuthor = first(getenv, "CI_PIPELINE_AUTHOR")
		// Woodpecker names no fork: secrets reach pull request pipelines
		// only where the secret allows it (and a fork's need approval).
		c.Untrusted = "a pull request pipeline: Woodpecker gives a secret to pull requests only when the secret allows it"
	} else {
		c.CommitMessages = messages(message(getenv, "CI_COMMIT_MESSAGE"))
	}
	c.Environment = first(getenv, "CI_PIPELINE_DEPLOY_TARGET", "CI_PIPELINE_TARGET", "CI_BUILD_DEPLOY_TARGET")
	c.PreviousSHA = woodpeckerPrevious(getenv, c, ref)

	c.RepoName = first(getenv, "CI_REPO")
	if c.RepoName == "" {
		c.RepoName = joinRepo(first(getenv, "CI_REPO_OWNER"), first(getenv, "CI_REPO_NAME"))
	}
	c.RepoURL = first(getenv, "CI_REPO_URL", "CI_REPO_LINK")
	if c.RepoURL == "" {
		c.RepoURL = WebURL(first(getenv, "CI_REPO_CLONE_URL", "CI_REPO_REMOTE"))
	}
	c.PRURL = pullRequestURL(c.Forge, c.RepoURL, c.PRNumber)
	c.BuildNumber = first(getenv, "CI_PIPELINE_NUMBER")
	page := "pipeline"
	if c.BuildNumber == "" {
		c.BuildNumber, page = first(getenv, "CI_BUILD_NUMBER"), "build"
	}
	// CI_PIPELINE_URL (2.x) links to the run in Woodpecker. Before it,
	// CI_PIPELINE_LINK and CI_BUILD_LINK linked to the forge's commit or pull
	// request; the run was at {server}/{owner}/{repo}/pipeline/{n} (1.x) or
	// .../build/{n} (0.15).
	c.BuildURL = first(getenv, "CI_PIPELINE_URL")
	if c.BuildURL == "" && c.RepoName != "" && c.BuildNumber != "" {
		if server := strings.TrimRight(first(getenv, "CI_SYSTEM_URL", "CI_SYSTEM_LINK"), "/"); server != "" {
			c.BuildURL = server + "/" + c.RepoName + "/" + page + "/" + c.BuildNumber
		}
	}
	// One Jira pipeline per workflow of the repository; a single
	// .woodpecker.yaml makes the workflow "woodpecker".
	workflow := first(getenv, "CI_WORKFLOW_NAME")
	c.PipelineID = pipelineKey(c.RepoName, workflow)
	c.PipelineName = pipelineLabel(c.RepoName, workflow, "woodpecker")
	// A matrix runs the workflow once per axis, with the same name: the
	// axes differ only in CI_WORKFLOW_NUMBER (and the matrix variables,
	// which Woodpecker does not name). The first workflow keeps the plain
	// id, so a pipeline without matrix or second workflow keeps its id.
	if n := first(getenv, "CI_WORKFLOW_NUMBER"); isDigits(n) && strings.TrimLeft(n, "0") != "1" && strings.TrimLeft(n, "0") != "" {
		c.Axis = n
		c.PipelineID = pipelineKey(c.PipelineID, n)
		c.PipelineName = pipelineLabel(c.PipelineName, "workflow "+n)
	}
	c.Status = first(getenv, "CI_PIPELINE_STATUS", "CI_BUILD_STATUS")
	c.Workspace = first(getenv, "CI_WORKSPACE")
	if c.Workspace == "" {
		c.Workspace = wd
	}
	return c
}

// woodpeckerPrevious is the start of this run's commit range from the
// CI_PREV_* variables. They describe the previous pipeline of the same
// branch (on pull requests: of the target branch, so often another pull
// request), so its commit counts only when that pipeline built the same ref;
// for a deployment, only when it deployed to the same target.
func woodpeckerPrevious(getenv Getenv, c Context, ref string) string {
	prevEvent := first(getenv, "CI_PREV_PIPELINE_EVENT", "CI_PREV_BUILD_EVENT")
	switch {
	case c.Environment != "":
		prevTarget := first(getenv, "CI_PREV_PIPELINE_DEPLOY_TARGET", "CI_PREV_PIPELINE_TARGET", "CI_PREV_BUILD_DEPLOY_TARGET")
		if prevEvent != c.Event || prevTarget != c.Environment {
			return ""
		}
	case ref == "" || first(getenv, "CI_PREV_COMMIT_REF") != ref:
		return ""
	}
	return rangeStart(getenv("CI_PREV_COMMIT_SHA"), c.SHA)
}
