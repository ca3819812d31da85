package cienv

import (
	"reflect"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
)

func TestBitbucket(t *testing.T) {
	// The samples' clone directory does not exist here: the message cannot
	// be read, which is a warning, not an error.
	push := Context{
		CI: CIBitbucket, Name: "Bitbucket Pipelines",
		SHA: "c4f71a535de986600303936780f815721ebbe0c5", Branch: "main",
		BuildNumber: "5", BuildURL: "https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/5",
		RepoName: "ondrejmachulda/ci-detector", RepoURL: "https://bitbucket.org/ondrejmachulda/ci-detector",
		PipelineID: "ondrejmachulda/ci-detector", PipelineName: "ondrejmachulda/ci-detector",
		Workspace: "/opt/atlassian/pipelines/agent/build",
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
	withStorage := push
	withStorage.PipeStorageDir = "/opt/atlassian/pipelines/agent/build/.bitbucket/pipelines/generated/pipeline/pipes/x"

	const noRepo = "could not be read"
	tests := []struct {
		file     string
		extra    []string
		want     Context
		warnings []string
	}{
		{"bitbucket-push.env", nil, push, []string{noRepo}},
		{"bitbucket-push-failed.env", nil, failed, []string{noRepo}},
		{"bitbucket-push-failed.env", []string{"BITBUCKET_EXIT_CODE=0"}, passed, []string{noRepo}},
		{"bitbucket-push-failed.env", []string{"BITBUCKET_EXIT_CODE=oops"}, push, []string{`BITBUCKET_EXIT_CODE "oops" is not a number`, noRepo}},
		{"bitbucket-deploy.env", nil, deploy, []string{noRepo}},
		{"bitbucket-pr.env", nil, pr, []string{noRepo}},
		{"bitbucket-push.env", []string{"BITBUCKET_PIPE_STORAGE_DIR=" + withStorage.PipeStorageDir}, withStorage, []string{noRepo}},
		// A pipe's own test passes only five variables: no full name, so no
		// link (the step then asks for url).
		{"bitbucket-tag.env", nil, Context{
			CI: CIBitbucket, Name: "Bitbucket Pipelines", SHA: "abcdef", Tag: "1.2.3", Event: "tag",
			BuildNumber: "1234", RepoName: "test", PipelineID: "test", PipelineName: "test", Workspace: "/wd",
		}, []string{noRepo}},
		{"bitbucket-push-envci.env", nil, Context{
			CI: CIBitbucket, Name: "Bitbucket Pipelines", SHA: "b5ce5ce", Tag: "tag_name", Event: "tag",
			BuildNumber: "1964", BuildURL: "https://bitbucket.org/owner/repo/pipelines/results/1964",
			RepoName: "owner/repo", RepoURL: "https://bitbucket.org/owner/repo",
			PipelineID: "owner/repo", PipelineName: "owner/repo", Workspace: "/",
		}, []string{noRepo}},
	}
	for _, tt := range tests {
		checkContext(t, tt.file, Detect(envOf(t, tt.file, tt.extra...), "/wd"), tt.want, tt.warnings...)
	}
}

// Bitbucket gives no commit message: it comes from the clone.
func TestBitbucketReadsTheMessageFromTheClone(t *testing.T) {
	repo := gittest.Build(t, []gittest.Commit{
		{Message: "ABC-1 first change\n"},
		{Message: "DEF-2 second change\n\nwith a body\n"},
	})
	head := repo.SHAs[1]

	// BITBUCKET_COMMIT as Bitbucket gives it for pull requests: abbreviated.
	c := Detect(envOf(t, "bitbucket-pr.env", "BITBUCKET_CLONE_DIR="+repo.Dir, "BITBUCKET_COMMIT="+head[:12]), "/wd")
	if len(c.Warnings) != 0 {
		t.Fatalf("warnings: %q", c.Warnings)
	}
	if c.SHA != head || !reflect.DeepEqual(c.CommitMessages, []string{"DEF-2 second change\n\nwith a body"}) {
		t.Errorf("sha %q messages %q", c.SHA, c.CommitMessages)
	}
	if c.Workspace != repo.Dir || c.Branch != "feature/bitbucket" {
		t.Errorf("workspace %q branch %q", c.Workspace, c.Branch)
	}

	// The commit named, not whatever HEAD is.
	c = Detect(envOf(t, "bitbucket-push.env", "BITBUCKET_CLONE_DIR="+repo.Dir, "BITBUCKET_COMMIT="+repo.SHAs[0]), "")
	if !reflect.DeepEqual(c.CommitMessages, []string{"ABC-1 first change"}) {
		t.Errorf("messages %q", c.CommitMessages)
	}

	// A commit the clone does not have: no message rather than another
	// commit's.
	c = Detect(envOf(t, "bitbucket-push.env", "BITBUCKET_CLONE_DIR="+repo.Dir), "")
	if len(c.CommitMessages) != 0 || len(c.Warnings) != 1 || c.SHA != "c4f71a535de986600303936780f815721ebbe0c5" {
		t.Errorf("messages %q warnings %q sha %q", c.CommitMessages, c.Warnings, c.SHA)
	}

	// No BITBUCKET_COMMIT: HEAD's commit.
	c = Detect(envOf(t, "bitbucket-push.env", "BITBUCKET_CLONE_DIR="+repo.Dir, "BITBUCKET_COMMIT"), "")
	if c.SHA != head || len(c.CommitMessages) != 1 || c.Branch != "main" {
		t.Errorf("sha %q messages %q branch %q", c.SHA, c.CommitMessages, c.Branch)
	}
}

func TestBitbucketPipelineUUIDAlone(t *testing.T) {
	c := Detect(FromEnviron([]string{"BITBUCKET_PIPELINE_UUID={1}", "BITBUCKET_GIT_HTTP_ORIGIN=http://bitbucket.org/ws/repo"}), t.TempDir())
	if c.CI != CIBitbucket || c.RepoURL != "http://bitbucket.org/ws/repo" || c.BuildURL != "" {
		t.Errorf("%+v", c)
	}
}
