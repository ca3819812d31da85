package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// realRepo is the test repository the real captures ran against: HEAD's
// message names ABC-13 and OPS-7.
func realRepo(t *testing.T) *gittest.Repo {
	return gittest.Build(t, []gittest.Commit{
		{Message: "DEF-5 earlier work\n"},
		{Message: "ABC-13 fix the thing\n\nBody mentions OPS-7 too\n"},
	})
}

// Done when: a Woodpecker pull request whose title has no key sends the
// HEAD commit's keys (Woodpecker's CI_COMMIT_MESSAGE is the title there).
func TestWoodpeckerPullRequestSendsTheHeadCommitsKeys(t *testing.T) {
	repo := realRepo(t)
	tt := ciCase{name: "pull request", file: "real/woodpecker-3.17-pr.env", prefix: "PLUGIN_",
		extra: []string{"CI_WORKSPACE=" + repo.Dir, "CI_COMMIT_SHA=" + repo.SHAs[1], "CI_COMMIT_MESSAGE=Update the docs",
			"CI_COMMIT_SOURCE_BRANCH=docs", "CI_COMMIT_REFSPEC=docs:main", "PLUGIN_OUT", "PLUGIN_DEBUG"},
		number: 42, url: "http://127.0.0.1:8000/repos/7/pipeline/42", state: "successful", ref: "docs", sha: repo.SHAs[1],
		pipeline: "acme/widgets/woodpecker", keys: "ABC-13,OPS-7"}
	r, _ := tt.run(t)
	if !strings.Contains(r.stderr, "ABC-13 (commits)") {
		t.Errorf("where the key came from:\n%s", r.stderr)
	}
}

// The same with no repository and a title without keys: nothing is sent,
// and the notice names what was read — not "the commit messages".
func TestNoKeysNoticeNamesWhatWasRead(t *testing.T) {
	srv := newJira(t)
	env := append(ciEnv(t, "real/woodpecker-3.17-pr.env", "CI_WORKSPACE="+t.TempDir(), "CI_COMMIT_MESSAGE=Update the docs",
		"CI_COMMIT_SOURCE_BRANCH=docs", "CI_COMMIT_REFSPEC=docs:main", "PLUGIN_OUT", "PLUGIN_DEBUG"), settingsEnv("PLUGIN_", srv)...)
	r := runStep(t, t.TempDir(), nil, env)
	if r.code != ExitOK || len(srv.Requests()) != 0 {
		t.Fatalf("exit %d, %d requests:\n%s", r.code, len(srv.Requests()), r.stderr)
	}
	if !strings.Contains(r.stderr, "no Jira issue keys found in the branch docs or the pull request title") || strings.Contains(r.stderr, "commit message") {
		t.Errorf("notice:\n%s", r.stderr)
	}

	// A tag with a message and a repository: both named.
	repo := gittest.Build(t, []gittest.Commit{{Message: "Release\n"}})
	env = append(ciEnv(t, "real/woodpecker-3.17-tag.env", "CI_WORKSPACE="+repo.Dir, "CI_COMMIT_SHA="+repo.SHAs[0], "CI_COMMIT_MESSAGE=Bump version",
		"PLUGIN_OUT", "PLUGIN_DEBUG"), settingsEnv("PLUGIN_", srv)...)
	r = runStep(t, t.TempDir(), nil, env)
	if !strings.Contains(r.stderr, "no Jira issue keys found in the commit message(s) Woodpecker gives or the checked-out commit's message") {
		t.Errorf("notice:\n%s", r.stderr)
	}
}

// Done when: two matrix axes give two pipelines (the real captures of a
// two-axis Woodpecker matrix), each the same on every run.
func TestMatrixAxesAreTwoPipelines(t *testing.T) {
	srv := newJira(t)
	repo := realRepo(t)
	var ids []string
	for _, file := range []string{"real/woodpecker-3.17-push.env", "real/woodpecker-3.17-matrix.env", "real/woodpecker-3.17-matrix.env"} {
		env := append(ciEnv(t, file, "CI_WORKSPACE="+repo.Dir, "PLUGIN_OUT", "PLUGIN_DEBUG"), settingsEnv("PLUGIN_", srv)...)
		if r := runStep(t, t.TempDir(), nil, env); r.code != ExitOK {
			t.Fatalf("%s: exit %d:\n%s", file, r.code, r.stderr)
		}
		ids = append(ids, srv.LastBuilds()["builds"].([]any)[0].(map[string]any)["pipelineId"].(string))
	}
	if ids[0] == ids[1] || ids[1] != ids[2] || ids[1] != "acme/widgets/woodpecker/2" {
		t.Errorf("pipeline ids %q", ids)
	}

	// GitHub: the job and the matrix the action passes as INPUT_MATRIX.
	ids = nil
	for _, m := range []string{`{"go":"1.25"}`, `{"go":"1.26"}`} {
		srv := newJira(t)
		dir, env := pushEnv(t, srv, "GITHUB_JOB=test", "INPUT_MATRIX="+m)
		if r := runStep(t, dir, nil, env); r.code != ExitOK {
			t.Fatalf("exit %d:\n%s", r.code, r.stdout)
		}
		ids = append(ids, srv.LastBuilds()["builds"].([]any)[0].(map[string]any)["pipelineId"].(string))
	}
	if ids[0] == ids[1] || ids[0] != "Codertocat/Hello-World/.github/workflows/ci.yml/test/go=1.25" {
		t.Errorf("GitHub pipeline ids %q", ids)
	}
}

// forkPR is a GitHub pull_request event from a fork.
func forkPR(t *testing.T, dir string) string {
	b, err := os.ReadFile(testdata("github", "github-pr-opened.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	head := ev["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)
	head["fork"], head["full_name"] = true, "mallory/Hello-World"
	b, _ = json.Marshal(ev)
	p := filepath.Join(dir, "fork.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Done when: a fork's pull request without secrets passes with a notice,
// and says nothing was sent. Missing credentials elsewhere stay exit 2.
func TestUntrustedRunWithoutCredentialsPasses(t *testing.T) {
	srv := newJira(t)
	dir := t.TempDir()
	event := forkPR(t, dir)
	env := githubEnv(dir, "pull_request", "github-pr-opened.json", "GITHUB_EVENT_PATH="+event,
		"GITHUB_HEAD_REF=changes", "GITHUB_BASE_REF=master",
		// As GitHub passes a secret it withholds: declared inputs, empty.
		"INPUT_CLIENT_ID=", "INPUT_CLIENT_SECRET=", "INPUT_SITE=")
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || len(srv.Requests()) != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "::notice::no Jira credentials in this untrusted run (a pull request from the fork mallory/Hello-World") ||
		!strings.Contains(r.stdout, "nothing sent") || strings.Contains(r.stdout, "::error::") {
		t.Errorf("log:\n%s", r.stdout)
	}
	if output(r, "sent") != "false" {
		t.Errorf("outputs:\n%s", r.file("output"))
	}

	// The same pull request with another invalid setting: still exit 2.
	dir = t.TempDir()
	env = githubEnv(dir, "pull_request", "github-pr-opened.json", "GITHUB_EVENT_PATH="+forkPR(t, dir), "INPUT_TYPE=bulid")
	if r := runStep(t, dir, nil, env); r.code != ExitUsage || !strings.Contains(r.stdout, "setting type") {
		t.Errorf("a bad setting in an untrusted run: exit %d:\n%s", r.code, r.stdout)
	}
	// Only one credential given: a mistake, not a withheld secret.
	dir = t.TempDir()
	env = githubEnv(dir, "pull_request", "github-pr-opened.json", "GITHUB_EVENT_PATH="+forkPR(t, dir), "INPUT_CLIENT_ID=client-1", "INPUT_SITE="+srv.URL)
	if r := runStep(t, dir, nil, env); r.code != ExitUsage || !strings.Contains(r.stdout, "setting client_secret") {
		t.Errorf("half the credential: exit %d:\n%s", r.code, r.stdout)
	}
	// A trusted run (a push) without credentials.
	dir = t.TempDir()
	env = githubEnv(dir, "push", "push-with-keys.json", "GITHUB_REF_NAME=main", "GITHUB_REF_TYPE=branch")
	if r := runStep(t, dir, nil, env); r.code != ExitUsage || !strings.Contains(r.stdout, "setting client_id") {
		t.Errorf("trusted run: exit %d:\n%s", r.code, r.stdout)
	}
	// Dependabot, and a GitLab unprotected branch (its variables in JIRA_*).
	dir = t.TempDir()
	env = githubEnv(dir, "push", "push-with-keys.json", "GITHUB_REF_NAME=main", "GITHUB_REF_TYPE=branch", "GITHUB_ACTOR=dependabot[bot]")
	if r := runStep(t, dir, nil, env); r.code != ExitOK || !strings.Contains(r.stdout, "Dependabot") {
		t.Errorf("dependabot: exit %d:\n%s", r.code, r.stdout)
	}
	env = ciEnv(t, "real/gitlab-runner-16.10-exec-server-vars.env", "CI_COMMIT_REF_PROTECTED=false", "JIRA_CLIENT_ID", "JIRA_CLIENT_SECRET", "JIRA_SITE", "JIRA_API_URL")
	if r := runStep(t, t.TempDir(), nil, env); r.code != ExitOK || !strings.Contains(r.stderr, "the unprotected ref feature/ABC-12-x") {
		t.Errorf("gitlab: exit %d:\n%s", r.code, r.stderr)
	}
}

// Done when: a deployment_status failure to production sends a failed
// production deployment.
func TestGitHubDeploymentStatusFailure(t *testing.T) {
	srv := newJira(t)
	dir := t.TempDir()
	b, err := os.ReadFile(testdata("github", "github-deployment-status.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	st := ev["deployment_status"].(map[string]any)
	st["state"], st["log_url"] = "failure", "https://argo.example.com/app/logs/9"
	ev["deployment"].(map[string]any)["description"] = "ABC-7 rollout"
	b, _ = json.Marshal(ev)
	event := filepath.Join(dir, "deployment_status.json")
	if err := os.WriteFile(event, b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(githubEnv(dir, "deployment_status", "github-deployment-status.json", "GITHUB_EVENT_PATH="+event,
		"GITHUB_REF=refs/heads/master", "GITHUB_REF_NAME=master", "GITHUB_REF_TYPE=branch", "GITHUB_JOB=notify",
		"INPUT_ISSUE_KEYS=ABC-7"), creds(srv)...)
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if srv.Count(fakejira.EndpointDeployments) != 1 || srv.Count(fakejira.EndpointBuilds) != 0 {
		t.Fatalf("want one deployment: %d builds, %d deployments", srv.Count(fakejira.EndpointBuilds), srv.Count(fakejira.EndpointDeployments))
	}
	d := srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
	e := d["environment"].(map[string]any)
	if d["state"] != "failed" || e["id"] != "production" || e["type"] != "production" || d["url"] != "https://argo.example.com/app/logs/9" ||
		d["deploymentSequenceNumber"] != 145988746.0 {
		t.Errorf("deployment: %v", d)
	}
	// Settings still win.
	srv = newJira(t)
	env = append(githubEnv(dir, "deployment_status", "github-deployment-status.json", "GITHUB_EVENT_PATH="+event,
		"INPUT_ISSUE_KEYS=ABC-7", "INPUT_STATE=success", "INPUT_ENVIRONMENT=staging"), creds(srv)...)
	if r := runStep(t, dir, nil, env); r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	d = srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
	if d["state"] != "successful" || d["environment"].(map[string]any)["id"] != "staging" {
		t.Errorf("settings lost: %v", d)
	}
}

// One repository open serves the context and the walk: a Bitbucket pull
// request's abbreviated commit becomes the full sha, and its message the
// keys, as before cienv stopped reading git.
func TestBitbucketCommitNotInTheClone(t *testing.T) {
	dir, _ := bitbucketClone(t, "DEMO-1 fix the login\n")
	srv := newJira(t)
	env := append(ciEnv(t, "bitbucket-push.env", "BITBUCKET_CLONE_DIR="+dir), settingsEnv("JIRA_", srv)...)
	r := runStep(t, t.TempDir(), nil, env)
	if r.code != ExitOK || !strings.Contains(r.stderr, "is not in the repository") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	// HEAD's message is still a source of keys.
	b := srv.LastBuilds()["builds"].([]any)[0].(map[string]any)
	if join(b["issueKeys"]) != "DEMO-1" {
		t.Errorf("keys %v", b["issueKeys"])
	}
}
