package cienv

import (
	"strings"
	"testing"
)

// How each CI marks a run it may have withheld secrets from.
func TestUntrustedRuns(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		extra      []string
		want       string // a fragment; "" for a trusted run
	}{
		{"GitLab protected branch", "real/gitlab-runner-16.10-exec-server-vars.env", []string{"CI_COMMIT_REF_PROTECTED=true"}, ""},
		{"GitLab unprotected branch", "real/gitlab-runner-16.10-exec-server-vars.env", []string{"CI_COMMIT_REF_PROTECTED=false"}, "the unprotected ref feature/ABC-12-x"},
		{"GitLab without the variable (old GitLab)", "gitlab-push.env", nil, ""},
		{"GitLab merge request from a fork", "gitlab-mr.env", []string{"CI_MERGE_REQUEST_PROJECT_ID=1", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID=2",
			"CI_MERGE_REQUEST_SOURCE_PROJECT_PATH=mallory/ci-detector", "CI_COMMIT_REF_PROTECTED=false"}, "a merge request from the fork mallory/ci-detector"},
		{"GitLab merge request in the project", "gitlab-mr.env", []string{"CI_MERGE_REQUEST_PROJECT_ID=1", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID=1"}, ""},
		{"Woodpecker push", "real/woodpecker-3.17-push.env", nil, ""},
		{"Woodpecker pull request", "real/woodpecker-3.17-pr.env", nil, "Woodpecker gives a secret to pull requests only when the secret allows it"},
		{"Drone push", "real/drone-runner-exec-push.env", nil, ""},
		{"Drone pull request", "real/drone-runner-exec-pr.env", nil, "Drone gives a secret to pull requests only when the secret allows it"},
		{"Bitbucket push", "bitbucket-push.env", nil, ""},
		{"Bitbucket pull request", "bitbucket-pr.env", nil, "Bitbucket withholds secured variables from pull requests from forks"},
	} {
		c := Detect(envOf(t, tt.file, tt.extra...), "/wd")
		if (tt.want == "") != (c.Untrusted == "") || !strings.Contains(c.Untrusted, tt.want) {
			t.Errorf("%s: untrusted %q, want %q", tt.name, c.Untrusted, tt.want)
		}
	}
}

func TestWoodpeckerClosedPullRequestState(t *testing.T) {
	if c := Detect(envOf(t, "real/woodpecker-3.17-pr.env", "CI_PIPELINE_EVENT=pull_request_closed"), "/wd"); c.PRState != "" || c.PRNumber != "5" {
		t.Errorf("closed: state %q number %q", c.PRState, c.PRNumber)
	}
}

// Parallel jobs of one run, each its own pipeline, the same one on every run.
func TestParallelAxes(t *testing.T) {
	ids := func(file string, extras ...[]string) []string {
		var out []string
		for _, e := range extras {
			out = append(out, Detect(envOf(t, file, e...), "/wd").PipelineID)
		}
		return out
	}
	for _, tt := range []struct {
		name, file string
		extras     [][]string
		want       []string
	}{
		{"GitLab parallel: N (names carry the index)", "gitlab-push.env", [][]string{
			{"CI_JOB_NAME=test 1/2", "CI_NODE_INDEX=1", "CI_NODE_TOTAL=2"}, {"CI_JOB_NAME=test 2/2", "CI_NODE_INDEX=2", "CI_NODE_TOTAL=2"}},
			[]string{"OndraM/ci-detector/test 1/2", "OndraM/ci-detector/test 2/2"}},
		{"GitLab parallel:matrix", "gitlab-push.env", [][]string{
			{"CI_JOB_NAME=test: [linux, 1.26]", "CI_NODE_INDEX=1", "CI_NODE_TOTAL=2"}, {"CI_JOB_NAME=test: [mac, 1.26]", "CI_NODE_INDEX=2", "CI_NODE_TOTAL=2"}},
			[]string{"OndraM/ci-detector/test: [linux, 1.26]", "OndraM/ci-detector/test: [mac, 1.26]"}},
		{"GitLab index without it in the name", "gitlab-push.env", [][]string{
			{"CI_JOB_NAME=test", "CI_NODE_INDEX=1", "CI_NODE_TOTAL=2"}, {"CI_JOB_NAME=test", "CI_NODE_INDEX=2", "CI_NODE_TOTAL=2"}},
			[]string{"OndraM/ci-detector/test 1/2", "OndraM/ci-detector/test 2/2"}},
		{"Bitbucket parallel steps", "bitbucket-push.env", [][]string{
			nil, {"BITBUCKET_PARALLEL_STEP=0", "BITBUCKET_PARALLEL_STEP_COUNT=2"}, {"BITBUCKET_PARALLEL_STEP=1", "BITBUCKET_PARALLEL_STEP_COUNT=2"}},
			[]string{"ondrejmachulda/ci-detector", "ondrejmachulda/ci-detector/step-0", "ondrejmachulda/ci-detector/step-1"}},
		{"Woodpecker workflows", "real/woodpecker-3.17-push.env", [][]string{
			nil, {"CI_WORKFLOW_NUMBER=2"}, {"CI_WORKFLOW_NUMBER=3"}, {"CI_WORKFLOW_NAME=lint", "CI_WORKFLOW_NUMBER=1"}},
			[]string{"acme/widgets/woodpecker", "acme/widgets/woodpecker/2", "acme/widgets/woodpecker/3", "acme/widgets/lint"}},
	} {
		got := ids(tt.file, tt.extras...)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// A pull request's page, where the forge's URL shape needs only the
// repository: Drone's forge from the repository's host.
func TestPullRequestURL(t *testing.T) {
	c := Detect(envOf(t, "drone-pr.env", "DRONE=true", "DRONE_REPO_LINK=https://github.com/octocat/Hello-World"), "/wd")
	if c.PRURL != "https://github.com/octocat/Hello-World/pull/32" || c.Forge != ForgeGitHub {
		t.Errorf("drone: %q %q", c.PRURL, c.Forge)
	}
	for _, tt := range [][4]string{
		{ForgeBitbucketDC, "https://bitbucket.acme.io/projects/P/repos/r", "3", ""}, // needs the project key
		{"", "https://git.acme.io/a/b", "3", ""},
		{ForgeGitea, "https://codeberg.org/a/b/", "3", "https://codeberg.org/a/b/pulls/3"},
		{ForgeGitHub, "https://github.com/a/b", "3/../x", ""},
	} {
		if got := pullRequestURL(tt[0], tt[1], tt[2]); got != tt[3] {
			t.Errorf("pullRequestURL%q = %q", tt[:3], got)
		}
	}
}
