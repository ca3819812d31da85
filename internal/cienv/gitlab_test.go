package cienv

import (
	"testing"
)

func TestGitLab(t *testing.T) {
	// GitLab 11.4: CI_COMMIT_REF_NAME, no CI_COMMIT_BRANCH yet.
	push := Context{
		CI: CIGitLab, Name: "GitLab CI",
		SHA: "5d25f4849bbd812e4e64e78d4aaa94a72e6cab5c", Branch: "test-gitlab",
		CommitMessages: []string{"Test Gitlab CI"}, PreviousSHA: "faaf3a986cf77f46a40af16186a31f2c54737eae", Event: "push",
		BuildNumber: "5", BuildURL: "https://gitlab.com/OndraM/ci-detector/-/jobs/111560648",
		RepoName: "OndraM/ci-detector", RepoURL: "https://gitlab.com/OndraM/ci-detector",
		PipelineID: "OndraM/ci-detector/job1", PipelineName: "OndraM/ci-detector (job1)",
		Workspace: "/builds/OndraM/ci-detector",
		Forge:     ForgeGitLab, RepoID: "gitlab.com~ondram~ci-detector",
	}
	failed := push
	failed.Status = "failed"
	deploy := push
	deploy.BuildURL = "https://gitlab.com/OndraM/ci-detector/-/jobs/111560700"
	deploy.PipelineID, deploy.PipelineName = "OndraM/ci-detector/deploy", "OndraM/ci-detector (deploy)"
	deploy.Environment, deploy.EnvironmentType = "eu-west", "production" // the tier, not the name
	mr := push
	mr.Event, mr.PRNumber, mr.PRTargetBranch, mr.PRTitle = "merge_request_event", "7", "master", "Test Gitlab CI"
	mr.PreviousSHA = "faaf3a986cf77f46a40af16186a31f2c54737eae" // the diff's base; CI_COMMIT_BEFORE_SHA is all zeros
	mr.PRState, mr.PRBaseSHA, mr.PRHeadSHA = PROpen, mr.PreviousSHA, mr.SHA
	mr.PRURL = "https://gitlab.com/OndraM/ci-detector/-/merge_requests/7"
	legacy := Context{
		CI: CIGitLab, Name: "GitLab CI",
		SHA: "1e50d546a67287e3111707283eb28bfff50584a9", Branch: "test-gitlab",
		PreviousSHA: "", // CI_BUILD_BEFORE_SHA is the commit itself
		BuildNumber: "3993609", BuildURL: "https://gitlab.com/foo/bar/builds/3265050",
		RepoName: "foo/bar", RepoURL: "https://gitlab.com/foo/bar",
		PipelineID: "foo/bar/job1", PipelineName: "foo/bar (job1)", Workspace: "/builds/OndraM/ci-detector",
		Forge: ForgeGitLab, RepoID: "gitlab.com~foo~bar",
	}
	legacyMR := legacy
	legacyMR.PRNumber, legacyMR.PRTargetBranch, legacyMR.PRState, legacyMR.PRHeadSHA = "43", "main", PROpen, legacy.SHA
	// A GitHub pull request GitLab builds: its page is on GitHub.
	legacyExt := legacyMR
	legacyMR.PRURL = "https://gitlab.com/foo/bar/-/merge_requests/43"

	tests := []struct {
		file  string
		extra []string
		want  Context
	}{
		{"gitlab-push.env", nil, push},
		{"gitlab-push-failed.env", nil, failed},
		{"gitlab-deploy.env", nil, deploy},
		{"gitlab-mr.env", nil, mr},
		{"gitlab-push-legacy.env", nil, legacy},
		{"gitlab-pr.env", nil, legacyMR},
		{"gitlab-pr-external.env", nil, legacyExt},
		// The docs' example: tag 1.0.0 (its CI_COMMIT_REF_NAME=master is
		// ignored for a tag); no CI_JOB_URL, so the job's link from its id.
		{"gitlab-tag-job.env", nil, Context{
			CI: CIGitLab, Name: "GitLab CI",
			SHA: "1ecfd275763eff1d6b4844ea3168962458c9f27a", Tag: "1.0.0",
			BuildNumber: "10", BuildURL: "https://example.com/gitlab-org/gitlab-foss/-/jobs/50",
			RepoName: "gitlab-org/gitlab-foss", RepoURL: "https://example.com/gitlab-org/gitlab-foss",
			PipelineID: "gitlab-org/gitlab-foss/spec:other", PipelineName: "gitlab-org/gitlab-foss (spec:other)",
			Workspace: "/builds/gitlab-org/gitlab-foss",
			Forge:     ForgeGitLab, RepoID: "example.com~gitlab-org~gitlab-foss",
		}},
		{"gitlab-pr-envci.env", nil, Context{
			CI: CIGitLab, Name: "GitLab CI", SHA: "5678", Tag: "tag_name",
			PRNumber: "10", PRTargetBranch: "master",
			BuildNumber: "91011", BuildURL: "https://gitlab.com/owner/repo/-/jobs/1213",
			RepoName: "owner/repo", RepoURL: "https://gitlab.com/owner/repo",
			PipelineID: "owner/repo", PipelineName: "owner/repo", Workspace: "/",
			Forge: ForgeGitLab, RepoID: "gitlab.com~owner~repo", PRState: PROpen, PRHeadSHA: "5678",
			PRURL: "https://gitlab.com/owner/repo/-/merge_requests/10",
		}},
	}
	for _, tt := range tests {
		checkContext(t, tt.file, Detect(envOf(t, tt.file, tt.extra...), "/wd"), tt.want)
	}
}

func TestGitLabEnvironments(t *testing.T) {
	tests := []struct {
		extra           []string
		env, tier       string
		wantEnvironment bool
	}{
		{[]string{"CI_ENVIRONMENT_TIER=other"}, "eu-west", "", true}, // "other": inferred here from the name instead
		{[]string{"CI_ENVIRONMENT_TIER"}, "eu-west", "", true},
		{[]string{"CI_ENVIRONMENT_TIER=Staging"}, "eu-west", "staging", true},
		{[]string{"CI_ENVIRONMENT_ACTION"}, "eu-west", "production", true},
		{[]string{"CI_ENVIRONMENT_ACTION=prepare"}, "", "", false},
		{[]string{"CI_ENVIRONMENT_ACTION=stop"}, "", "", false},
		{[]string{"CI_ENVIRONMENT_ACTION=verify"}, "", "", false},
	}
	for _, tt := range tests {
		c := Detect(envOf(t, "gitlab-deploy.env", tt.extra...), "")
		if c.Environment != tt.env || c.EnvironmentType != tt.tier {
			t.Errorf("%v: environment %q (%q), want %q (%q)", tt.extra, c.Environment, c.EnvironmentType, tt.env, tt.tier)
		}
	}
}

func TestGitLabMergedResults(t *testing.T) {
	// In a merged results pipeline CI_COMMIT_SHA is GitLab's merge commit.
	c := Detect(envOf(t, "gitlab-mr.env", "CI_COMMIT_SHA=1111111111111111111111111111111111111111",
		"CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=5d25f4849bbd812e4e64e78d4aaa94a72e6cab5c"), "")
	if c.SHA != "5d25f4849bbd812e4e64e78d4aaa94a72e6cab5c" {
		t.Errorf("sha = %q, want the merge request's head", c.SHA)
	}
	// Current GitLab: CI_COMMIT_BRANCH on branch pipelines; a repository URL
	// with the job token is stripped of it.
	c = Detect(envOf(t, "gitlab-push.env", "CI_COMMIT_BRANCH=feature/ABC-1", "CI_PROJECT_URL"), "")
	if c.Branch != "feature/ABC-1" || c.RepoURL != "https://gitlab.com/OndraM/ci-detector" {
		t.Errorf("branch %q repo %q", c.Branch, c.RepoURL)
	}
}
