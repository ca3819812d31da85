package app

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// ciEnv is a CI sample from testdata/env with overrides ("KEY=VALUE" sets,
// a bare "KEY" removes): a step's whole environment but for its settings.
func ciEnv(t *testing.T, file string, overrides ...string) []string {
	t.Helper()
	b, err := os.ReadFile(testdata("env", file))
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	drop := map[string]bool{}
	set := map[string]string{}
	var setOrder []string
	for _, o := range overrides {
		if k, v, ok := strings.Cut(o, "="); ok {
			set[k] = v
			setOrder = append(setOrder, k)
		} else {
			drop[o] = true
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		if _, overridden := set[k]; overridden || drop[k] {
			continue
		}
		// The real captures write a value with newlines as a Go string
		// literal.
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		}
		env = append(env, k+"="+v)
	}
	for _, k := range setOrder {
		env = append(env, k+"="+set[k])
	}
	return env
}

// settingsEnv is the step's settings in the CI's own form: PLUGIN_* for
// Drone and Woodpecker, JIRA_* for Bitbucket pipes and GitLab jobs.
func settingsEnv(prefix string, srv *fakejira.Server) []string {
	return []string{prefix + "CLIENT_ID=client-1", prefix + "CLIENT_SECRET=" + canary, prefix + "SITE=" + srv.URL, prefix + "API_URL=" + srv.URL}
}

type wantEnv struct{ id, name, typ string }

type ciCase struct {
	name   string
	file   string
	extra  []string
	prefix string // settings' prefix

	deployment bool
	number     float64
	url        string
	state      string
	ref        string // builds: references[0].ref.name; deployments: in the description
	sha        string
	pipeline   string
	env        wantEnv
	keys       string
}

func (tt ciCase) run(t *testing.T, extraEnv ...string) (result, *fakejira.Server) {
	t.Helper()
	srv := newJira(t)
	env := append(ciEnv(t, tt.file, tt.extra...), settingsEnv(tt.prefix, srv)...)
	r := runStep(t, t.TempDir(), nil, append(env, extraEnv...))
	if r.code != ExitOK {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", tt.name, r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "jira-cicd: sent ") {
		t.Errorf("%s: no final summary on the log:\n%s", tt.name, r.stderr)
	}
	tt.check(t, srv)
	return r, srv
}

// check asserts the submitted body field by field; fakejira has validated
// it against Atlassian's schema (an invalid body fails the test there).
func (tt ciCase) check(t *testing.T, srv *fakejira.Server) {
	t.Helper()
	eq := func(field string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s = %v, want %v", tt.name, field, got, want)
		}
	}
	if tt.deployment {
		if srv.Count(fakejira.EndpointDeployments) != 1 || srv.Count(fakejira.EndpointBuilds) != 0 {
			t.Fatalf("%s: want one deployment, got %d builds and %d deployments", tt.name, srv.Count(fakejira.EndpointBuilds), srv.Count(fakejira.EndpointDeployments))
		}
		d := srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
		eq("deploymentSequenceNumber", d["deploymentSequenceNumber"], tt.number)
		eq("url", d["url"], tt.url)
		eq("state", d["state"], tt.state)
		p := d["pipeline"].(map[string]any)
		eq("pipeline.id", p["id"], tt.pipeline)
		e := d["environment"].(map[string]any)
		eq("environment.id", e["id"], tt.env.id)
		eq("environment.displayName", e["displayName"], tt.env.name)
		eq("environment.type", e["type"], tt.env.typ)
		a := d["associations"].([]any)[0].(map[string]any)
		eq("associationType", a["associationType"], "issueIdOrKeys")
		eq("issue keys", join(a["values"]), tt.keys)
		if desc, _ := d["description"].(string); !strings.Contains(desc, " "+tt.ref+" ") {
			t.Errorf("%s: description %q does not name %q", tt.name, desc, tt.ref)
		}
		return
	}
	if srv.Count(fakejira.EndpointBuilds) != 1 || srv.Count(fakejira.EndpointDeployments) != 0 {
		t.Fatalf("%s: want one build, got %d builds and %d deployments", tt.name, srv.Count(fakejira.EndpointBuilds), srv.Count(fakejira.EndpointDeployments))
	}
	b := srv.LastBuilds()["builds"].([]any)[0].(map[string]any)
	eq("buildNumber", b["buildNumber"], tt.number)
	eq("url", b["url"], tt.url)
	eq("state", b["state"], tt.state)
	eq("pipelineId", b["pipelineId"], tt.pipeline)
	eq("issueKeys", join(b["issueKeys"]), tt.keys)
	refs, _ := b["references"].([]any)
	if len(refs) != 1 {
		t.Fatalf("%s: references = %v", tt.name, b["references"])
	}
	ref := refs[0].(map[string]any)
	eq("ref", ref["ref"].(map[string]any)["name"], tt.ref)
	eq("commit", ref["commit"].(map[string]any)["id"], tt.sha)
}

func TestDroneEndToEnd(t *testing.T) {
	const sha = "05818a52403e07b2cab4d980522e7264be4aa18c"
	const pipeline = "ruanbekker/drone-ci-testing/default"
	key := "DRONE_COMMIT_MESSAGE=DEMO-1 add envvar"
	for _, tt := range []ciCase{
		{name: "push", file: "drone-push.env", extra: []string{key}, number: 15,
			url: "https://cloud.drone.io/ruanbekker/drone-ci-testing/15", state: "successful", ref: "master", sha: sha,
			pipeline: pipeline, keys: "DEMO-1"},
		{name: "failed run", file: "drone-push-failed.env", extra: []string{key}, number: 15,
			url: "https://cloud.drone.io/ruanbekker/drone-ci-testing/15", state: "failed", ref: "master", sha: sha,
			pipeline: pipeline, keys: "DEMO-1"},
		{name: "tag", file: "drone-tag-push.env", extra: []string{key}, number: 15,
			url: "https://cloud.drone.io/ruanbekker/drone-ci-testing/15", state: "successful", ref: "v1.2.3", sha: sha,
			pipeline: pipeline, keys: "DEMO-1"},
		{name: "promotion", file: "drone-promote.env", extra: []string{"DRONE_COMMIT_MESSAGE=DEMO-3 add envvar"}, deployment: true,
			number: 16, url: "https://cloud.drone.io/ruanbekker/drone-ci-testing/16", state: "successful", ref: "master",
			pipeline: pipeline, env: wantEnv{"production", "production", "production"}, keys: "DEMO-3"},
		// runner-go's Build() variables of a failing pull request that names a
		// deploy target, with what a real step also has from Repo(), Stage()
		// and Link(); the key is in the pull request's title.
		{name: "pull request deploying to prod, failed", file: "drone-pr.env",
			extra: []string{"DRONE=true", "DRONE_REPO=octocat/Hello-World", "DRONE_REPO_LINK=https://github.com/octocat/Hello-World",
				"DRONE_BUILD_LINK=https://drone.company.com/octocat/Hello-World/1", "DRONE_STAGE_NAME=deploy",
				"DRONE_PULL_REQUEST_TITLE=DEMO-2 update README"},
			deployment: true, number: 1, url: "https://drone.company.com/octocat/Hello-World/1", state: "failed", ref: "develop",
			pipeline: "octocat/Hello-World/deploy", env: wantEnv{"prod", "prod", "production"}, keys: "DEMO-2"},
	} {
		tt.prefix = "PLUGIN_"
		tt.run(t)
	}
}

// Drone's runners set DRONE_CARD_PATH=/dev/stdout and take the card from
// the step's log.
func TestDroneCardEndToEnd(t *testing.T) {
	tt := ciCase{name: "card", file: "drone-push.env", extra: []string{"DRONE_COMMIT_MESSAGE=DEMO-1 add envvar", "DRONE_CARD_PATH=/dev/stdout"},
		prefix: "PLUGIN_", number: 15, url: "https://cloud.drone.io/ruanbekker/drone-ci-testing/15", state: "successful",
		ref: "master", sha: "05818a52403e07b2cab4d980522e7264be4aa18c", pipeline: "ruanbekker/drone-ci-testing/default", keys: "DEMO-1"}
	r, srv := tt.run(t)
	m := regexp.MustCompile("\x1b]1338;(.*?)\x1b]0m").FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no card on the log:\n%q", r.stdout)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var card struct {
		Schema string
		Data   struct {
			Title, State, Record, URL string
			Issues                    []struct{ Key, URL string }
		}
	}
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(card.Schema, "/drone-card.json") || card.Data.Title != "Jira build: sent to Jira" ||
		card.Data.State != "successful" || card.Data.Record != "ruanbekker/drone-ci-testing #15" ||
		len(card.Data.Issues) != 1 || card.Data.Issues[0].URL != srv.URL+"/browse/DEMO-1" {
		t.Errorf("card: %s", raw)
	}
}

func TestWoodpeckerEndToEnd(t *testing.T) {
	const sha = "8826c98181353075bbeee8f99b400496488e3523"
	const pipeline = "test/woodpecker-test/woodpecker"
	key := "CI_COMMIT_MESSAGE=DEMO-1 revert 9b2aed1392fc097ef7b027712977722fb004d463"
	for _, tt := range []ciCase{
		{name: "push", file: "woodpecker-push.env", extra: []string{key}, number: 24,
			url: "http://1.2.3.4:8000/repos/2/pipeline/24", state: "successful", ref: "main", sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		{name: "failed run", file: "woodpecker-push-failed.env", extra: []string{key}, number: 24,
			url: "http://1.2.3.4:8000/repos/2/pipeline/24", state: "failed", ref: "main", sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		{name: "tag", file: "woodpecker-tag.env", extra: []string{key}, number: 24,
			url: "http://1.2.3.4:8000/repos/2/pipeline/24", state: "successful", ref: "v1.2.3", sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		{name: "deployment", file: "woodpecker-deploy.env", extra: []string{key}, deployment: true, number: 25,
			url: "http://1.2.3.4:8000/repos/2/pipeline/25", state: "successful", ref: "main", pipeline: pipeline,
			env: wantEnv{"production", "production", "production"}, keys: "DEMO-1"},
		// 1.x, with the legacy names; the key is in the pull request's branch.
		{name: "pull request", file: "woodpecker-pr.env", extra: []string{"CI_COMMIT_SOURCE_BRANCH=fix/DEMO-2-fail-on-err"}, number: 41,
			url: "https://ci.codeberg.org/Epsilon_02/todo-checker/pipeline/41", state: "successful", ref: "fix/DEMO-2-fail-on-err",
			sha: "a778b069d9f5992786d2db9be493b43868cfce76", pipeline: "Epsilon_02/todo-checker/woodpecker", keys: "DEMO-2"},
		// Woodpecker's DRONE_* names for Drone plugins change nothing.
		{name: "pull request with Drone's names", file: "woodpecker-pr-drone-compat.env", extra: []string{"CI_COMMIT_MESSAGE=DEMO-2 fix testscript"}, number: 41,
			url: "https://ci.codeberg.org/Epsilon_02/todo-checker/pipeline/41", state: "successful", ref: "fix_fail-on-err",
			sha: "a778b069d9f5992786d2db9be493b43868cfce76", pipeline: "Epsilon_02/todo-checker/woodpecker", keys: "DEMO-2"},
	} {
		tt.prefix = "PLUGIN_"
		tt.run(t)
	}
}

// Woodpecker passes a YAML list of plain values comma-joined and a list
// holding a from_secret entry as JSON.
func TestWoodpeckerListSettings(t *testing.T) {
	tt := ciCase{name: "lists", file: "woodpecker-deploy.env", prefix: "PLUGIN_", deployment: true, number: 25,
		url: "http://1.2.3.4:8000/repos/2/pipeline/25", state: "successful", ref: "main", pipeline: "test/woodpecker-test/woodpecker",
		env: wantEnv{"production", "production", "production"}, keys: "DEMO-7,DEMO-8"}
	_, srv := tt.run(t, "PLUGIN_ISSUE_KEYS=DEMO-7,DEMO-8", `PLUGIN_SERVICE_IDS=["svc-a","svc-from-secret"]`)
	d := srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
	if a := d["associations"].([]any)[1].(map[string]any); a["associationType"] != "serviceIdOrKeys" || join(a["values"]) != "svc-a,svc-from-secret" {
		t.Errorf("services: %v", a)
	}
}

// Bitbucket gives no commit message: the keys come from the clone.
func bitbucketClone(t *testing.T, message string) (dir, sha string) {
	repo := gittest.Build(t, []gittest.Commit{{Message: "Initial commit\n"}, {Message: message}})
	return repo.Dir, repo.SHAs[1]
}

func TestBitbucketEndToEnd(t *testing.T) {
	const url = "https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/"
	const pipeline = "ondrejmachulda/ci-detector"
	dir, sha := bitbucketClone(t, "DEMO-1 fix the login\n")
	clone := []string{"BITBUCKET_CLONE_DIR=" + dir, "BITBUCKET_COMMIT=" + sha}
	for _, tt := range []ciCase{
		{name: "push", file: "bitbucket-push.env", extra: clone, number: 5, url: url + "5", state: "successful", ref: "main",
			sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		{name: "failed run", file: "bitbucket-push-failed.env", extra: clone, number: 5, url: url + "5", state: "failed",
			ref: "main", sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		{name: "succeeded run (after-script)", file: "bitbucket-push-failed.env", extra: append([]string{"BITBUCKET_EXIT_CODE=0"}, clone...),
			number: 5, url: url + "5", state: "successful", ref: "main", sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		// The pull request's commit abbreviated, as Bitbucket gives it: the
		// clone gives the full sha.
		{name: "pull request", file: "bitbucket-pr.env", extra: []string{"BITBUCKET_CLONE_DIR=" + dir, "BITBUCKET_COMMIT=" + sha[:12]},
			number: 4, url: url + "4", state: "successful", ref: "feature/bitbucket", sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		{name: "tag", file: "bitbucket-push.env", extra: append([]string{"BITBUCKET_TAG=1.2.3", "BITBUCKET_BRANCH"}, clone...),
			number: 5, url: url + "5", state: "successful", ref: "1.2.3", sha: sha, pipeline: pipeline, keys: "DEMO-1"},
		{name: "deployment", file: "bitbucket-deploy.env", extra: clone, deployment: true, number: 6, url: url + "6",
			state: "successful", ref: "main", pipeline: pipeline, env: wantEnv{"staging", "staging", "staging"}, keys: "DEMO-1"},
	} {
		tt.prefix = "JIRA_"
		tt.run(t)
	}
}

func TestBitbucketPipeEndToEnd(t *testing.T) {
	dir, sha := bitbucketClone(t, "DEMO-1 fix the login\n")
	storage := filepath.Join(t.TempDir(), "pipe")
	tt := ciCase{name: "pipe", file: "bitbucket-deploy.env", prefix: "JIRA_",
		extra:      []string{"BITBUCKET_CLONE_DIR=" + dir, "BITBUCKET_COMMIT=" + sha, "BITBUCKET_PIPE_STORAGE_DIR=" + storage},
		deployment: true, number: 6, url: "https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/6", state: "successful",
		ref: "main", pipeline: "ondrejmachulda/ci-detector", env: wantEnv{"staging", "staging", "staging"}, keys: "DEMO-1"}
	// A pipe's list variable (JIRA_SERVICE_IDS: [svc-a, svc-b]) and DEBUG.
	r, srv := tt.run(t, "JIRA_SERVICE_IDS_COUNT=2", "JIRA_SERVICE_IDS_0=svc-a", "JIRA_SERVICE_IDS_1=svc-b", "DEBUG=true")
	d := srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
	if a := d["associations"].([]any)[1].(map[string]any); join(a["values"]) != "svc-a,svc-b" {
		t.Errorf("services: %v", a)
	}
	if !strings.Contains(r.stderr, "debug: ") {
		t.Errorf("DEBUG=true gave no debug log:\n%s", r.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(storage, "jira-cicd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Status    string
		Sent      bool
		IssueKeys []string `json:"issue_keys"`
		Record    struct {
			Type        string
			State       string
			Environment struct{ ID, Name string }
		}
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "sent" || !res.Sent || strings.Join(res.IssueKeys, ",") != "DEMO-1" || res.Record.Type != "deployment" ||
		res.Record.State != "successful" || res.Record.Environment.ID != "staging" {
		t.Errorf("result file: %s", raw)
	}
	if strings.Contains(string(raw), canary) {
		t.Error("secret in the result file")
	}
}

// A pipe's own test passes five variables: no repository, so no link to the
// run; the step says which setting to give (exit 2) and contacts nothing.
func TestBitbucketSubsetAsksForURL(t *testing.T) {
	srv := newJira(t)
	env := append(ciEnv(t, "bitbucket-tag.env", "BITBUCKET_CLONE_DIR="+t.TempDir()), settingsEnv("JIRA_", srv)...)
	r := runStep(t, t.TempDir(), nil, append(env, "JIRA_ISSUE_KEYS=DEMO-1"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "setting url") || !strings.Contains(r.stderr, "Bitbucket Pipelines gives no link") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if len(srv.Requests()) != 0 {
		t.Error("contacted Jira")
	}
}

func TestGitLabEndToEnd(t *testing.T) {
	const sha = "5d25f4849bbd812e4e64e78d4aaa94a72e6cab5c"
	key := "CI_COMMIT_MESSAGE=DEMO-1 Test Gitlab CI"
	for _, tt := range []ciCase{
		{name: "push", file: "gitlab-push.env", extra: []string{key}, number: 5,
			url: "https://gitlab.com/OndraM/ci-detector/-/jobs/111560648", state: "successful", ref: "test-gitlab", sha: sha,
			pipeline: "OndraM/ci-detector/job1", keys: "DEMO-1"},
		{name: "failed run", file: "gitlab-push-failed.env", extra: []string{key}, number: 5,
			url: "https://gitlab.com/OndraM/ci-detector/-/jobs/111560648", state: "failed", ref: "test-gitlab", sha: sha,
			pipeline: "OndraM/ci-detector/job1", keys: "DEMO-1"},
		{name: "canceled run", file: "gitlab-push-failed.env", extra: []string{key, "CI_JOB_STATUS=canceled"}, number: 5,
			url: "https://gitlab.com/OndraM/ci-detector/-/jobs/111560648", state: "cancelled", ref: "test-gitlab", sha: sha,
			pipeline: "OndraM/ci-detector/job1", keys: "DEMO-1"},
		// The key in the merge request's title.
		{name: "merge request", file: "gitlab-mr.env", extra: []string{"CI_MERGE_REQUEST_TITLE=DEMO-2 Test Gitlab CI"}, number: 5,
			url: "https://gitlab.com/OndraM/ci-detector/-/jobs/111560648", state: "successful", ref: "test-gitlab", sha: sha,
			pipeline: "OndraM/ci-detector/job1", keys: "DEMO-2"},
		{name: "tag", file: "gitlab-tag-job.env", extra: []string{"CI_COMMIT_MESSAGE=Release DEMO-3"}, number: 10,
			url: "https://example.com/gitlab-org/gitlab-foss/-/jobs/50", state: "successful", ref: "1.0.0",
			sha: "1ecfd275763eff1d6b4844ea3168962458c9f27a", pipeline: "gitlab-org/gitlab-foss/spec:other", keys: "DEMO-3"},
		// The environment's type from its tier, not its name.
		{name: "deployment", file: "gitlab-deploy.env", extra: []string{key}, deployment: true, number: 5,
			url: "https://gitlab.com/OndraM/ci-detector/-/jobs/111560700", state: "successful", ref: "test-gitlab",
			pipeline: "OndraM/ci-detector/deploy", env: wantEnv{"eu-west", "eu-west", "production"}, keys: "DEMO-1"},
	} {
		tt.prefix = "JIRA_"
		tt.run(t)
	}
}

// A status word no dictionary knows is an input error naming the accepted
// words, never sent raw.
func TestUnmappedCIStatusIsExit2(t *testing.T) {
	srv := newJira(t)
	env := append(ciEnv(t, "gitlab-push-failed.env", "CI_JOB_STATUS=exploded", "CI_COMMIT_MESSAGE=DEMO-1 x"), settingsEnv("JIRA_", srv)...)
	r := runStep(t, t.TempDir(), nil, env)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "setting state") || !strings.Contains(r.stderr, `"exploded"`) ||
		!strings.Contains(r.stderr, "GitLab CI") || !strings.Contains(r.stderr, "successful") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if len(srv.Requests()) != 0 {
		t.Error("contacted Jira")
	}
}
