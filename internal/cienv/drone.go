package cienv

// isDrone: Drone sets DRONE=true in every step. Woodpecker exports many of
// Drone's DRONE_* names for Drone plugins but never DRONE=true (and is tried
// first); Drone 0.8 also sets CI_* names and CI=drone, which no other adapter
// claims.
func isDrone(getenv Getenv) bool { return getenv("DRONE") == "true" }

// readDrone reads Drone's DRONE_* variables (Drone 1.x and 2.x; Drone 0.8 had
// the same names for everything read here).
func readDrone(getenv Getenv, wd string) Context {
	c := Context{Name: "Drone"}
	c.Event = first(getenv, "DRONE_BUILD_EVENT")
	c.SHA = first(getenv, "DRONE_COMMIT_SHA", "DRONE_COMMIT", "DRONE_COMMIT_AFTER")
	c.Tag = first(getenv, "DRONE_TAG")
	if c.Tag == "" {
		c.Tag = tagFromRef(first(getenv, "DRONE_COMMIT_REF"))
	}
	c.PRNumber = first(getenv, "DRONE_PULL_REQUEST")
	pr := c.PRNumber != "" || c.Event == "pull_request"
	if pr {
		c.PRTargetBranch = first(getenv, "DRONE_TARGET_BRANCH")
	}
	if c.Tag == "" {
		// On pull requests DRONE_BRANCH and DRONE_COMMIT_BRANCH are the
		// target branch; the PR's own branch is DRONE_SOURCE_BRANCH.
		c.Branch = first(getenv, "DRONE_COMMIT_BRANCH", "DRONE_BRANCH")
		if src := first(getenv, "DRONE_SOURCE_BRANCH"); pr && src != "" {
			c.Branch = src
		}
	}
	c.PRTitle = first(getenv, "DRONE_PULL_REQUEST_TITLE")
	if pr {
		c.PRState = PROpen
		// On pull requests Drone's commit author is the pull request's.
		c.PRAuthor = first(getenv, "DRONE_COMMIT_AUTHOR")
		c.PRAuthorName = first(getenv, "DRONE_COMMIT_AUTHOR_NAME")
		// Drone names no fork: secrets reach pull requests only where the
		// secret allows pull requests.
		c.Untrusted = "a pull request build: Drone gives a secret to pull requests only when the secret allows it"
	}
	c.CommitMessages = messages(message(getenv, "DRONE_COMMIT_MESSAGE"))
	// DRONE_COMMIT_BEFORE is the push's "before" (the PR's base on pull
	// requests). Promotions and rollbacks carry the original build's, which
	// says nothing about what this deployment adds.
	switch c.Event {
	case "push", "pull_request", "":
		c.PreviousSHA = rangeStart(getenv("DRONE_COMMIT_BEFORE"), c.SHA)
	}

	c.RepoName = first(getenv, "DRONE_REPO")
	if c.RepoName == "" {
		c.RepoName = joinRepo(first(getenv, "DRONE_REPO_NAMESPACE", "DRONE_REPO_OWNER"), first(getenv, "DRONE_REPO_NAME"))
	}
	c.RepoURL = first(getenv, "DRONE_REPO_LINK")
	if c.RepoURL == "" {
		c.RepoURL = WebURL(first(getenv, "DRONE_GIT_HTTP_URL", "DRONE_REMOTE_URL"))
	}
	c.PRURL = pullRequestURL("", c.RepoURL, c.PRNumber)
	c.BuildNumber = first(getenv, "DRONE_BUILD_NUMBER")
	c.BuildURL = first(getenv, "DRONE_BUILD_LINK")
	if c.BuildURL == "" && c.RepoName != "" && c.BuildNumber != "" {
		// The link Drone itself builds: {proto}://{host}/{repo}/{number}.
		if host := first(getenv, "DRONE_SYSTEM_HOST"); host != "" {
			proto := first(getenv, "DRONE_SYSTEM_PROTO")
			if proto == "" {
				proto = "https"
			}
			c.BuildURL = proto + "://" + host + "/" + c.RepoName + "/" + c.BuildNumber
		}
	}
	// One Jira pipeline per Drone pipeline (stage) of the repository: the
	// stage name is the same on every build, and Drone rejects a
	// configuration whose pipelines share a name, so the stages of one
	// build never share an id.
	stage := first(getenv, "DRONE_STAGE_NAME")
	c.PipelineID = pipelineKey(c.RepoName, stage)
	c.PipelineName = pipelineLabel(c.RepoName, stage, "default")
	// The stage's status is this pipeline's; the build's also counts other
	// stages running in parallel. Both turn to failure once a step failed.
	c.Status = first(getenv, "DRONE_STAGE_STATUS", "DRONE_BUILD_STATUS")
	c.Environment = first(getenv, "DRONE_DEPLOY_TO")
	c.Workspace = first(getenv, "DRONE_WORKSPACE")
	if c.Workspace == "" {
		c.Workspace = wd
	}
	c.DroneCardPath = first(getenv, "DRONE_CARD_PATH")
	return c
}
