package cienv

import (
	"testing"
)

func TestWoodpecker(t *testing.T) {
	// Woodpecker 2.7.0 (the dump has CI_SYSTEM_NAME but no CI line).
	push := Context{
		CI: CIWoodpecker, Name: "Woodpecker",
		SHA: "8826c98181353075bbeee8f99b400496488e3523", Branch: "main",
		CommitMessages: []string{"revert 9b2aed1392fc097ef7b027712977722fb004d463"},
		// CI_PREV_COMMIT_SHA is this very commit (pipeline 23 built it too).
		PreviousSHA: "", Event: "push",
		BuildNumber: "24", BuildURL: "http://1.2.3.4:8000/repos/2/pipeline/24",
		RepoName: "test/woodpecker-test", RepoURL: "http://1.2.3.4:3000/test/woodpecker-test",
		PipelineID: "test/woodpecker-test/woodpecker", PipelineName: "test/woodpecker-test",
		Status: "success", Workspace: "/usr/local/src/1.2.3.4/test/woodpecker-test",
		Forge: ForgeGitea, RepoID: "1.2.3.4_3a3000~test~woodpecker-test",
	}
	failed := push
	failed.Status = "failure"
	current := push // today's variables: no status
	current.Status = ""
	deploy := current
	deploy.Event, deploy.Environment, deploy.BuildNumber = "deployment", "production", "25"
	deploy.BuildURL = "http://1.2.3.4:8000/repos/2/pipeline/25"
	tag := current
	tag.Event, tag.Tag, tag.Branch = "tag", "v1.2.3", ""
	prCurrent := Context{
		CI: CIWoodpecker, Name: "Woodpecker",
		SHA: "a778b069d9f5992786d2db9be493b43868cfce76", Branch: "fix_fail-on-err",
		// On pull requests CI_COMMIT_MESSAGE is the pull request's title.
		PRNumber: "9", PRTargetBranch: "main", PRTitle: "fix testscript", PRState: PROpen,
		PRHeadSHA: "a778b069d9f5992786d2db9be493b43868cfce76", PRURL: "https://codeberg.org/Epsilon_02/todo-checker/pulls/9",
		Untrusted: "a pull request pipeline: Woodpecker gives a secret to pull requests only when the secret allows it",
		// The previous pipeline of main was pull request 13: another ref.
		PreviousSHA: "", Event: "pull_request", BuildNumber: "41",
		RepoName: "Epsilon_02/todo-checker", RepoURL: "https://codeberg.org/Epsilon_02/todo-checker",
		PipelineID: "Epsilon_02/todo-checker/woodpecker", PipelineName: "Epsilon_02/todo-checker",
		Workspace: "/woodpecker/src/codeberg.org/Epsilon_02/todo-checker",
		Forge:     ForgeGitea, RepoID: "codeberg.org~epsilon_5f02~todo-checker",
	}
	// 1.x: legacy names; the run's link is built from CI_SYSTEM_LINK, since
	// CI_PIPELINE_LINK was the forge's pull request page.
	prLegacy := prCurrent
	prLegacy.Status = "success"
	prLegacy.BuildURL = "https://ci.codeberg.org/Epsilon_02/todo-checker/pipeline/41"

	tests := []struct {
		file  string
		extra []string
		want  Context
	}{
		{"woodpecker-push.env", nil, push},
		{"woodpecker-push-failed.env", nil, failed},
		{"woodpecker-push-current.env", nil, current},
		{"woodpecker-deploy.env", nil, deploy},
		{"woodpecker-tag.env", nil, tag},
		{"woodpecker-pr-current.env", nil, prCurrent},
		{"woodpecker-pr.env", nil, prLegacy},
		{"woodpecker-pr-drone-compat.env", nil, prLegacy},
		{"woodpecker-push-envci.env", nil, Context{
			CI: CIWoodpecker, Name: "Woodpecker", SHA: "5678", Tag: "tag_name",
			BuildNumber: "91011", BuildURL: "https://woodpecker-ci.example.com/owner/repo/91011",
			RepoName: "owner/repo", PipelineID: "owner/repo", PipelineName: "owner/repo",
			Workspace: "/woodpecker/src/github.com/owner/repo",
		}},
	}
	for _, tt := range tests {
		checkContext(t, tt.file, Detect(envOf(t, tt.file, tt.extra...), "/wd"), tt.want)
	}
}

func TestWoodpeckerPreviousPipeline(t *testing.T) {
	const older = "9b2aed1392fc097ef7b027712977722fb004d463"
	tests := []struct {
		name, file string
		extra      []string
		want       string
	}{
		{"push after a push of another commit on the branch", "woodpecker-push-current.env",
			[]string{"CI_PREV_COMMIT_SHA=" + older}, older},
		{"previous pipeline on another ref", "woodpecker-push-current.env",
			[]string{"CI_PREV_COMMIT_SHA=" + older, "CI_PREV_COMMIT_REF=refs/heads/other"}, ""},
		{"a new push to the same pull request", "woodpecker-pr-current.env",
			[]string{"CI_PREV_COMMIT_SHA=" + older, "CI_PREV_COMMIT_REF=refs/pull/9/head"}, older},
		{"another pull request into the same target", "woodpecker-pr-current.env", nil, ""},
		{"deployment after a push", "woodpecker-deploy.env", []string{"CI_PREV_COMMIT_SHA=" + older}, ""},
		{"deployment after a deployment to the same target", "woodpecker-deploy.env",
			[]string{"CI_PREV_COMMIT_SHA=" + older, "CI_PREV_PIPELINE_EVENT=deployment", "CI_PREV_PIPELINE_DEPLOY_TARGET=production"}, older},
		{"deployment after a deployment elsewhere", "woodpecker-deploy.env",
			[]string{"CI_PREV_COMMIT_SHA=" + older, "CI_PREV_PIPELINE_EVENT=deployment", "CI_PREV_PIPELINE_DEPLOY_TARGET=staging"}, ""},
		{"no previous pipeline", "woodpecker-push-current.env",
			[]string{"CI_PREV_COMMIT_SHA", "CI_PREV_COMMIT_REF"}, ""},
	}
	for _, tt := range tests {
		c := Detect(envOf(t, tt.file, tt.extra...), "")
		if c.PreviousSHA != tt.want {
			t.Errorf("%s: previous = %q, want %q", tt.name, c.PreviousSHA, tt.want)
		}
		// CI_PREV_* never leak into this run's own fields.
		if c.SHA == older || c.BuildNumber == "23" || c.BuildNumber == "40" {
			t.Errorf("%s: this run's fields came from the previous pipeline: %+v", tt.name, c)
		}
	}
}

func TestWoodpeckerSubsetsAndLegacyNames(t *testing.T) {
	// A release (CI=wp: the system name of that upstream test).
	c := readWoodpecker(envOf(t, "woodpecker-release.env"), "/wd")
	if c.Tag != "v1.2.3" || c.Event != "release" || c.Branch != "" || c.PRTargetBranch != "" {
		t.Errorf("release: %+v", c)
	}
	// 0.15-era names only: CI_COMMIT, CI_BUILD_*, and a refspec.
	c = readWoodpecker(FromEnviron([]string{
		"CI=woodpecker", "CI_COMMIT=abc123", "CI_BUILD_NUMBER=7", "CI_BUILD_EVENT=pull_request", "CI_BUILD_STATUS=failure",
		"CI_BUILD_DEPLOY_TARGET=", "CI_COMMIT_PULL_REQUEST=5", "CI_COMMIT_REFSPEC=topic/ABC-1:main", "CI_COMMIT_BRANCH=main",
		"CI_REPO=o/r", "CI_SYSTEM_LINK=https://ci.example.com/",
	}), "/wd")
	if c.SHA != "abc123" || c.BuildNumber != "7" || c.Status != "failure" || c.Branch != "topic/ABC-1" || c.PRTargetBranch != "main" ||
		c.BuildURL != "https://ci.example.com/o/r/build/7" || c.Workspace != "/wd" {
		t.Errorf("legacy: %+v", c)
	}
	// A named workflow is part of the pipeline's id and name.
	c = Detect(envOf(t, "woodpecker-push-current.env", "CI_WORKFLOW_NAME=deploy"), "")
	if c.PipelineID != "test/woodpecker-test/deploy" || c.PipelineName != "test/woodpecker-test (deploy)" {
		t.Errorf("workflow: %q %q", c.PipelineID, c.PipelineName)
	}
}
