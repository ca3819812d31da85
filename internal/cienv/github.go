package cienv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

func isGitHub(getenv Getenv) bool { return getenv("GITHUB_ACTIONS") == "true" }

// readGitHub reads the runner's GITHUB_* variables and the event payload at
// GITHUB_EVENT_PATH, through go-githubactions.
func readGitHub(getenv Getenv, wd string) Context {
	c := Context{Name: "GitHub Actions"}
	gh, err := githubactions.New(githubactions.WithGetenv(func(k string) string { return getenv(k) })).Context()
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("could not read the GitHub context (%v); keys come from the branch and issue_keys only", err))
		gh = &githubactions.GitHubContext{ServerURL: "https://github.com"}
	} else if gh.EventPath != "" && gh.Event == nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the event payload %s is missing; keys come from the branch and issue_keys only", gh.EventPath))
	}
	c.Event = gh.EventName
	c.SHA = gh.SHA
	switch gh.RefType {
	case "tag":
		c.Tag = gh.RefName
	case "branch":
		c.Branch = gh.RefName
	default:
		if t, ok := strings.CutPrefix(gh.Ref, "refs/tags/"); ok {
			c.Tag = t
		} else if b, ok := strings.CutPrefix(gh.Ref, "refs/heads/"); ok {
			c.Branch = b
		}
	}

	ev := gh.Event
	if pr, ok := ev["pull_request"].(map[string]any); ok {
		c.PRNumber = jsonNumber(pr["number"])
		c.PRTitle, _ = pr["title"].(string)
		if head, ok := pr["head"].(map[string]any); ok {
			if ref, _ := head["ref"].(string); ref != "" {
				c.Branch = ref
			}
			// GITHUB_SHA is a merge commit on pull_request events; Jira should
			// show the PR's own head commit.
			if sha, _ := head["sha"].(string); sha != "" {
				c.SHA = sha
			}
		}
		if base, ok := pr["base"].(map[string]any); ok {
			c.PRTargetBranch, _ = base["ref"].(string)
		}
	}
	if gh.HeadRef != "" {
		c.Branch = gh.HeadRef
		c.PRTargetBranch = gh.BaseRef
	}
	if hc, ok := ev["head_commit"].(map[string]any); ok {
		if m, _ := hc["message"].(string); m != "" {
			c.CommitMessages = append(c.CommitMessages, m)
		}
	}
	// The push's commits, oldest first in the payload: newest first here.
	if commits, ok := ev["commits"].([]any); ok {
		for i := len(commits) - 1; i >= 0; i-- {
			if cm, ok := commits[i].(map[string]any); ok {
				if m, _ := cm["message"].(string); m != "" && !contains(c.CommitMessages, m) {
					c.CommitMessages = append(c.CommitMessages, m)
				}
			}
		}
	}
	if c.Event == "push" {
		before, _ := ev["before"].(string)
		c.PreviousSHA = noZero(before)
	}

	server := strings.TrimRight(gh.ServerURL, "/")
	c.RepoName = gh.Repository
	if c.RepoName != "" {
		c.RepoURL = server + "/" + c.RepoName
	}
	if gh.RunNumber > 0 {
		c.BuildNumber = strconv.FormatInt(gh.RunNumber, 10)
	}
	if gh.RunID > 0 && c.RepoURL != "" {
		c.BuildURL = fmt.Sprintf("%s/actions/runs/%d", c.RepoURL, gh.RunID)
	}
	c.PipelineName = gh.Workflow
	// GITHUB_WORKFLOW_REF is owner/repo/.github/workflows/file.yml@ref: the
	// file path stays the same across runs and branches; the ref does not.
	if wr, _, _ := strings.Cut(getenv("GITHUB_WORKFLOW_REF"), "@"); wr != "" {
		c.PipelineID = wr
	} else if c.RepoName != "" && c.PipelineName != "" {
		c.PipelineID = c.RepoName + "/" + c.PipelineName
	}
	c.GitHubOutput = getenv("GITHUB_OUTPUT")
	c.GitHubStepSummary = gh.StepSummary
	c.Workspace = gh.Workspace
	if c.Workspace == "" {
		c.Workspace = wd
	}
	return c
}

func jsonNumber(v any) string {
	switch n := v.(type) {
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	case string:
		return n
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
