package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// keyedRepo is a repository whose main branch has a root commit without a
// key, then n commits "REL-i: change i" (i = 1..n), HEAD the last.
func keyedRepo(t *testing.T, n int, tags map[int]string) *gittest.Repo {
	t.Helper()
	commits := []gittest.Commit{{Message: "initial import\n"}}
	for i := 1; i <= n; i++ {
		commits = append(commits, gittest.Commit{Message: fmt.Sprintf("REL-%d: change %d\n\nreviewed\n", i, i), Tag: tags[i]})
	}
	return gittest.Build(t, commits)
}

// relKeys is REL-from..REL-to, newest (from) first.
func relKeys(from, to int) []string {
	var out []string
	for i := from; i >= to; i-- {
		out = append(out, fmt.Sprintf("REL-%d", i))
	}
	return out
}

// pushPayload writes a GitHub push event: before, and the last commits'
// messages as GitHub gives them (oldest first, no trailing newline).
func pushPayload(t *testing.T, dir, before string, messages ...string) string {
	t.Helper()
	var commits []map[string]any
	for _, m := range messages {
		commits = append(commits, map[string]any{"message": strings.TrimSpace(m)})
	}
	ev := map[string]any{"before": before, "after": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "commits": commits}
	if len(messages) > 0 {
		ev["head_commit"] = map[string]any{"message": strings.TrimSpace(messages[len(messages)-1])}
	}
	b, _ := json.Marshal(ev)
	p := filepath.Join(dir, "event.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// repoEnv is a GitHub push of branch feature/OPS-7-deploy whose workspace
// is the repository at repoDir; later variables override earlier ones.
func repoEnv(t *testing.T, srv *fakejira.Server, repoDir string, extra ...string) (string, []string) {
	dir, env := pushEnv(t, srv)
	return dir, append(append(env, "GITHUB_WORKSPACE="+repoDir), extra...)
}

func deployedKeys(t *testing.T, srv *fakejira.Server) []string {
	t.Helper()
	d := srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
	var keys []string
	for _, a := range d["associations"].([]any) {
		a := a.(map[string]any)
		if a["associationType"] == "issueIdOrKeys" {
			for _, v := range a["values"].([]any) {
				keys = append(keys, v.(string))
			}
		}
	}
	return keys
}

func builtKeys(srv *fakejira.Server) []string {
	b := srv.LastBuilds()["builds"].([]any)[0].(map[string]any)
	return strings.Split(join(b["issueKeys"]), ",")
}

// output is the last value the run set for a GitHub output, read as the
// runner reads GITHUB_OUTPUT: "name=value" lines (what the step writes), or
// "name<<DELIM" blocks.
func output(r result, name string) string {
	val := "<missing>"
	lines := strings.Split(r.file("output"), "\n")
	for i := 0; i < len(lines); i++ {
		eq, hd := strings.Index(lines[i], "="), strings.Index(lines[i], "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			if lines[i][:eq] == name {
				val = lines[i][eq+1:]
			}
		case hd >= 0:
			n, delim := lines[i][:hd], lines[i][hd+2:]
			var v []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				v = append(v, lines[i])
			}
			if n == name {
				val = strings.Join(v, "\n")
			}
		}
	}
	return val
}

// Done when: a deployment with commits_since set to a commit 20 commits
// back links the keys of all 20 commits, and the branch's.
func TestDeploymentLinksEveryCommitSinceCommitsSince(t *testing.T) {
	repo := keyedRepo(t, 20, nil)
	srv := newJira(t)
	// The CI's own messages (push-with-keys.json: GHI-3, ABC-1, DEF-2) are
	// not in this repository: they are scanned after the range.
	dir, env := repoEnv(t, srv, repo.Dir, "INPUT_ENVIRONMENT=Production", "INPUT_COMMITS_SINCE="+repo.SHAs[0])
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	want := append(append([]string{"OPS-7"}, relKeys(20, 1)...), "GHI-3", "ABC-1", "DEF-2")
	if got := deployedKeys(t, srv); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys\n got %v\nwant %v", got, want)
	}
	if got := output(r, "commits_scanned"); got != "23" {
		t.Errorf("commits_scanned = %s, want 20 commits + 3 CI messages", got)
	}
	if !strings.Contains(r.stdout, "commits: 23 commit message(s) scanned, since commits_since "+repo.SHAs[0]) {
		t.Errorf("no range line:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "::warning::") {
		t.Errorf("unexpected warning:\n%s", r.stdout)
	}
}

// Without commits_since, the push's before is the start of the range; the
// payload's messages, the same commits, are not counted twice.
func TestRangeFromThePushBefore(t *testing.T) {
	repo := keyedRepo(t, 20, nil)
	srv := newJira(t)
	events := t.TempDir()
	last := []string{"REL-18: change 18\n\nreviewed\n", "REL-19: change 19\n\nreviewed\n", "REL-20: change 20\n\nreviewed\n"}
	dir, env := repoEnv(t, srv, repo.Dir, "GITHUB_EVENT_PATH="+pushPayload(t, events, repo.SHAs[0], last...))
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	want := append([]string{"OPS-7"}, relKeys(20, 1)...)
	if got := builtKeys(srv); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys\n got %v\nwant %v", got, want)
	}
	if got := output(r, "commits_scanned"); got != "20" {
		t.Errorf("commits_scanned = %s", got)
	}

	// A new branch (before all zeros): only the CI's messages.
	dir, env = repoEnv(t, srv, repo.Dir, "GITHUB_EVENT_PATH="+pushPayload(t, t.TempDir(), strings.Repeat("0", 40), last...))
	if r := runStep(t, dir, nil, env); r.code != ExitOK || output(r, "commits_scanned") != "3" {
		t.Fatalf("exit %d, commits_scanned %s\n%s", r.code, output(r, "commits_scanned"), r.stdout)
	}
	if got := builtKeys(srv); strings.Join(got, ",") != "OPS-7,REL-20,REL-19,REL-18" {
		t.Errorf("keys %v", got)
	}
}

func TestCommitsSinceTagAndLastTag(t *testing.T) {
	// v1.0 on commit 5; HEAD (commit 10) is itself tagged v1.1.
	repo := keyedRepo(t, 10, map[int]string{5: "v1.0", 10: "v1.1"})
	srv := newJira(t)
	event := "GITHUB_EVENT_PATH=" + pushPayload(t, t.TempDir(), strings.Repeat("0", 40))
	for _, since := range []string{"v1.0", "last_tag", "LAST_TAG"} {
		dir, env := repoEnv(t, srv, repo.Dir, event, "INPUT_COMMITS_SINCE="+since)
		r := runStep(t, dir, nil, env)
		if r.code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", since, r.code, r.stdout)
		}
		want := append([]string{"OPS-7"}, relKeys(10, 6)...)
		if got := builtKeys(srv); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: keys %v, want %v", since, got, want)
		}
		if since != "v1.0" && !strings.Contains(r.stdout, "commits_since last_tag (v1.0)") {
			t.Errorf("%s: the tag found is not named:\n%s", since, r.stdout)
		}
	}

	// No tag before HEAD: HEAD's message only, and a notice says why.
	repo = keyedRepo(t, 3, nil)
	dir, env := repoEnv(t, srv, repo.Dir, event, "INPUT_COMMITS_SINCE=last_tag")
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || !strings.Contains(r.stdout, "::notice::commits_since last_tag: no tag before HEAD") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if got := builtKeys(srv); strings.Join(got, ",") != "OPS-7,REL-3" {
		t.Errorf("keys %v", got)
	}
}

// Done when: a shallow clone degrades with a clear warning, and the keys
// that could be found are sent.
func TestShallowCloneDegradesWithAWarning(t *testing.T) {
	full := keyedRepo(t, 30, nil)
	shallow := full.Shallow(t, 5) // REL-26..REL-30
	srv := newJira(t)
	event := "GITHUB_EVENT_PATH=" + pushPayload(t, t.TempDir(), strings.Repeat("0", 40))

	// since is older than the clone's history.
	dir, env := repoEnv(t, srv, shallow.Dir, event, "INPUT_ENVIRONMENT=staging", "INPUT_COMMITS_SINCE="+full.SHAs[10])
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "::warning::commits_since "+full.SHAs[10]) || !strings.Contains(r.stdout, "fetch-depth: 0") ||
		!strings.Contains(r.stdout, "shallow") || !strings.Contains(r.stdout, "The keys of the 5 commit(s) that could be read are sent") {
		t.Errorf("no clear warning:\n%s", r.stdout)
	}
	want := append([]string{"OPS-7"}, relKeys(30, 26)...)
	if got := deployedKeys(t, srv); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v, want %v", got, want)
	}

	// since within the fetched history: the range is whole, no warning.
	dir, env = repoEnv(t, srv, shallow.Dir, event, "INPUT_ENVIRONMENT=staging", "INPUT_COMMITS_SINCE="+full.SHAs[27])
	if r := runStep(t, dir, nil, env); r.code != ExitOK || strings.Contains(r.stdout, "::warning::") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if got := deployedKeys(t, srv); strings.Join(got, ",") != "OPS-7,REL-30,REL-29,REL-28" {
		t.Errorf("keys %v", got)
	}

	// The CI's before, in GitHub's default depth-1 checkout: a notice (the
	// payload's own messages still count), saying what to change.
	depth1 := full.Shallow(t, 1)
	msgs := []string{"REL-29: change 29", "REL-30: change 30"}
	dir, env = repoEnv(t, srv, depth1.Dir, "GITHUB_EVENT_PATH="+pushPayload(t, t.TempDir(), full.SHAs[28], msgs...))
	r = runStep(t, dir, nil, env)
	if r.code != ExitOK || !strings.Contains(r.stdout, "::notice::the previous commit "+full.SHAs[28][:12]+" (from GitHub Actions)") ||
		!strings.Contains(r.stdout, "fetch-depth: 0") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if got := builtKeys(srv); strings.Join(got, ",") != "OPS-7,REL-30,REL-29" {
		t.Errorf("keys %v", got)
	}
}

func TestNoRepositoryFallsBackToTheCIsMessages(t *testing.T) {
	srv := newJira(t)
	// The workspace (a temporary directory) holds no repository.
	dir, env := pushEnv(t, srv, "INPUT_COMMITS_SINCE=v1.0")
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || !strings.Contains(r.stdout, "::warning::commits_since v1.0: the git repository in "+dir+" cannot be read") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if got := builtKeys(srv); strings.Join(got, ",") != "OPS-7,GHI-3,ABC-1,DEF-2" {
		t.Errorf("keys %v", got)
	}
	// Without commits_since, the payload's before is only a default: a
	// notice, not a warning.
	dir, env = pushEnv(t, srv)
	r = runStep(t, dir, nil, env)
	if r.code != ExitOK || strings.Contains(r.stdout, "::warning::") || !strings.Contains(r.stdout, "::notice::the previous commit 6113728f27ae") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}

// The caps, with a 600-commit range: 1,100 keys found (and ABC-0, which is
// no key: Jira never numbers an issue 0); a build takes the
// 100 most relevant, a deployment 500 association values.
func TestCapsOnALongRange(t *testing.T) {
	repoDir := gittest.MakeLinearRepo(t, 601)
	srv := newJira(t)
	event := "GITHUB_EVENT_PATH=" + pushPayload(t, t.TempDir(), strings.Repeat("0", 40))
	since := "INPUT_COMMITS_SINCE=" + gittest.LinearBaseTag

	// Newest first: the branch, then commit 600's keys (PROJ-601 ABC-100),
	// commit 599's, ...
	dir, env := repoEnv(t, srv, repoDir, event, since)
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	keys := builtKeys(srv)
	if len(keys) != 100 || keys[0] != "OPS-7" || keys[1] != "PROJ-601" || keys[2] != "ABC-100" || keys[3] != "PROJ-600" {
		t.Errorf("%d keys: %v", len(keys), keys[:4])
	}
	if !strings.Contains(r.stdout, "found 1100 issue keys; Jira takes at most 100 per build, so the 1000 least relevant were dropped") {
		t.Errorf("no cap warning:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "and 1050 more") {
		t.Errorf("the log should not list 1,100 keys:\n%s", r.stdout)
	}
	if got := output(r, "commits_scanned"); got != "600" {
		t.Errorf("commits_scanned = %s", got)
	}

	dir, env = repoEnv(t, srv, repoDir, event, since, "INPUT_ENVIRONMENT=Production", "INPUT_SERVICE_IDS=svc-1,svc-2")
	r = runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if keys := deployedKeys(t, srv); len(keys) != 498 || keys[0] != "OPS-7" || keys[497] == "" {
		t.Errorf("%d keys", len(keys))
	}
	if !strings.Contains(r.stdout, "found 1100 issue keys; Jira takes at most 500 association values per deployment (2 service ids given), so the 602 least relevant keys were dropped") {
		t.Errorf("no cap warning:\n%s", r.stdout)
	}

	// max_commits: only the newest, with a notice.
	dir, env = repoEnv(t, srv, repoDir, event, since, "INPUT_MAX_COMMITS=50")
	r = runStep(t, dir, nil, env)
	if r.code != ExitOK || output(r, "commits_scanned") != "50" ||
		!strings.Contains(r.stdout, "::notice::commits_since base: the range has more than max_commits (50) commits; only the newest 50 were scanned") {
		t.Fatalf("exit %d, scanned %s\n%s", r.code, output(r, "commits_scanned"), r.stdout)
	}
	// Commits 600..551 give 100 keys; with the branch's, the last, ABC-51,
	// is dropped.
	if keys := builtKeys(srv); len(keys) != 100 || keys[99] != "PROJ-552" {
		t.Errorf("keys %v", keys)
	}
}

// Done when: a build with JUnit files reports the right totals.
func TestBuildWithTestResults(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv)
	// The fixtures, copied into the workspace: patterns are relative to it.
	if err := os.CopyFS(filepath.Join(dir, "reports"), os.DirFS(testdata("junit"))); err != nil {
		t.Fatal(err)
	}
	patterns := "reports/go/*.xml reports/python/**/*.xml reports/java/**/TEST-*.xml reports/js/**/*.xml reports/broken/**/*.xml reports/rust/**/*.xml"
	r := runStep(t, dir, nil, append(env, "INPUT_TEST_RESULTS="+patterns))
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	b := srv.LastBuilds()["builds"].([]any)[0].(map[string]any)
	ti, _ := b["testInfo"].(map[string]any)
	// go-junit-report 9 (2 failed, 1 skipped), pytest 9 (2, 2), surefire 12
	// (3, 1), jest-junit 9 (1, 2); errors count as failed.
	want := map[string]any{"totalNumber": 39.0, "numberPassed": 25.0, "numberFailed": 8.0, "numberSkipped": 6.0}
	for k, v := range want {
		if ti[k] != v {
			t.Errorf("testInfo.%s = %v, want %v (%v)", k, ti[k], v, ti)
		}
	}
	if output(r, "tests_total") != "39" || output(r, "tests_failed") != "8" {
		t.Errorf("outputs: total %s, failed %s", output(r, "tests_total"), output(r, "tests_failed"))
	}
	for _, w := range []string{
		"::warning::test_results: " + filepath.Join(dir, "reports/broken/target/surefire-reports/TEST-com.example.export.CsvExporterTest.xml") + ": malformed XML",
		`::warning::test_results: pattern "reports/rust/**/*.xml": pattern matched no files`,
		"tests: 39 total, 25 passed, 8 failed, 6 skipped (6 JUnit file(s))",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	if !strings.Contains(r.file("summary"), "39 run, 8 failed") {
		t.Errorf("summary:\n%s", r.file("summary"))
	}

	// Nothing readable: sent without testInfo, with a warning.
	r = runStep(t, dir, nil, append(env, "INPUT_TEST_RESULTS=reports/edge/empty.xml"))
	if r.code != ExitOK || !strings.Contains(r.stdout, "the build is sent without test results") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if _, ok := srv.LastBuilds()["builds"].([]any)[0].(map[string]any)["testInfo"]; ok {
		t.Error("testInfo sent without any results")
	}

	// A deployment takes no test results.
	r = runStep(t, dir, nil, append(env, "INPUT_TEST_RESULTS=reports/go/*.xml", "INPUT_ENVIRONMENT=Production"))
	if r.code != ExitOK || !strings.Contains(r.stdout, "::warning::test_results is ignored") || output(r, "tests_total") != "0" {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}
