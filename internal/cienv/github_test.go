package cienv

import (
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

// testdata returns the path of a file in the project's testdata folder.
func testdata(t *testing.T, parts ...string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", "testdata"}, parts...)...)
}

func githubEnv(t *testing.T, event, payload string, extra ...string) Getenv {
	env := []string{
		"GITHUB_ACTIONS=true",
		"GITHUB_EVENT_NAME=" + event,
		"GITHUB_EVENT_PATH=" + testdata(t, "github", payload),
		"GITHUB_SHA=ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		"GITHUB_REPOSITORY=Codertocat/Hello-World",
		"GITHUB_SERVER_URL=https://github.com",
		"GITHUB_RUN_ID=1658821493",
		"GITHUB_RUN_NUMBER=42",
		"GITHUB_WORKFLOW=CI",
		"GITHUB_WORKFLOW_REF=Codertocat/Hello-World/.github/workflows/ci.yml@refs/heads/master",
		"GITHUB_WORKSPACE=/github/workspace",
		"GITHUB_OUTPUT=/github/file_commands/out",
		"GITHUB_STEP_SUMMARY=/github/file_commands/summary",
	}
	return FromEnviron(append(env, extra...))
}

func TestGitHubPush(t *testing.T) {
	c := Detect(githubEnv(t, "push", "push-with-keys.json", "GITHUB_REF=refs/heads/feature/OPS-7-deploy",
		"GITHUB_REF_NAME=feature/OPS-7-deploy", "GITHUB_REF_TYPE=branch"), "/elsewhere")
	if c.CI != CIGitHub || c.Branch != "feature/OPS-7-deploy" || c.Tag != "" {
		t.Errorf("ci/branch/tag = %q %q %q", c.CI, c.Branch, c.Tag)
	}
	wantMsgs := []string{"GHI-3: last change\n\nAlso ABC-1", "Fix 2022-02 report for DEF-2", "ABC-1 first change"}
	if !reflect.DeepEqual(c.CommitMessages, wantMsgs) {
		t.Errorf("messages = %q, want newest first %q", c.CommitMessages, wantMsgs)
	}
	if c.PreviousSHA != "6113728f27ae82c7b1a177c8d03f9e96e0adf246" {
		t.Errorf("previous = %q", c.PreviousSHA)
	}
	if c.BuildNumber != "42" || c.BuildURL != "https://github.com/Codertocat/Hello-World/actions/runs/1658821493" {
		t.Errorf("build = %q %q", c.BuildNumber, c.BuildURL)
	}
	if c.PipelineID != "Codertocat/Hello-World/.github/workflows/ci.yml" || c.PipelineName != "CI" {
		t.Errorf("pipeline = %q %q", c.PipelineID, c.PipelineName)
	}
	if c.RepoURL != "https://github.com/Codertocat/Hello-World" || c.Workspace != "/github/workspace" {
		t.Errorf("repo/workspace = %q %q", c.RepoURL, c.Workspace)
	}
	if c.GitHubOutput != "/github/file_commands/out" || c.GitHubStepSummary != "/github/file_commands/summary" {
		t.Errorf("report targets = %q %q", c.GitHubOutput, c.GitHubStepSummary)
	}
}

func TestGitHubNewBranchHasNoPrevious(t *testing.T) {
	c := Detect(githubEnv(t, "push", "github-push-new-branch.json", "GITHUB_REF_NAME=master", "GITHUB_REF_TYPE=branch"), "")
	if c.PreviousSHA != "" {
		t.Errorf("all-zero before must mean none, got %q", c.PreviousSHA)
	}
	if !reflect.DeepEqual(c.CommitMessages, []string{"Initial commit"}) {
		t.Errorf("messages = %q", c.CommitMessages)
	}
}

func TestGitHubTag(t *testing.T) {
	c := Detect(githubEnv(t, "push", "github-push.json", "GITHUB_REF=refs/tags/simple-tag", "GITHUB_REF_NAME=simple-tag", "GITHUB_REF_TYPE=tag"), "")
	if c.Tag != "simple-tag" || c.Branch != "" || len(c.CommitMessages) != 0 {
		t.Errorf("tag %q branch %q messages %q", c.Tag, c.Branch, c.CommitMessages)
	}
}

func TestGitHubPullRequest(t *testing.T) {
	c := Detect(githubEnv(t, "pull_request", "pr-with-keys.json", "GITHUB_REF=refs/pull/2/merge",
		"GITHUB_REF_NAME=2/merge", "GITHUB_HEAD_REF=feature/abc-12-readme", "GITHUB_BASE_REF=master"), "")
	if c.PRNumber != "2" || c.PRTitle != "PRJ-9 Update the README with new information." {
		t.Errorf("pr = %q %q", c.PRNumber, c.PRTitle)
	}
	if c.Branch != "feature/abc-12-readme" || c.PRTargetBranch != "master" {
		t.Errorf("branch = %q target %q", c.Branch, c.PRTargetBranch)
	}
	if c.SHA != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" {
		t.Errorf("sha = %q; want the PR head sha", c.SHA)
	}
	if c.PreviousSHA != "" {
		t.Errorf("a pull request has no push range, got %q", c.PreviousSHA)
	}
}

func TestGitHubMissingEventIsAWarning(t *testing.T) {
	c := Detect(FromEnviron([]string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_PATH=/no/such/file.json", "GITHUB_REF_NAME=main", "GITHUB_REF_TYPE=branch"}), "")
	if c.CI != CIGitHub || c.Branch != "main" || len(c.Warnings) != 1 {
		t.Errorf("ci %q branch %q warnings %q", c.CI, c.Branch, c.Warnings)
	}
}

func TestWebURL(t *testing.T) {
	for in, want := range map[string]string{
		"git@github.com:acme/app.git":                "https://github.com/acme/app",
		"ssh://git@bitbucket.org:22/acme/app.git":    "https://bitbucket.org/acme/app",
		"https://x-access-token:tok@github.com/a/b":  "https://github.com/a/b",
		"https://gitlab.example.com/group/sub/p.git": "https://gitlab.example.com/group/sub/p",
		"/srv/git/app.git":                           "",
		"":                                           "",
	} {
		if got := WebURL(in); got != want {
			t.Errorf("WebURL(%q) = %q, want %q", in, got, want)
		}
	}
}
