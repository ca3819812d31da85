package cienv

import (
	"testing"
)

// The environments real runner programs gave a step (testdata/env/real, see
// its README): the repository's branch feature/ABC-12-thing, HEAD
// "ABC-13 fix the thing\n\nBody mentions OPS-7 too".
const realMessage = "ABC-13 fix the thing\n\nBody mentions OPS-7 too"

func TestRealWoodpecker(t *testing.T) {
	const sha = "af22212496642c70878ce84088b94c899bdc8976"
	push := Context{
		CI: CIWoodpecker, Name: "Woodpecker", SHA: sha, Branch: "feature/ABC-12-thing",
		CommitMessages: []string{realMessage}, Event: "push",
		BuildNumber: "42", BuildURL: "http://127.0.0.1:8000/repos/7/pipeline/42",
		RepoName: "acme/widgets", RepoURL: "http://127.0.0.1:3000/acme/widgets",
		PipelineID: "acme/widgets/woodpecker", PipelineName: "acme/widgets",
		Status: "success", Workspace: "$WORK/repo",
		Forge: ForgeGitea, RepoID: "127.0.0.1_3a3000~acme~widgets",
	}
	failed := push
	failed.Status = "failure"
	// The previous pipeline built the same ref: the range starts there.
	prev := push
	prev.PreviousSHA, prev.BuildNumber, prev.BuildURL = "3c7b9663c411c73aa8b2669aa13f68357fc4f49a", "43", "http://127.0.0.1:8000/repos/7/pipeline/43"
	// The second axis of a two-axis matrix: its own pipeline.
	matrix := push
	matrix.PipelineID, matrix.PipelineName, matrix.Axis = "acme/widgets/woodpecker/2", "acme/widgets (workflow 2)", "2"
	deploy := push
	deploy.Branch, deploy.Event, deploy.Environment = "main", "deployment", "production"
	// On a pull request CI_COMMIT_MESSAGE is the title; the commits'
	// messages come from git.
	pr := push
	pr.Event, pr.PRNumber, pr.PRTargetBranch, pr.PRTitle, pr.CommitMessages = "pull_request", "5", "main", "Merge ABC-13 work", nil
	pr.PRState, pr.PRAuthor, pr.PRHeadSHA = PROpen, "dev", sha
	pr.PRURL = "http://127.0.0.1:3000/acme/widgets/pulls/5"
	pr.Untrusted = "a pull request pipeline: Woodpecker gives a secret to pull requests only when the secret allows it"
	tag := push
	tag.Branch, tag.Tag, tag.Event, tag.CommitMessages = "", "v1.0.0", "tag", []string{"ABC-13 fix the thing"}
	// Gitea releases come with no message at all.
	release := tag
	release.Event, release.CommitMessages = "release", nil

	for file, want := range map[string]Context{
		"woodpecker-3.17-push.env": push, "woodpecker-3.17-lists-secret.env": push, "woodpecker-3.17-fail.env": failed,
		"woodpecker-3.17-push-prev.env": prev, "woodpecker-3.17-matrix.env": matrix, "woodpecker-3.17-deploy.env": deploy,
		"woodpecker-3.17-pr.env": pr, "woodpecker-3.17-tag.env": tag, "woodpecker-3.17-release-gitea.env": release,
	} {
		checkContext(t, file, Detect(envOf(t, "real/"+file), "/wd"), want)
	}
	// The two axes of the matrix never share a pipeline.
	if a, b := Detect(envOf(t, "real/woodpecker-3.17-push.env"), ""), Detect(envOf(t, "real/woodpecker-3.17-matrix.env"), ""); a.PipelineID == b.PipelineID {
		t.Errorf("two axes, one pipeline %q", a.PipelineID)
	}
}

func TestRealDrone(t *testing.T) {
	push := Context{
		CI: CIDrone, Name: "Drone", SHA: "a96a4ec72cf372829158e1535490548a46f95972", Branch: "feature/ABC-12-thing",
		CommitMessages: []string{realMessage}, PreviousSHA: "11329990fe00768b8c4734d0491b0258b02d20ec", Event: "push",
		BuildNumber: "42", BuildURL: "http://127.0.0.1:8080/acme/widgets/42",
		RepoName: "acme/widgets", RepoURL: "http://127.0.0.1:3000/acme/widgets",
		PipelineID: "acme/widgets/default", PipelineName: "acme/widgets", Status: "success",
		// Drone names no forge, and 127.0.0.1 says none.
		RepoID: "127.0.0.1_3a3000~acme~widgets",
	}
	with := func(c Context, workspace string) Context {
		c.Workspace = "$WORK/root/drone-" + workspace + "/drone/src"
		return c
	}
	failed := push
	failed.Status = "failure"
	zero := push
	zero.PreviousSHA = "" // DRONE_COMMIT_BEFORE all zeros: a new branch
	stage := push
	stage.PipelineID, stage.PipelineName = "acme/widgets/deploy-eu", "acme/widgets (deploy-eu)"
	promote := push
	promote.Event, promote.BuildNumber, promote.BuildURL, promote.Environment = "promote", "43", "http://127.0.0.1:8080/acme/widgets/43", "production"
	promote.PreviousSHA = ""
	pr := push
	pr.Event, pr.PRNumber, pr.PRTargetBranch, pr.CommitMessages = "pull_request", "5", "main", []string{"ABC-13 fix the thing"}
	pr.PreviousSHA, pr.PRState, pr.PRAuthor, pr.PRAuthorName = "ee36fa7ccc3e14d414c692dc7264dc0253817a8c", PROpen, "dev", "Dev"
	pr.PRHeadSHA = pr.SHA
	pr.Untrusted = "a pull request build: Drone gives a secret to pull requests only when the secret allows it"
	tag := push
	tag.Branch, tag.Tag, tag.Event, tag.PreviousSHA, tag.CommitMessages = "", "v1.0.0", "tag", "", []string{"ABC-13 fix the thing"}

	for _, tt := range []struct {
		file, workspace string
		want            Context
	}{
		{"drone-runner-exec-push.env", "JuTOQ2S4uCIMsXWn", push},
		{"drone-runner-exec-fail.env", "Ab0A4BuEw44Eclfn", failed},
		{"drone-runner-exec-push-zero.env", "3fRyDC2UgzN2c8Qh", zero},
		{"drone-runner-exec-stage.env", "PLXd1nB6ZpuSkBU3", stage},
		{"drone-runner-exec-promote.env", "FrbZ682G56M89gb3", promote},
		{"drone-runner-exec-pr.env", "GUzuHhGhW8idgM64", pr},
		{"drone-runner-exec-tag.env", "2ln6QmbcpOSsWtbW", tag},
	} {
		checkContext(t, tt.file, Detect(envOf(t, "real/"+tt.file), "/wd"), with(tt.want, tt.workspace))
	}
}

func TestRealGitLab(t *testing.T) {
	// exec mode: no project path or URL, no pipeline number or link, no
	// message. CI_JOB_STATUS is "running" in script: the status so far.
	plain := Context{
		CI: CIGitLab, Name: "GitLab CI", SHA: "de81359aff84ef37ac165ee39d4275e2d14837bd", Branch: "feature/ABC-12-x",
		PreviousSHA: "7d1a42975237b120294f9d055471606c3f0f5d99",
		PipelineID:  "deploy-prod", PipelineName: "deploy-prod", Status: "success",
		Workspace: "$WORK/builds/0/project-0", Forge: ForgeGitLab,
	}
	server := Context{
		CI: CIGitLab, Name: "GitLab CI", SHA: "80f9e8f2c179a0a102e4a2c1f15751b0d1cf75f3", Branch: "feature/ABC-12-x",
		CommitMessages: []string{"ABC-13"}, PreviousSHA: "0d15f1fac3c30a2470136c0cd68d0a1606ee9156", Event: "push",
		BuildNumber: "12", BuildURL: "https://gitlab.example.com/grp/proj/-/jobs/1",
		RepoName: "grp/proj", RepoURL: "https://gitlab.example.com/grp/proj",
		PipelineID: "grp/proj/deploy-prod", PipelineName: "grp/proj (deploy-prod)", Status: "success",
		Environment: "production", EnvironmentType: "production", Workspace: "$WORK/builds/0/project-0",
		Forge: ForgeGitLab, RepoID: "gitlab.example.com~grp~proj",
	}
	checkContext(t, "plain", Detect(envOf(t, "real/gitlab-runner-16.10-exec-plain.env"), "/wd"), plain)
	checkContext(t, "server-vars", Detect(envOf(t, "real/gitlab-runner-16.10-exec-server-vars.env"), "/wd"), server)
	// after_script gets the job's result.
	c := Detect(envOf(t, "real/gitlab-runner-16.10-exec-server-vars.env", "CI_JOB_STATUS=failed"), "/wd")
	if c.Status != "failed" {
		t.Errorf("after_script status %q", c.Status)
	}
}
