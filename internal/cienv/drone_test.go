package cienv

import (
	"testing"
)

func TestDrone(t *testing.T) {
	push := Context{
		CI: CIDrone, Name: "Drone",
		SHA: "05818a52403e07b2cab4d980522e7264be4aa18c", Branch: "master",
		CommitMessages: []string{"add envvar"}, PreviousSHA: "138bc48338f44be2ef4ad8a57d63d4bf2403da3c", Event: "push",
		BuildNumber: "15", BuildURL: "https://cloud.drone.io/ruanbekker/drone-ci-testing/15",
		RepoName: "ruanbekker/drone-ci-testing", RepoURL: "https://github.com/ruanbekker/drone-ci-testing",
		PipelineID: "ruanbekker/drone-ci-testing/default", PipelineName: "ruanbekker/drone-ci-testing",
		Status: "success", Workspace: "/drone/src",
		Forge: ForgeGitHub, RepoID: "github.com~ruanbekker~drone-ci-testing",
	}
	failed := push
	failed.Status = "failure"
	promote := push
	promote.Event, promote.BuildNumber, promote.BuildURL = "promote", "16", "https://cloud.drone.io/ruanbekker/drone-ci-testing/16"
	promote.Environment = "production"
	promote.PreviousSHA = "" // the promoted build's push, not this deployment's range
	tag := push
	tag.Event, tag.Tag, tag.Branch, tag.PreviousSHA = "tag", "v1.2.3", "", ""
	withCard := push
	withCard.DroneCardPath = "/dev/stdout"

	tests := []struct {
		file  string
		extra []string
		want  Context
	}{
		{"drone-push.env", nil, push},
		{"drone-push-failed.env", nil, failed},
		{"drone-promote.env", nil, promote},
		{"drone-tag-push.env", nil, tag},
		{"drone-push.env", []string{"DRONE_CARD_PATH=/dev/stdout"}, withCard},
		// runner-go's environ.Build() for a pull request that also names a
		// deploy target and has failed so far.
		{"drone-pr.env", []string{"DRONE=true"}, Context{
			CI: CIDrone, Name: "Drone",
			SHA: "762941318ee16e59dabbacb1b4049eec22f0d303", Branch: "develop",
			PRNumber: "32", PRTargetBranch: "master", PRTitle: "feat: update README",
			CommitMessages: []string{"updated README"}, PreviousSHA: "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
			Event: "pull_request", BuildNumber: "1", Status: "failure", Environment: "prod", Workspace: "/wd",
			PRHeadSHA: "762941318ee16e59dabbacb1b4049eec22f0d303", PRState: PROpen, PRAuthor: "octocat", PRAuthorName: "The Octocat", Untrusted: "a pull request build: Drone gives a secret to pull requests only when the secret allows it",
		}},
		// Drone 0.8: no stage, status of the build.
		{"drone-push-cidetector.env", nil, Context{
			CI: CIDrone, Name: "Drone",
			SHA: "3986f34176d2a641fc11bc41a3875c67bdc46aa5", Branch: "test-drone",
			CommitMessages: []string{"Test Drone CI build"}, Event: "push",
			BuildNumber: "2", BuildURL: "http://drone.local/OndraM/ci-detector/2",
			RepoName: "OndraM/ci-detector", RepoURL: "https://github.com/OndraM/ci-detector",
			PipelineID: "OndraM/ci-detector", PipelineName: "OndraM/ci-detector",
			Status: "success", Workspace: "/drone/src/github.com/OndraM/ci-detector/commit/3986f34176d2a641fc11bc41a3875c67bdc46aa5",
			Forge: ForgeGitHub, RepoID: "github.com~ondram~ci-detector",
		}},
		// env-ci: owner and name apart, a tag next to a branch.
		{"drone-pr-envci.env", nil, Context{
			CI: CIDrone, Name: "Drone",
			SHA: "5678", Tag: "tag_name", PRNumber: "10", PRTargetBranch: "master", Event: "pull_request",
			BuildNumber: "91011", BuildURL: "https://drone.example.com/owner/repo/91011",
			RepoName: "owner/repo", PipelineID: "owner/repo", PipelineName: "owner/repo",
			Workspace: "/drone/src/github.com/owner/repo",
			PRHeadSHA: "5678", PRState: PROpen, Untrusted: "a pull request build: Drone gives a secret to pull requests only when the secret allows it",
		}},
	}
	for _, tt := range tests {
		c := Detect(envOf(t, tt.file, tt.extra...), "/wd")
		checkContext(t, tt.file, c, tt.want)
	}
}

func TestDronePullRequestWithoutSourceBranch(t *testing.T) {
	// Drone 0.8 (hand-edited upstream: the event still says push).
	c := Detect(envOf(t, "drone-pr-cidetector.env"), "")
	if c.PRNumber != "43" || c.Branch != "test-drone" || c.PRTargetBranch != "" {
		t.Errorf("pr %q branch %q target %q", c.PRNumber, c.Branch, c.PRTargetBranch)
	}
}

func TestDroneSubsets(t *testing.T) {
	c := readDrone(envOf(t, "drone-pr-reviewdog.env"), "")
	if c.PRNumber != "1" || c.SHA != "sha1" || c.RepoName != "haya14busa/reviewdog" || c.PipelineID != "haya14busa/reviewdog" {
		t.Errorf("reviewdog subset: %+v", c)
	}
	c = readDrone(envOf(t, "drone-tag.env"), "")
	if c.Tag != "v1.2.3" || c.Branch != "" {
		t.Errorf("tag subset: %+v", c)
	}
	// No DRONE_BUILD_LINK: the link Drone builds from its host.
	c = readDrone(envOf(t, "drone-push.env", "DRONE_BUILD_LINK"), "")
	if c.BuildURL != "https://cloud.drone.io/ruanbekker/drone-ci-testing/15" {
		t.Errorf("built link = %q", c.BuildURL)
	}
	// A new branch: the all-zero before is no range.
	c = readDrone(envOf(t, "drone-push.env", "DRONE_COMMIT_BEFORE=0000000000000000000000000000000000000000"), "")
	if c.PreviousSHA != "" {
		t.Errorf("previous = %q", c.PreviousSHA)
	}
}
