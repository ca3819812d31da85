package app

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// Development information end to end (issue 11). fakejira validates every
// devinfo body against Atlassian's schema and fails the test on an invalid
// one.

const ghRepo = "https://github.com/Codertocat/Hello-World"

// files is a commit's whole tree: base with changes applied ("" deletes).
func files(base map[string]string, changes ...string) map[string]string {
	out := maps.Clone(base)
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			delete(out, changes[i])
		} else {
			out[changes[i]] = changes[i+1]
		}
	}
	return out
}

// mergeRepo: 0 root; 1 "ABC-1" changes 3 files; 2 (branch side, from 1)
// "ABC-2" adds e.txt; 3 (main) a key-less commit; 4 merges side into main
// "ABC-3" (against its first parent it adds e.txt). HEAD is 4.
func mergeRepo(t *testing.T) *gittest.Repo {
	f0 := map[string]string{"a.txt": "1\n", "d.txt": "d\n"}
	f1 := files(f0, "a.txt", "1\n2\n", "b.txt", "b\n", "d.txt", "")
	f2 := files(f1, "e.txt", "e\n")
	f3 := files(f1, "c.txt", "c\n")
	f4 := files(f3, "e.txt", "e\n")
	return gittest.Build(t, []gittest.Commit{
		{Message: "initial import\n", Files: f0},
		{Message: "ABC-1: three files\n", Files: f1},
		{Message: "ABC-2 side work\n", Files: f2, Branch: "side"},
		{Message: "tidy up\n", Files: f3, Parents: []int{1}},
		{Message: "Merge branch 'side' (ABC-3)\n", Files: f4, Parents: []int{3, 2}},
	})
}

// devinfoBodies decodes every devinfo body fakejira received.
func devinfoBodies(t *testing.T, srv *fakejira.Server) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, raw := range srv.DevInfoBodies() {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func repoOf(body map[string]any) map[string]any {
	return body["repositories"].([]any)[0].(map[string]any)
}

func entities(repo map[string]any, kind string) []map[string]any {
	var out []map[string]any
	list, _ := repo[kind].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

// byID maps entities by id.
func byID(list []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range list {
		out[e["id"].(string)] = e
	}
	return out
}

// A GitHub push over a range with a merge, a key-less commit and a 3-file
// commit sends exactly the key-naming commits, each with its own keys, file
// count and URLs; the record and the devinfo go after one token: three
// requests with cloud_id.
func TestDevinfoGitHubPush(t *testing.T) {
	srv := newJira(t)
	repo := mergeRepo(t)
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_CLOUD_ID="+fakejira.DefaultCloudID, "INPUT_DEVELOPMENT_INFO=true",
		"GITHUB_SHA="+repo.SHAs[4])
	env = append(env, "GITHUB_EVENT_PATH="+pushPayload(t, dir, repo.SHAs[0], "ABC-1: three files", "ABC-2 side work", "tidy up", "Merge branch 'side' (ABC-3)"))
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var eps []string
	for _, q := range srv.Requests() {
		eps = append(eps, string(q.Endpoint))
	}
	if len(eps) != 3 || eps[0] != string(fakejira.EndpointToken) || !slices.Contains(eps, string(fakejira.EndpointBuilds)) || !slices.Contains(eps, string(fakejira.EndpointDevInfo)) {
		t.Fatalf("requests %v; want token, then the build and the devinfo", eps)
	}
	bodies := devinfoBodies(t, srv)
	repoE := repoOf(bodies[0])
	if repoE["url"] != ghRepo || repoE["name"] != "Codertocat/Hello-World" {
		t.Errorf("repository %v %v", repoE["url"], repoE["name"])
	}
	commits := byID(entities(repoE, "commits"))
	if len(commits) != 3 {
		t.Fatalf("commits %v; want the three key-naming ones", slices.Collect(maps.Keys(commits)))
	}
	for _, want := range []struct {
		i     int
		keys  string
		files float64
		merge bool
	}{{1, "ABC-1", 3, false}, {2, "ABC-2", 1, false}, {4, "ABC-3", 1, true}} {
		sha := repo.SHAs[want.i]
		c := commits[sha]
		if c == nil {
			t.Errorf("commit %d missing", want.i)
			continue
		}
		if join(c["issueKeys"]) != want.keys || c["fileCount"] != want.files || c["url"] != ghRepo+"/commit/"+sha || c["displayId"] != sha[:7] {
			t.Errorf("commit %d: keys %v fileCount %v url %v displayId %v", want.i, c["issueKeys"], c["fileCount"], c["url"], c["displayId"])
		}
		if got := c["flags"] != nil; got != want.merge {
			t.Errorf("commit %d flags %v", want.i, c["flags"])
		}
	}
	// The 3-file commit lists its files with their lines.
	fs := commits[repo.SHAs[1]]["files"].([]any)
	if len(fs) != 3 {
		t.Fatalf("files %v", fs)
	}
	a := fs[0].(map[string]any)
	if a["path"] != "a.txt" || a["changeType"] != "MODIFIED" || a["linesAdded"] != 1.0 || a["linesRemoved"] != 0.0 || a["url"] != ghRepo+"/blob/"+repo.SHAs[1]+"/a.txt" {
		t.Errorf("a.txt: %v", a)
	}
	if d := fs[2].(map[string]any); d["path"] != "d.txt" || d["changeType"] != "DELETED" {
		t.Errorf("d.txt: %v", d)
	}
	br := entities(repoE, "branches")
	if len(br) != 1 || br[0]["name"] != "feature/OPS-7-deploy" || join(br[0]["issueKeys"]) != "OPS-7" ||
		br[0]["url"] != ghRepo+"/tree/feature/OPS-7-deploy" || br[0]["createPullRequestUrl"] != ghRepo+"/compare/feature/OPS-7-deploy?expand=1" {
		t.Fatalf("branch %v", br)
	}
	if last := br[0]["lastCommit"].(map[string]any); last["id"] != repo.SHAs[4] || join(last["issueKeys"]) != "ABC-3" {
		t.Errorf("lastCommit %v", last)
	}
	if output(r, "development_info_sent") != "true" || output(r, "commits_sent") != "3" {
		t.Errorf("outputs %q %q", output(r, "development_info_sent"), output(r, "commits_sent"))
	}
	if !strings.Contains(r.file("summary"), "| Development information | sent, 3 commit(s) |") {
		t.Errorf("summary:\n%s", r.file("summary"))
	}
	// The build has the keys of the whole range too (and the branch's).
	if got := builtKeys(srv); !slices.Equal(got, []string{"OPS-7", "ABC-3", "ABC-2", "ABC-1"}) {
		t.Errorf("build keys %v", got)
	}
}

// prRepo: main 0, 1; the pull request's branch from 1: 2 "ABC-5", 3
// key-less (the head); 4 the merge commit GitHub checks out, HEAD.
func prRepo(t *testing.T) *gittest.Repo {
	f0 := map[string]string{"a.txt": "a\n"}
	return gittest.Build(t, []gittest.Commit{
		{Message: "initial import\n", Files: f0},
		{Message: "base work\n", Files: files(f0, "b.txt", "b\n")},
		{Message: "ABC-5 first step\n", Files: files(f0, "b.txt", "b\n", "c.txt", "c\n"), Branch: "feature"},
		{Message: "second step\n", Files: files(f0, "b.txt", "b\n", "c.txt", "c\nc\n"), Branch: "feature"},
		{Message: "Merge 3 into 1\n", Files: files(f0, "b.txt", "b\n", "c.txt", "c\nc\n"), Parents: []int{1, 3}},
	})
}

// prEvent writes a GitHub pull_request payload from a fixture with this
// repository's head and base, and the given changes.
func prEvent(t *testing.T, dir, fixture string, repo *gittest.Repo, edit func(pr map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(testdata("github", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	pr := ev["pull_request"].(map[string]any)
	pr["head"].(map[string]any)["sha"] = repo.SHAs[3]
	pr["head"].(map[string]any)["ref"] = "feature/ABC-9-readme"
	pr["base"].(map[string]any)["sha"] = repo.SHAs[1]
	if edit != nil {
		edit(pr)
	}
	out, _ := json.Marshal(ev)
	p := filepath.Join(dir, "event.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func prRun(t *testing.T, fixture string, edit func(pr map[string]any), extra ...string) (*gittest.Repo, map[string]any, result) {
	t.Helper()
	srv := newJira(t)
	repo := prRepo(t)
	dir := t.TempDir()
	env := append(githubEnv(repo.Dir, "pull_request", fixture, "GITHUB_HEAD_REF=feature/ABC-9-readme",
		"GITHUB_BASE_REF=master", "GITHUB_REF=refs/pull/2/merge", "GITHUB_SHA="+repo.SHAs[4],
		"GITHUB_OUTPUT="+filepath.Join(dir, "output"), "INPUT_DEVELOPMENT_INFO=true"), creds(srv)...)
	env = append(append(env, "GITHUB_EVENT_PATH="+prEvent(t, dir, fixture, repo, edit)), extra...)
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	bodies := devinfoBodies(t, srv)
	if len(bodies) != 1 {
		t.Fatalf("%d devinfo bodies", len(bodies))
	}
	return repo, repoOf(bodies[0]), r
}

// A pull request run adds an OPEN pull request with the keys of its title,
// source branch and own commits; the branch's last commit is the PR head,
// not the merge commit.
func TestDevinfoPullRequestOpen(t *testing.T) {
	repo, repoE, _ := prRun(t, "pr-with-keys.json", nil)
	prs := entities(repoE, "pullRequests")
	if len(prs) != 1 {
		t.Fatalf("pull requests %v", prs)
	}
	pr := prs[0]
	if pr["id"] != "2" || pr["displayId"] != "#2" || pr["status"] != "OPEN" || pr["url"] != ghRepo+"/pull/2" ||
		pr["sourceBranch"] != "feature/ABC-9-readme" || pr["destinationBranch"] != "master" ||
		pr["sourceBranchUrl"] != ghRepo+"/tree/feature/ABC-9-readme" {
		t.Errorf("pull request %v", pr)
	}
	if keys := join(pr["issueKeys"]); keys != "PRJ-9,ABC-9,ABC-5" {
		t.Errorf("pull request keys %s", keys)
	}
	if a := pr["author"].(map[string]any); a["name"] != "Codertocat" {
		t.Errorf("author %v", a)
	}
	br := entities(repoE, "branches")
	if len(br) != 1 || br[0]["lastCommit"].(map[string]any)["id"] != repo.SHAs[3] {
		t.Fatalf("branch %v", br)
	}
	// The PR's own key-naming commit is sent; the merge commit and the
	// base's history are not.
	commits := byID(entities(repoE, "commits"))
	if len(commits) != 1 || commits[repo.SHAs[2]] == nil {
		t.Errorf("commits %v", slices.Collect(maps.Keys(commits)))
	}
}

// A merged close sends a MERGED pull request; a close without a merge a
// DECLINED one.
func TestDevinfoPullRequestClosed(t *testing.T) {
	_, repoE, _ := prRun(t, "github-pr-closed.json", func(pr map[string]any) { pr["merged"] = true })
	if pr := entities(repoE, "pullRequests"); len(pr) != 1 || pr[0]["status"] != "MERGED" {
		t.Errorf("merged: %v", pr)
	}
	_, repoE, _ = prRun(t, "github-pr-closed.json", nil, "INPUT_PROJECT_KEYS=ABC,PRJ")
	if pr := entities(repoE, "pullRequests"); len(pr) != 1 || pr[0]["status"] != "DECLINED" {
		t.Errorf("closed: %v", pr)
	}
	// With project_keys, a lower-case key in the branch's name counts, as
	// it does for the record.
	prEventBranch := func(pr map[string]any) { pr["head"].(map[string]any)["ref"] = "feature/abc-9-readme" }
	_, repoE, _ = prRun(t, "github-pr-closed.json", prEventBranch, "GITHUB_HEAD_REF=feature/abc-9-readme", "INPUT_PROJECT_KEYS=ABC,PRJ")
	if br := entities(repoE, "branches"); len(br) != 1 || join(br[0]["issueKeys"]) != "ABC-9" {
		t.Errorf("lower-case branch: %v", br)
	}
}

// linearRepo has a root commit and n commits "ABC-i" (i = 1..n).
func linearRepo(t *testing.T, n int) *gittest.Repo {
	commits := []gittest.Commit{{Message: "initial import\n"}}
	for i := 1; i <= n; i++ {
		commits = append(commits, gittest.Commit{Message: fmt.Sprintf("ABC-%d change %d\n", i, i)})
	}
	return gittest.Build(t, commits)
}

// Woodpecker on Gitea (CI_FORGE_TYPE) and GitLab give their forges' URL
// shapes.
func TestDevinfoForgeURLShapes(t *testing.T) {
	repo := linearRepo(t, 2)
	head := repo.SHAs[2]
	for _, tt := range []struct {
		name, file, prefix string
		extra              []string
		web, commit, brnch string
	}{
		{"woodpecker gitea", "woodpecker-push.env", "PLUGIN_", []string{"CI_WORKSPACE=" + repo.Dir, "CI_COMMIT_SHA=" + head, "CI_PREV_COMMIT_SHA=" + repo.SHAs[0], "CI_COMMIT_BRANCH=feature/ABC-7"},
			"http://1.2.3.4:3000/test/woodpecker-test", "/commit/", "/src/branch/feature/ABC-7"},
		{"gitlab", "gitlab-push.env", "JIRA_", []string{"CI_PROJECT_DIR=" + repo.Dir, "CI_COMMIT_SHA=" + head, "CI_COMMIT_BEFORE_SHA=" + repo.SHAs[0], "CI_COMMIT_BRANCH=feature/ABC-7", "CI_COMMIT_REF_NAME=feature/ABC-7"},
			"https://gitlab.com/OndraM/ci-detector", "/-/commit/", "/-/tree/feature/ABC-7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJira(t)
			env := append(ciEnv(t, tt.file, tt.extra...), settingsEnv(tt.prefix, srv)...)
			r := runStep(t, t.TempDir(), nil, append(env, tt.prefix+"DEVELOPMENT_INFO=true"))
			if r.code != ExitOK {
				t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			bodies := devinfoBodies(t, srv)
			if len(bodies) != 1 {
				t.Fatalf("%d bodies", len(bodies))
			}
			repoE := repoOf(bodies[0])
			if repoE["url"] != tt.web {
				t.Errorf("url %v", repoE["url"])
			}
			commits := byID(entities(repoE, "commits"))
			if len(commits) != 2 || commits[head] == nil || commits[head]["url"] != tt.web+tt.commit+head {
				t.Errorf("commits %v", commits)
			}
			if br := entities(repoE, "branches"); len(br) != 1 || br[0]["url"] != tt.web+tt.brnch {
				t.Errorf("branch %v", br)
			}
		})
	}
}

// only sends the development information and no record.
func TestDevinfoOnlySendsNoRecord(t *testing.T) {
	srv := newJira(t)
	repo := linearRepo(t, 2)
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_DEVELOPMENT_INFO=only", "INPUT_COMMITS_SINCE="+repo.SHAs[0], "GITHUB_SHA="+repo.SHAs[2])
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if srv.Count(fakejira.EndpointBuilds)+srv.Count(fakejira.EndpointDeployments) != 0 || srv.Count(fakejira.EndpointDevInfo) != 1 {
		t.Fatalf("builds %d deployments %d devinfo %d", srv.Count(fakejira.EndpointBuilds), srv.Count(fakejira.EndpointDeployments), srv.Count(fakejira.EndpointDevInfo))
	}
	if output(r, "sent") != "true" || output(r, "commits_sent") != "2" || output(r, "development_info_sent") != "true" {
		t.Errorf("outputs sent=%s commits_sent=%s", output(r, "sent"), output(r, "commits_sent"))
	}
}

// 450 key-naming commits go as BACKFILL parts of at most 400, in order, the
// branch with the first.
func TestDevinfoBackfill(t *testing.T) {
	srv := newJira(t)
	repo := linearRepo(t, 450)
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_DEVELOPMENT_INFO=only", "INPUT_COMMITS_SINCE="+repo.SHAs[0], "GITHUB_SHA="+repo.SHAs[450])
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	bodies := devinfoBodies(t, srv)
	if len(bodies) != 2 {
		t.Fatalf("%d bodies", len(bodies))
	}
	n := 0
	for i, b := range bodies {
		if b["operationType"] != "BACKFILL" || b["preventTransitions"] != true {
			t.Errorf("body %d: %v %v", i, b["operationType"], b["preventTransitions"])
		}
		c := entities(repoOf(b), "commits")
		if len(c) > 400 {
			t.Errorf("body %d: %d commits", i, len(c))
		}
		n += len(c)
		if got := len(entities(repoOf(b), "branches")); got != map[int]int{0: 1, 1: 0}[i] {
			t.Errorf("body %d: %d branches", i, got)
		}
	}
	// Newest first: the first part starts at HEAD.
	if n != 450 || entities(repoOf(bodies[0]), "commits")[0]["id"] != repo.SHAs[450] {
		t.Errorf("%d commits", n)
	}
	if output(r, "commits_sent") != "450" {
		t.Errorf("commits_sent %s", output(r, "commits_sent"))
	}
}

// A 403 on the devinfo API names the credential's permission; the record
// went, and fail_on_error decides the exit.
func TestDevinfoForbiddenNamesThePermission(t *testing.T) {
	srv := newJira(t, fakejira.WithScript(fakejira.EndpointDevInfo, fakejira.ErrorResponse(403, "Forbidden")))
	repo := linearRepo(t, 1)
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_DEVELOPMENT_INFO=true", "GITHUB_SHA="+repo.SHAs[1])
	r := runStep(t, dir, nil, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout+r.stderr, `"Development information" permission`) {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if srv.Count(fakejira.EndpointBuilds) != 1 || output(r, "sent") != "true" || output(r, "development_info_sent") != "false" {
		t.Errorf("builds %d sent %s development_info_sent %s", srv.Count(fakejira.EndpointBuilds), output(r, "sent"), output(r, "development_info_sent"))
	}
	srv.Script(fakejira.EndpointDevInfo, fakejira.ErrorResponse(403, "Forbidden"))
	if r := runStep(t, dir, nil, append(env, "INPUT_FAIL_ON_ERROR=false")); r.code != ExitOK {
		t.Errorf("fail_on_error false: exit %d", r.code)
	}
}

// Entities Jira refuses and keys it does not know are reported like a
// record's rejections.
func TestDevinfoRejectedEntities(t *testing.T) {
	repo := linearRepo(t, 1)
	srv := newJira(t, fakejira.WithDevInfoFailure(fakejira.EntityCommit, repo.SHAs[1], "commit refused"), fakejira.WithUnknownIssueKeys("OPS-7"))
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_DEVELOPMENT_INFO=only", "GITHUB_SHA="+repo.SHAs[1])
	r := runStep(t, dir, nil, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout+r.stderr, "commit refused") || !strings.Contains(r.stdout+r.stderr, "Jira does not know these issue keys: OPS-7") {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if output(r, "development_info_sent") != "false" || output(r, "commits_sent") != "0" {
		t.Errorf("outputs %s %s", output(r, "development_info_sent"), output(r, "commits_sent"))
	}
}

// paths: a deployment of service a links only the keys of commits that
// change services/a, in the record and in the development information.
func TestPathsKeepOtherServicesOut(t *testing.T) {
	f0 := map[string]string{"services/a/main.go": "a\n", "services/b/main.go": "b\n"}
	f1 := files(f0, "services/a/main.go", "a2\n")
	f2 := files(f1, "services/b/main.go", "b2\n")
	f3 := files(f2, "README.md", "docs\n")
	repo := gittest.Build(t, []gittest.Commit{
		{Message: "initial import\n", Files: f0},
		{Message: "SVCA-1 change a\n", Files: f1},
		{Message: "SVCB-1 change b\n", Files: f2},
		{Message: "DOC-1 readme\n", Files: f3},
	})
	srv := newJira(t)
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_ENVIRONMENT=production", "INPUT_COMMITS_SINCE="+repo.SHAs[0],
		"INPUT_PATHS=services/a/**", "INPUT_DEVELOPMENT_INFO=true", "GITHUB_SHA="+repo.SHAs[3])
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The branch's key still counts (see the README).
	if got := deployedKeys(t, srv); !slices.Equal(got, []string{"OPS-7", "SVCA-1"}) {
		t.Errorf("deployed keys %v", got)
	}
	commits := byID(entities(repoOf(devinfoBodies(t, srv)[0]), "commits"))
	if len(commits) != 1 || commits[repo.SHAs[1]] == nil {
		t.Errorf("devinfo commits %v", commits)
	}
	// Nothing of service b: no keys, and the message says where it looked.
	srv2 := newJira(t)
	dir, env = repoEnv(t, srv2, repo.Dir, "INPUT_COMMITS_SINCE="+repo.SHAs[1], "INPUT_PATHS=services/a/**", "GITHUB_SHA="+repo.SHAs[3],
		"GITHUB_REF_NAME=main", "GITHUB_REF=refs/heads/main")
	r = runStep(t, dir, nil, env)
	if r.code != ExitOK || srv2.Count(fakejira.EndpointBuilds) != 0 || !strings.Contains(r.stdout, "the 0 commit message(s) that change services/a/**") {
		t.Errorf("exit %d, %d builds:\n%s", r.code, srv2.Count(fakejira.EndpointBuilds), r.stdout)
	}
}

// A GitHub delete event for a branch deletes the branch entity, and sends
// nothing else.
func TestDevinfoDeleteEventDeletesTheBranch(t *testing.T) {
	srv := newJira(t)
	dir := t.TempDir()
	ev := filepath.Join(dir, "event.json")
	b, err := os.ReadFile(testdata("github", "github-delete-branch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["ref"], m["ref_type"] = "feature/ABC-1-x", "branch"
	b, _ = json.Marshal(m)
	if err := os.WriteFile(ev, b, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(githubEnv(dir, "delete", "github-delete-branch.json", "GITHUB_REF=refs/heads/master", "INPUT_DEVELOPMENT_INFO=true"), creds(srv)...)
	env = append(env, "GITHUB_EVENT_PATH="+ev)
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var del []fakejira.Request
	for _, q := range srv.Requests() {
		if q.Endpoint == fakejira.EndpointDevInfoDelete {
			del = append(del, q)
		}
	}
	if len(del) != 1 || srv.Count(fakejira.EndpointBuilds) != 0 || srv.Count(fakejira.EndpointDevInfo) != 0 {
		t.Fatalf("requests %v", srv.Requests())
	}
	// The branch's id as the push sent it: "~" and the name's hex (its
	// name holds a "/").
	want := "/repository/github.com~codertocat~hello-world/branch/~" + hex.EncodeToString([]byte("feature/ABC-1-x"))
	if !strings.HasSuffix(del[0].Path, want) {
		t.Errorf("path %s, want ...%s", del[0].Path, want)
	}
	if !strings.Contains(del[0].RawQuery, "_updateSequenceId=") {
		t.Errorf("query %q", del[0].RawQuery)
	}
}

// dry_run prints the record, then each devinfo body, as JSON values in
// request order.
func TestDevinfoDryRun(t *testing.T) {
	repo := linearRepo(t, 2)
	repo.SetRemote(t, "origin", "https://github.com/acme/app.git")
	// A local run: the log goes to stderr, stdout holds only the bodies.
	r := runStep(t, repo.Dir, nil, []string{"JIRA_DEVELOPMENT_INFO=true", "JIRA_DRY_RUN=true", "JIRA_COMMITS_SINCE=" + repo.SHAs[0],
		"JIRA_PIPELINE_ID=p", "JIRA_BUILD_NUMBER=1", "JIRA_URL=https://ci.example.com/1"})
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var values []map[string]any
	for dec.More() {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%v:\n%s", err, r.stdout)
		}
		values = append(values, v)
	}
	if len(values) != 2 || values[0]["builds"] == nil || values[1]["repositories"] == nil {
		t.Fatalf("values:\n%s", r.stdout)
	}
	raw, _ := json.Marshal(values[1])
	if err := fakejira.ValidateBody("devinfo", raw); err != nil {
		t.Errorf("devinfo body invalid: %v", err)
	}
	if got := len(entities(repoOf(values[1]), "commits")); got != 2 {
		t.Errorf("%d commits", got)
	}
}

// only needs none of a record's values: a local run with no pipeline id,
// build number or run URL sends the development information.
func TestDevinfoOnlyNeedsNoRecordValues(t *testing.T) {
	srv := newJira(t)
	repo := linearRepo(t, 1)
	repo.SetRemote(t, "origin", "https://git.example.com/team/app.git")
	r := runStep(t, repo.Dir, nil, []string{"JIRA_DEVELOPMENT_INFO=only", "JIRA_FORGE=forgejo", "JIRA_CLIENT_ID=client-1", "JIRA_CLIENT_SECRET=" + canary,
		"JIRA_SITE=" + srv.URL, "JIRA_API_URL=" + srv.URL})
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	bodies := devinfoBodies(t, srv)
	if len(bodies) != 1 {
		t.Fatalf("%d bodies", len(bodies))
	}
	c := entities(repoOf(bodies[0]), "commits")
	if len(c) != 1 || c[0]["url"] != "https://git.example.com/team/app/commit/"+repo.SHAs[1] {
		t.Errorf("commits %v", c)
	}
	if !strings.Contains(r.stderr, "jira-cicd: sent development information (1 commit(s))") {
		t.Errorf("summary line:\n%s", r.stderr)
	}
}

// With development information the token and cloud id are taken while the
// commits' files are read; a failure there is reported once, by the send,
// and not asked again (one lookup for a final 404, not two).
func TestDevinfoEarlyFailureIsReportedOnce(t *testing.T) {
	srv := newJira(t, fakejira.WithScript(fakejira.EndpointTenantInfo, fakejira.ErrorResponse(404, "Not Found")))
	repo := linearRepo(t, 1)
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_DEVELOPMENT_INFO=true", "GITHUB_SHA="+repo.SHAs[1])
	r := runStep(t, dir, nil, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout+r.stderr, "tenant_info") {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := srv.Count(fakejira.EndpointTenantInfo); n != 1 {
		t.Errorf("%d tenant_info requests, want 1", n)
	}
	if n := srv.Count(fakejira.EndpointBuilds) + srv.Count(fakejira.EndpointDevInfo); n != 0 {
		t.Errorf("%d submissions without a cloud id", n)
	}
}
