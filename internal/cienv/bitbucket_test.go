package cienv

import (
	"testing"
)

func TestBitbucket(t *testing.T) {
	// Bitbucket gives no commit message: app reads it from the clone and
	// hands it over (FillFromGit); this package reads no repository.
	push := Context{
		CI: CIBitbucket, Name: "Bitbucket Pipelines",
		SHA: "c4f71a535de986600303936780f815721ebbe0c5", Branch: "main",
		BuildNumber: "5", BuildURL: "https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/5",
		RepoName: "ondrejmachulda/ci-detector", RepoURL: "https://bitbucket.org/ondrejmachulda/ci-detector",
		PipelineID: "ondrejmachulda/ci-detector", PipelineName: "ondrejmachulda/ci-detector",
		Workspace: "/opt/atlassian/pipelines/agent/build",
		Forge:     ForgeBitbucket, RepoID: "bitbucket.org~ondrejmachulda~ci-detector",
	}
	failed := push
	failed.Status = "failure"
	passed := push
	passed.Status = "success"
	deploy := push
	deploy.BuildNumber, deploy.BuildURL = "6", "https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/6"
	deploy.Environment = "staging"
	pr := push
	pr.SHA, pr.Branch, pr.PRNumber, pr.PRTargetBranch, pr.Event = "8d081548cabb", "feature/bitbucket", "2", "main", "pull_request"
	pr.BuildNumber, pr.BuildURL = "4", "https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/4"
	pr.PRHeadSHA = pr.SHA
	pr.PRURL, pr.PRState = "https://bitbucket.org/ondrejmachulda/ci-detector/pull-requests/2", PROpen
	pr.Untrusted = "a pull request pipeline: Bitbucket withholds secured variables from pull requests from forks"
	withStorage := push
	withStorage.PipeStorageDir = "/opt/atlassian/pipelines/agent/build/.bitbucket/pipelines/generated/pipeline/pipes/x"

	tests := []struct {
		file     string
		extra    []string
		want     Context
		warnings []string
	}{
		{"bitbucket-push.env", nil, push, nil},
		{"bitbucket-push-failed.env", nil, failed, nil},
		{"bitbucket-push-failed.env", []string{"BITBUCKET_EXIT_CODE=0"}, passed, nil},
		{"bitbucket-push-failed.env", []string{"BITBUCKET_EXIT_CODE=oops"}, push, []string{`BITBUCKET_EXIT_CODE "oops" is not a number`}},
		{"bitbucket-deploy.env", nil, deploy, nil},
		{"bitbucket-pr.env", nil, pr, nil},
		{"bitbucket-push.env", []string{"BITBUCKET_PIPE_STORAGE_DIR=" + withStorage.PipeStorageDir}, withStorage, nil},
		// A pipe's own test passes only five variables: no full name, so no
		// link (the step then asks for url).
		{"bitbucket-tag.env", nil, Context{
			CI: CIBitbucket, Name: "Bitbucket Pipelines", SHA: "abcdef", Tag: "1.2.3", Event: "tag",
			BuildNumber: "1234", RepoName: "test", PipelineID: "test", PipelineName: "test", Workspace: "/wd",
			Forge: ForgeBitbucket,
		}, nil},
		{"bitbucket-push-envci.env", nil, Context{
			CI: CIBitbucket, Name: "Bitbucket Pipelines", SHA: "b5ce5ce", Tag: "tag_name", Event: "tag",
			BuildNumber: "1964", BuildURL: "https://bitbucket.org/owner/repo/pipelines/results/1964",
			RepoName: "owner/repo", RepoURL: "https://bitbucket.org/owner/repo",
			PipelineID: "owner/repo", PipelineName: "owner/repo", Workspace: "/",
			Forge: ForgeBitbucket, RepoID: "bitbucket.org~owner~repo",
		}, nil},
	}
	for _, tt := range tests {
		checkContext(t, tt.file, Detect(envOf(t, tt.file, tt.extra...), "/wd"), tt.want, tt.warnings...)
	}
}

func TestBitbucketPipelineUUIDAlone(t *testing.T) {
	c := Detect(FromEnviron([]string{"BITBUCKET_PIPELINE_UUID={1}", "BITBUCKET_GIT_HTTP_ORIGIN=http://bitbucket.org/ws/repo"}), t.TempDir())
	if c.CI != CIBitbucket || c.RepoURL != "http://bitbucket.org/ws/repo" || c.BuildURL != "" {
		t.Errorf("%+v", c)
	}
}
