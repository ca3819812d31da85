package cienv

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// payload writes a copy of testdata/github/<name> with edits applied
// (path "a.b.c" → value; a nil value removes) and returns its path.
func payload(t *testing.T, name string, edits map[string]any) string {
	t.Helper()
	b, err := os.ReadFile(testdata(t, "github", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for path, val := range edits {
		parts := strings.Split(path, ".")
		m := v
		for _, p := range parts[:len(parts)-1] {
			m = m[p].(map[string]any)
		}
		if val == nil {
			m[parts[len(parts)-1]] = nil
		} else {
			m[parts[len(parts)-1]] = val
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func githubAt(t *testing.T, event, path string, extra ...string) Context {
	t.Helper()
	env := githubEnv(t, event, "github-push.json", extra...)
	return Detect(func(k string) string {
		if k == "GITHUB_EVENT_PATH" {
			return path
		}
		return env(k)
	}, "")
}

func TestGitHubForkPullRequestIsUntrusted(t *testing.T) {
	const fork = "a pull request from the fork"
	for _, tt := range []struct {
		name, event string
		edits       map[string]any
		want        string
	}{
		{"same repository", "pull_request", nil, ""},
		{"fork flag", "pull_request", map[string]any{"pull_request.head.repo.fork": true}, fork + " Codertocat/Hello-World"},
		{"other repository", "pull_request", map[string]any{"pull_request.head.repo.full_name": "mallory/Hello-World"}, fork + " mallory/Hello-World"},
		{"deleted fork", "pull_request", map[string]any{"pull_request.head.repo": nil}, "a pull request from a deleted fork"},
		{"review on a fork's pull request", "pull_request_review", map[string]any{"pull_request.head.repo.fork": true}, fork},
		// pull_request_target runs with the base repository's secrets.
		{"pull_request_target", "pull_request_target", map[string]any{"pull_request.head.repo.fork": true}, ""},
	} {
		c := githubAt(t, tt.event, payload(t, "github-pr-opened.json", tt.edits))
		if (tt.want == "") != (c.Untrusted == "") || !strings.Contains(c.Untrusted, tt.want) {
			t.Errorf("%s: untrusted %q, want %q", tt.name, c.Untrusted, tt.want)
		}
	}
	c := Detect(githubEnv(t, "push", "push-with-keys.json", "GITHUB_ACTOR=dependabot[bot]"), "")
	if !strings.Contains(c.Untrusted, "Dependabot") {
		t.Errorf("dependabot: %q", c.Untrusted)
	}
	if c := Detect(githubEnv(t, "push", "push-with-keys.json", "GITHUB_ACTOR=octocat"), ""); c.Untrusted != "" {
		t.Errorf("push: %q", c.Untrusted)
	}
}

func TestGitHubPullRequestDetails(t *testing.T) {
	c := githubAt(t, "pull_request", testdata(t, "github", "github-pr-closed.json"))
	want := Context{
		PRNumber: "2", PRTitle: "Update the README with new information.", PRURL: "https://github.com/Codertocat/Hello-World/pull/2",
		PRState: PRDeclined, PRAuthor: "Codertocat", PRHeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		PRBaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", PRReviewers: []string{"octocat"}, PRCommentCount: 1,
		PRUpdated: time.Date(2019, 5, 15, 15, 21, 18, 0, time.UTC), Branch: "changes", PRTargetBranch: "master",
	}
	got := Context{
		PRNumber: c.PRNumber, PRTitle: c.PRTitle, PRURL: c.PRURL, PRState: c.PRState, PRAuthor: c.PRAuthor,
		PRHeadSHA: c.PRHeadSHA, PRBaseSHA: c.PRBaseSHA, PRReviewers: c.PRReviewers, PRCommentCount: c.PRCommentCount,
		PRUpdated: c.PRUpdated, Branch: c.Branch, PRTargetBranch: c.PRTargetBranch,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if c.Forge != ForgeGitHub || c.RepoID != "github.com~codertocat~hello-world" {
		t.Errorf("forge %q repo id %q", c.Forge, c.RepoID)
	}
	merged := githubAt(t, "pull_request", payload(t, "github-pr-closed.json", map[string]any{"pull_request.merged": true}))
	if merged.PRState != PRMerged {
		t.Errorf("merged: %q", merged.PRState)
	}
	open := githubAt(t, "pull_request", testdata(t, "github", "github-pr-opened.json"))
	if open.PRState != PROpen {
		t.Errorf("opened: %q", open.PRState)
	}
}

func TestGitHubDeploymentEvents(t *testing.T) {
	const sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	// deployment_status: the status's state and link; the deployment's
	// environment, sha and ref; its id numbers every status of it.
	c := githubAt(t, "deployment_status", payload(t, "github-deployment-status.json", map[string]any{
		"deployment_status.state": "failure", "deployment_status.log_url": "https://ci.example.com/logs/7",
		"deployment_status.target_url": "https://example.com/app",
	}), "GITHUB_REF=refs/heads/master", "GITHUB_REF_NAME=master", "GITHUB_REF_TYPE=branch")
	if c.Environment != "production" || c.Status != "failed" || c.BuildURL != "https://ci.example.com/logs/7" ||
		c.SHA != sha || c.Branch != "master" || c.DeploymentID != "145988746" || c.BuildNumber != "145988746" || c.Event != "deployment_status" {
		t.Errorf("deployment_status: %+v", c)
	}
	// Without a log, the target.
	c = githubAt(t, "deployment_status", payload(t, "github-deployment-status.json", map[string]any{"deployment_status.target_url": "https://example.com/app"}))
	if c.BuildURL != "https://example.com/app" || c.Status != "successful" {
		t.Errorf("target url: %q %q", c.BuildURL, c.Status)
	}
	// The fixture as it is: no link, so the run's.
	c = githubAt(t, "deployment_status", testdata(t, "github", "github-deployment-status.json"))
	if c.BuildURL != "https://github.com/Codertocat/Hello-World/actions/runs/1658821493" {
		t.Errorf("run link: %q", c.BuildURL)
	}
	for state, want := range map[string]string{
		"queued": "pending", "pending": "pending", "in_progress": "in_progress", "success": "successful",
		"failure": "failed", "error": "failed", "inactive": "unknown",
	} {
		c := githubAt(t, "deployment_status", payload(t, "github-deployment-status.json", map[string]any{"deployment_status.state": state}))
		if c.Status != want || len(c.Warnings) != 0 {
			t.Errorf("%s: %q %q", state, c.Status, c.Warnings)
		}
	}
	c = githubAt(t, "deployment_status", payload(t, "github-deployment-status.json", map[string]any{"deployment_status.state": "exploded"}))
	if c.Status != "" || len(c.Warnings) != 1 {
		t.Errorf("unknown state: %q %q", c.Status, c.Warnings)
	}
	// A deployment event: the deployment's environment, sha and ref.
	c = githubAt(t, "deployment", testdata(t, "github", "github-deployment.json"))
	if c.Environment != "production" || c.SHA != sha || c.Branch != "master" || c.Status != "" || c.DeploymentID != "145988746" {
		t.Errorf("deployment: %+v", c)
	}
	// A tag deployed.
	c = githubAt(t, "deployment", payload(t, "github-deployment.json", map[string]any{"deployment.ref": "refs/tags/v1.0"}))
	if c.Tag != "v1.0" || c.Branch != "" {
		t.Errorf("tag deployment: tag %q branch %q", c.Tag, c.Branch)
	}
	// Another event carrying a deployment object changes nothing.
	c = githubAt(t, "workflow_run", testdata(t, "github", "github-deployment.json"))
	if c.Environment != "" {
		t.Errorf("workflow_run: environment %q", c.Environment)
	}
}

func TestGitHubDeleteAndMergeGroup(t *testing.T) {
	c := githubAt(t, "delete", testdata(t, "github", "github-delete-branch.json"))
	if c.DeletedBranch != "" {
		t.Errorf("a deleted tag is no deleted branch: %q", c.DeletedBranch)
	}
	c = githubAt(t, "delete", payload(t, "github-delete-branch.json", map[string]any{"ref_type": "branch", "ref": "feature/ABC-1"}))
	if c.DeletedBranch != "feature/ABC-1" {
		t.Errorf("deleted branch %q", c.DeletedBranch)
	}
	c = githubAt(t, "merge_group", testdata(t, "github", "github-merge-group.json"))
	if !reflect.DeepEqual(c.CommitMessages, []string{"Merge pull request #2048 from octo-repo/update-readme\n\nUpdate README.md"}) {
		t.Errorf("merge group messages %q", c.CommitMessages)
	}
}

// A payload that cannot be read costs what it alone gives: the GITHUB_*
// variables still count.
func TestGitHubBadPayloadKeepsTheVariables(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxEventSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, tt := range []struct{ name, path, warning string }{
		{"not JSON", write("bad.json", []byte(`{"pull_request": {`)), "not valid JSON"},
		{"missing", filepath.Join(dir, "none.json"), "cannot be read"},
		{"too large", big, "larger than 25 MB"},
	} {
		c := githubAt(t, "push", tt.path, "GITHUB_REF=refs/heads/main", "GITHUB_REF_NAME=main", "GITHUB_REF_TYPE=branch")
		if c.CI != CIGitHub || c.Branch != "main" || c.BuildNumber != "42" || c.SHA != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" ||
			c.RepoName != "Codertocat/Hello-World" || c.BuildURL == "" || c.PipelineID == "" {
			t.Errorf("%s: variables lost: %+v", tt.name, c)
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], tt.warning) {
			t.Errorf("%s: warnings %q", tt.name, c.Warnings)
		}
	}
	// A value of the wrong type loses that value only.
	c := githubAt(t, "pull_request", write("typed.json", []byte(`{"pull_request": {"number": "two", "title": "ABC-1 title", "head": {"ref": "feature/x"}}}`)))
	if c.PRTitle != "ABC-1 title" || c.Branch != "feature/x" || len(c.Warnings) != 1 {
		t.Errorf("typed: title %q branch %q warnings %q", c.PRTitle, c.Branch, c.Warnings)
	}
}

// De-duplicating the push's commits is linear: 200,000 commits took over
// 120 s with the former quadratic scan; now about 0.15 s of CPU, most of it
// JSON decoding (measured with -cpuprofile).
func TestGitHubManyCommits(t *testing.T) {
	const n = 200_000
	var b strings.Builder
	b.WriteString(`{"before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "commits": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"message": "ABC-%d change"}`, i%(n/2)+1) // each message twice
	}
	b.WriteString(`]}`)
	p := filepath.Join(t.TempDir(), "many.json")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c := githubAt(t, "push", p)
	if len(c.CommitMessages) != n/2 || c.CommitMessages[0] != fmt.Sprintf("ABC-%d change", n/2) {
		t.Errorf("%d messages, first %q", len(c.CommitMessages), c.CommitMessages[0])
	}
	t.Logf("%d commits read in %v", n, time.Since(start))
}

func TestGitHubMatrixAxes(t *testing.T) {
	base := []string{"GITHUB_JOB=test"}
	id := func(extra ...string) (string, string) {
		c := Detect(githubEnv(t, "push", "push-with-keys.json", append(base, extra...)...), "")
		if len(c.Warnings) != 0 {
			t.Errorf("warnings %q", c.Warnings)
		}
		return c.PipelineID, c.PipelineName
	}
	const wf = "Codertocat/Hello-World/.github/workflows/ci.yml"
	for _, tt := range []struct {
		matrix, id, name string
	}{
		{"", wf + "/test", "CI (test)"},
		{"null", wf + "/test", "CI (test)"},
		{"{}", wf + "/test", "CI (test)"},
		{`{"os": "ubuntu-latest", "go": "1.26"}`, wf + "/test/go=1.26,os=ubuntu-latest", "CI (test go=1.26,os=ubuntu-latest)"},
		// Key order never matters; numbers and objects read the same each run.
		{`{"go": "1.26", "os": "ubuntu-latest"}`, wf + "/test/go=1.26,os=ubuntu-latest", "CI (test go=1.26,os=ubuntu-latest)"},
		{`{"node": 20, "cfg": {"b": 1, "a": 2}}`, wf + `/test/cfg={"a":2,"b":1},node=20`, `CI (test cfg={"a":2,"b":1},node=20)`},
	} {
		gotID, gotName := id("INPUT_MATRIX=" + tt.matrix)
		if gotID != tt.id || gotName != tt.name {
			t.Errorf("matrix %q: id %q name %q, want %q %q", tt.matrix, gotID, gotName, tt.id, tt.name)
		}
	}
	a, _ := id(`INPUT_MATRIX={"go": "1.25"}`)
	b, _ := id(`INPUT_MATRIX={"go": "1.26"}`)
	other, _ := id("GITHUB_JOB=lint")
	if a == b || a == other {
		t.Errorf("axes share an id: %q %q %q", a, b, other)
	}
	long, _ := id(`INPUT_MATRIX={"include": "` + strings.Repeat("x", 300) + `"}`)
	if len(long) > 255 || !strings.HasPrefix(long, wf+"/test/matrix-") {
		t.Errorf("long matrix: %q", long)
	}
	c := Detect(githubEnv(t, "push", "push-with-keys.json", "GITHUB_JOB=test", "INPUT_MATRIX=[1,2]"), "")
	if len(c.Warnings) != 1 || c.PipelineID != wf+"/test" {
		t.Errorf("bad matrix: %q %q", c.PipelineID, c.Warnings)
	}
}
