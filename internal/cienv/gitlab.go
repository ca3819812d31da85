package cienv

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// isGitLab: every GitLab job has GITLAB_CI=true (and CI=true). Woodpecker's
// CI_* names overlap GitLab's, so they decide nothing here; a Woodpecker step
// whose environment happens to carry GITLAB_CI still has CI=woodpecker, which
// GitLab never sets.
func isGitLab(getenv Getenv) bool {
	return getenv("GITLAB_CI") == "true" && getenv("CI") != "woodpecker"
}

// readGitLab reads GitLab's predefined CI_* variables, and the CI_BUILD_*
// names of GitLab 8.x where the current ones are missing.
func readGitLab(getenv Getenv, wd string) Context {
	c := Context{Name: "GitLab CI", Forge: ForgeGitLab}
	c.Event = first(getenv, "CI_PIPELINE_SOURCE")
	// In merged results pipelines CI_COMMIT_SHA is a merge commit GitLab made;
	// the merge request's own head is CI_MERGE_REQUEST_SOURCE_BRANCH_SHA.
	c.SHA = first(getenv, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "CI_COMMIT_SHA", "CI_BUILD_REF")
	mr := first(getenv, "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_ID")
	var src string
	switch ext := first(getenv, "CI_EXTERNAL_PULL_REQUEST_IID"); {
	case mr != "":
		c.PRNumber = mr
		src = first(getenv, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
		c.PRTargetBranch = first(getenv, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
		c.PRTitle = first(getenv, "CI_MERGE_REQUEST_TITLE")
		c.PRState = PROpen
		c.PRHeadSHA = first(getenv, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
		c.PRBaseSHA = first(getenv, "CI_MERGE_REQUEST_DIFF_BASE_SHA")
		if u := first(getenv, "CI_MERGE_REQUEST_PROJECT_URL"); u != "" {
			c.PRURL = u + "/-/merge_requests/" + mr
		}
		if src, dst := first(getenv, "CI_MERGE_REQUEST_SOURCE_PROJECT_ID"), first(getenv, "CI_MERGE_REQUEST_PROJECT_ID"); src != "" && dst != "" && src != dst {
			c.Untrusted = fmt.Sprintf("a merge request from the fork %s: its pipeline gets this project's variables only when a maintainer runs it in this project", cmp.Or(first(getenv, "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH"), "project "+src))
		}
	case ext != "":
		// A GitHub pull request built by a GitLab project mirroring it.
		c.PRNumber = ext
		src = first(getenv, "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME")
		c.PRTargetBranch = first(getenv, "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_NAME")
		c.PRState = PROpen
		c.PRHeadSHA = first(getenv, "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA")
		c.PRBaseSHA = first(getenv, "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_SHA")
	}
	c.Tag = first(getenv, "CI_COMMIT_TAG", "CI_BUILD_TAG")
	if c.Tag == "" {
		c.Branch = cmp.Or(src, first(getenv, "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME", "CI_BUILD_REF_NAME"))
	}
	c.CommitMessages = messages(message(getenv, "CI_COMMIT_MESSAGE"))
	if mr != "" {
		// CI_COMMIT_BEFORE_SHA is all zeros in merge request pipelines; the
		// diff's base is where the merge request's commits start.
		c.PreviousSHA = rangeStart(getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA"), c.SHA)
	} else {
		c.PreviousSHA = rangeStart(first(getenv, "CI_COMMIT_BEFORE_SHA", "CI_BUILD_BEFORE_SHA"), c.SHA)
	}

	c.RepoName = first(getenv, "CI_PROJECT_PATH")
	c.RepoURL = first(getenv, "CI_PROJECT_URL")
	if c.RepoURL == "" {
		c.RepoURL = WebURL(first(getenv, "CI_REPOSITORY_URL", "CI_BUILD_REPO"))
	}
	// The pipeline's number in the project (IID) increases from run to run;
	// GitLab 8.x only has the instance-wide id, which does too.
	if mr != "" && c.PRURL == "" {
		// (External pull requests live on GitHub, not in this project.)
		c.PRURL = pullRequestURL(ForgeGitLab, c.RepoURL, mr)
	}
	c.BuildNumber = first(getenv, "CI_PIPELINE_IID", "CI_PIPELINE_ID")
	// Each job is its own Jira pipeline (two jobs of one GitLab pipeline
	// share its number and would otherwise overwrite each other), so the link
	// is to the job.
	// parallel: N names its jobs "test 1/3", ...; parallel:matrix
	// "test: [a, b]": the job name already tells the axes apart. Where it
	// does not (a name set otherwise), CI_NODE_INDEX does.
	job := first(getenv, "CI_JOB_NAME", "CI_BUILD_NAME")
	if total, _ := strconv.Atoi(first(getenv, "CI_NODE_TOTAL")); total > 1 {
		if i := first(getenv, "CI_NODE_INDEX"); isDigits(i) {
			c.Axis = i + "/" + strconv.Itoa(total)
			if !strings.HasSuffix(job, " "+c.Axis) && !strings.Contains(job, "[") {
				job = strings.TrimSpace(job + " " + c.Axis)
			}
		}
	}
	c.PipelineID = pipelineKey(c.RepoName, job)
	c.PipelineName = pipelineLabel(c.RepoName, job)
	c.BuildURL = first(getenv, "CI_JOB_URL")
	if c.BuildURL == "" && c.RepoURL != "" {
		if id := first(getenv, "CI_JOB_ID"); id != "" {
			c.BuildURL = c.RepoURL + "/-/jobs/" + id
		} else if id := first(getenv, "CI_BUILD_ID"); id != "" {
			c.BuildURL = c.RepoURL + "/builds/" + id // GitLab 8.x
		}
	}
	if c.BuildURL == "" {
		c.BuildURL = first(getenv, "CI_PIPELINE_URL")
	}
	// In after_script: success, failed or canceled. During script: it is
	// running; GitLab stops a job's script at its first failing command, so
	// a step that runs there has seen every earlier command succeed: the
	// status so far is success, as Drone and Woodpecker report it.
	c.Status = first(getenv, "CI_JOB_STATUS")
	if c.Status == "running" {
		c.Status = "success"
	}
	// Jobs whose environment action is prepare, verify, access or stop do not
	// deploy (GitLab records no deployment for them either).
	switch first(getenv, "CI_ENVIRONMENT_ACTION") {
	case "", "start":
		c.Environment = first(getenv, "CI_ENVIRONMENT_NAME")
		if c.Environment != "" {
			c.EnvironmentType = gitlabTier(first(getenv, "CI_ENVIRONMENT_TIER"))
		}
	}
	if c.Untrusted == "" && first(getenv, "CI_COMMIT_REF_PROTECTED") == "false" {
		c.Untrusted = fmt.Sprintf("the unprotected ref %s: GitLab gives protected variables to protected branches and tags only", cmp.Or(first(getenv, "CI_COMMIT_REF_NAME"), c.Branch, c.Tag))
	}
	c.Workspace = first(getenv, "CI_PROJECT_DIR")
	if c.Workspace == "" {
		c.Workspace = wd
	}
	return c
}

// gitlabTier maps GitLab's deployment tier onto Jira's environment types.
// "other" is what GitLab infers for a name it does not recognise; "" lets the
// name be inferred here instead.
func gitlabTier(tier string) string {
	switch t := strings.ToLower(tier); t {
	case "production", "staging", "testing", "development":
		return t
	}
	return ""
}
