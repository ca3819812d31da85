package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// canary is the client secret every test uses: it must never appear in
// anything the step prints or writes.
const canary = "canary-S3CRET-9f8e7d"

var fixedNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func testdata(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", "testdata"}, parts...)...)
}

type result struct {
	code           int
	stdout, stderr string
	dir            string
}

func (r result) file(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.dir, name))
	return string(b)
}

// everything is every byte the step printed or wrote, less GitHub's
// ::add-mask:: commands: the runner consumes those (they are how a secret gets
// masked) and never shows them.
func (r result) everything() string {
	var kept []string
	for _, line := range strings.Split(r.stdout+r.stderr+r.file("output")+r.file("summary"), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

func newJira(t *testing.T, opts ...fakejira.Option) *fakejira.Server {
	return fakejira.New(t, append([]fakejira.Option{fakejira.WithClientCredentials("client-1", canary)}, opts...)...)
}

// githubEnv is a GitHub Actions container step: the runner's variables, the
// event payload, and the inputs as INPUT_* (undeclared ones empty).
func githubEnv(dir, event, payload string, extra ...string) []string {
	env := []string{
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=" + event,
		"GITHUB_EVENT_PATH=" + testdata("github", payload),
		"GITHUB_SHA=ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		"GITHUB_REPOSITORY=Codertocat/Hello-World", "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_RUN_ID=1658821493", "GITHUB_RUN_NUMBER=42", "GITHUB_WORKFLOW=CI",
		"GITHUB_WORKFLOW_REF=Codertocat/Hello-World/.github/workflows/ci.yml@refs/heads/master",
		"GITHUB_WORKSPACE=" + dir,
		"GITHUB_OUTPUT=" + filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary"),
		"INPUT_LABEL=", "INPUT_STATE=", "INPUT_ENVIRONMENT=",
	}
	return append(env, extra...)
}

func creds(srv *fakejira.Server) []string {
	return []string{"INPUT_CLIENT_ID=client-1", "INPUT_CLIENT_SECRET=" + canary, "INPUT_SITE=" + srv.URL, "INPUT_API_URL=" + srv.URL}
}

func runStep(t *testing.T, dir string, args []string, environ []string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{
		Args: args, Environ: environ, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, Version: "test",
	})
	r := result{code: code, stdout: out.String(), stderr: errb.String(), dir: dir}
	if strings.Contains(r.everything(), canary) {
		t.Errorf("the client secret leaked:\n%s", r.everything())
	}
	return r
}

func pushEnv(t *testing.T, srv *fakejira.Server, extra ...string) (string, []string) {
	dir := t.TempDir()
	env := githubEnv(dir, "push", "push-with-keys.json", "GITHUB_REF=refs/heads/feature/OPS-7-deploy",
		"GITHUB_REF_NAME=feature/OPS-7-deploy", "GITHUB_REF_TYPE=branch")
	return dir, append(append(env, creds(srv)...), extra...)
}

func TestGitHubPushBuildEndToEnd(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv, "INPUT_STATE=success")
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	// Exactly three requests: token, tenant_info, submit.
	if n := len(srv.Requests()); n != 3 || srv.Count(fakejira.EndpointToken) != 1 ||
		srv.Count(fakejira.EndpointTenantInfo) != 1 || srv.Count(fakejira.EndpointBuilds) != 1 {
		t.Fatalf("%d requests: %+v", n, srv.Requests())
	}
	b := srv.LastBuilds()["builds"].([]any)[0].(map[string]any)
	want := map[string]any{
		"schemaVersion": "1.0", "pipelineId": "Codertocat/Hello-World/.github/workflows/ci.yml",
		"buildNumber": 42.0, "updateSequenceNumber": float64(fixedNow.UnixMilli()),
		"displayName": "CI #42", "url": "https://github.com/Codertocat/Hello-World/actions/runs/1658821493",
		"state": "successful", "lastUpdated": "2026-11-29T12:00:00.000Z", "label": "ec26c3e",
	}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("%s = %v, want %v", k, b[k], v)
		}
	}
	// Branch first, then commits newest first; the date is not a key.
	if got := join(b["issueKeys"]); got != "OPS-7,GHI-3,ABC-1,DEF-2" {
		t.Errorf("issueKeys = %s", got)
	}
	ref := b["references"].([]any)[0].(map[string]any)
	if ref["commit"].(map[string]any)["id"] != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" ||
		ref["ref"].(map[string]any)["name"] != "feature/OPS-7-deploy" {
		t.Errorf("references = %v", ref)
	}
	for name, want := range map[string]string{"issue_keys": "OPS-7,GHI-3,ABC-1,DEF-2", "sent": "true", "type": "build",
		"pipeline_id": "Codertocat/Hello-World/.github/workflows/ci.yml"} {
		if got := output(r, name); got != want {
			t.Errorf("output %s = %q, want %q:\n%s", name, got, want, r.file("output"))
		}
	}
	if s := r.file("summary"); !strings.Contains(s, "["+"OPS-7]("+srv.URL+"/browse/OPS-7)") || !strings.Contains(s, "sent to Jira") {
		t.Errorf("summary:\n%s", s)
	}
	if !strings.HasPrefix(r.stdout, "::add-mask::") {
		t.Errorf("the secret must be masked before anything else is printed:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "issue keys: OPS-7 (branch), GHI-3 (commits)") {
		t.Errorf("found keys not printed:\n%s", r.stdout)
	}
}

func join(v any) string {
	var s []string
	for _, x := range v.([]any) {
		s = append(s, x.(string))
	}
	return strings.Join(s, ",")
}

func TestCloudIDSkipsLookup(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv, "INPUT_CLOUD_ID="+fakejira.DefaultCloudID)
	if r := runStep(t, dir, nil, env); r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stdout)
	}
	if n := len(srv.Requests()); n != 2 || srv.Count(fakejira.EndpointTenantInfo) != 0 {
		t.Fatalf("%d requests, want token + submit", n)
	}
}

func TestPullRequestKeys(t *testing.T) {
	srv := newJira(t)
	dir := t.TempDir()
	env := append(githubEnv(dir, "pull_request", "pr-with-keys.json", "GITHUB_HEAD_REF=feature/abc-12-readme",
		"GITHUB_BASE_REF=master", "GITHUB_REF=refs/pull/2/merge"), creds(srv)...)
	// Without an allowlist the lower-case branch is no key.
	if r := runStep(t, dir, nil, env); r.code != ExitOK {
		t.Fatalf("exit %d", r.code)
	}
	if got := join(srv.LastBuilds()["builds"].([]any)[0].(map[string]any)["issueKeys"]); got != "PRJ-9" {
		t.Errorf("keys = %s", got)
	}
	// With it, the branch's key comes first.
	if r := runStep(t, dir, nil, append(env, "INPUT_PROJECT_KEYS=ABC,PRJ")); r.code != ExitOK {
		t.Fatalf("exit %d", r.code)
	}
	b := srv.LastBuilds()["builds"].([]any)[0].(map[string]any)
	if got := join(b["issueKeys"]); got != "ABC-12,PRJ-9" {
		t.Errorf("keys = %s", got)
	}
	if ref := b["references"].([]any)[0].(map[string]any); ref["commit"].(map[string]any)["id"] != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" {
		t.Errorf("commit should be the PR head: %v", ref)
	}
}

func TestNoKeysSendsNothing(t *testing.T) {
	srv := newJira(t)
	dir := t.TempDir()
	env := append(githubEnv(dir, "push", "github-push-new-branch.json", "GITHUB_REF_NAME=master", "GITHUB_REF_TYPE=branch"), creds(srv)...)
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || len(srv.Requests()) != 0 {
		t.Fatalf("exit %d, %d requests", r.code, len(srv.Requests()))
	}
	if !strings.Contains(r.stdout, "::notice::") || !strings.Contains(r.stdout, "no Jira issue keys found") {
		t.Errorf("no notice:\n%s", r.stdout)
	}
	if !strings.Contains(r.file("output"), "false") {
		t.Errorf("sent should be false:\n%s", r.file("output"))
	}
}

func TestDryRunPrintsValidBodyAndContactsNothing(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PLUGIN_DRY_RUN=true", "PLUGIN_ISSUE_KEYS=ABC-1", "PLUGIN_PIPELINE_ID=p", "PLUGIN_BUILD_NUMBER=3", "PLUGIN_URL=https://ci.example.com/3"}
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if err := fakejira.ValidateBody("builds", []byte(r.stdout)); err != nil {
		t.Fatalf("dry-run body invalid: %v\n%s", err, r.stdout)
	}
	var body struct {
		Builds []struct {
			IssueKeys []string `json:"issueKeys"`
		} `json:"builds"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil || body.Builds[0].IssueKeys[0] != "ABC-1" {
		t.Fatalf("stdout is not just the body: %v\n%s", err, r.stdout)
	}
}

func TestDeploymentEndToEnd(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv, "INPUT_ENVIRONMENT=Production", "INPUT_SERVICE_IDS=svc-1", "INPUT_STATE=success")
	if r := runStep(t, dir, nil, env); r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	d := srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
	env1 := d["environment"].(map[string]any)
	if env1["id"] != "production" || env1["type"] != "production" || env1["displayName"] != "Production" {
		t.Errorf("environment = %v", env1)
	}
	if d["deploymentSequenceNumber"] != 42.0 || d["state"] != "successful" {
		t.Errorf("deployment = %v", d)
	}
	assoc := d["associations"].([]any)
	if a := assoc[0].(map[string]any); a["associationType"] != "issueIdOrKeys" || join(a["values"]) != "OPS-7,GHI-3,ABC-1,DEF-2" {
		t.Errorf("associations = %v", assoc)
	}
	if a := assoc[1].(map[string]any); a["associationType"] != "serviceIdOrKeys" || join(a["values"]) != "svc-1" {
		t.Errorf("associations = %v", assoc)
	}
	if _, ok := d["issueKeys"]; ok {
		t.Error("deprecated issueKeys sent")
	}
	p := d["pipeline"].(map[string]any)
	if p["id"] != "Codertocat/Hello-World/.github/workflows/ci.yml" || p["displayName"] != "CI" {
		t.Errorf("pipeline = %v", p)
	}
}

func TestBadSettingsExit2(t *testing.T) {
	dir := t.TempDir()
	srv := newJira(t)
	_, env := pushEnv(t, srv, "INPUT_TYPE=bulid", "INPUT_TIMEOUT=forever")
	r := runStep(t, dir, nil, env)
	if r.code != ExitUsage || !strings.Contains(r.stdout, "setting type") || !strings.Contains(r.stdout, "setting timeout") ||
		!strings.Contains(r.stdout, "::error::") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if len(srv.Requests()) != 0 {
		t.Error("contacted Jira with invalid settings")
	}
}

func TestTokenRefused(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithClientCredentials("client-1", "another-secret"))
	dir, env := pushEnv(t, srv)
	r := runStep(t, dir, nil, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "client id/secret were refused") || !strings.Contains(r.stdout, "HTTP 401") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if srv.Count(fakejira.EndpointBuilds) != 0 {
		t.Error("submitted without a token")
	}
	// fail_on_error=false: a warning, exit 0.
	r = runStep(t, dir, nil, append(env, "INPUT_FAIL_ON_ERROR=false"))
	if r.code != ExitOK || !strings.Contains(r.stdout, "::warning::") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
}

func TestRejectedAndUnknownKeys(t *testing.T) {
	srv := newJira(t, fakejira.WithUnknownIssueKeys("DEF-2"))
	dir, env := pushEnv(t, srv)
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || !strings.Contains(r.stdout, "Jira does not know these issue keys: DEF-2") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.file("output"), "DEF-2") {
		t.Errorf("unknown_issue_keys output missing:\n%s", r.file("output"))
	}
	srv.SetRejectAll("Data is invalid: something Jira says")
	r = runStep(t, dir, nil, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "Jira rejected the build: Data is invalid: something Jira says") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := runStep(t, t.TempDir(), []string{"--help"}, nil)
	if r.code != ExitOK || !strings.Contains(r.stdout, "--client-secret") || !strings.Contains(r.stdout, "INPUT_NAME") {
		t.Fatalf("help: %d %s", r.code, r.stdout)
	}
	r = runStep(t, t.TempDir(), []string{"--version"}, nil)
	if r.code != ExitOK || r.stdout != "jira-cicd test\n" {
		t.Fatalf("version: %d %q", r.code, r.stdout)
	}
}

func TestDebugNeverPrintsSecretOrToken(t *testing.T) {
	srv := newJira(t, fakejira.WithAccessToken("tok-CANARY-123456"))
	dir, env := pushEnv(t, srv, "INPUT_DEBUG=true")
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || !strings.Contains(r.stdout, "debug:") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.everything(), "tok-CANARY-123456") {
		t.Fatalf("token leaked:\n%s", r.everything())
	}
	if !strings.Contains(r.stdout, "::add-mask::tok-CANARY-123456\n") {
		t.Errorf("token not masked for the runner:\n%s", r.stdout)
	}
}

// stoppedRun runs the step with a context already cancelled as main cancels
// it on SIGTERM.
func stoppedRun(t *testing.T, dir string, environ []string) result {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("stopped by SIGTERM"))
	var out, errb bytes.Buffer
	code := Run(ctx, Env{Environ: environ, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, Version: "test"})
	return result{code: code, stdout: out.String(), stderr: errb.String(), dir: dir}
}

// A dry run swallowed TERM, TERM, INT and exited 0: a stopped run prints no
// record, sends nothing, says where it stopped and fails.
func TestAStoppedRunDoesNothingMore(t *testing.T) {
	dir := t.TempDir()
	r := stoppedRun(t, dir, []string{"PLUGIN_DRY_RUN=true", "PLUGIN_ISSUE_KEYS=ABC-1", "PLUGIN_PIPELINE_ID=p", "PLUGIN_BUILD_NUMBER=3", "PLUGIN_URL=https://ci.example.com/3"})
	if r.code != ExitFailure || r.stdout != "" || !strings.Contains(r.stderr, "error: stopped by SIGTERM before the commit scan; nothing more is sent") {
		t.Fatalf("dry run: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	srv := newJira(t)
	dir, env := pushEnv(t, srv)
	r = stoppedRun(t, dir, env)
	if r.code != ExitFailure || len(srv.Requests()) != 0 || output(r, "sent") != "false" ||
		!strings.Contains(r.stdout, "::error::stopped by SIGTERM") {
		t.Fatalf("send: exit %d, %d requests\n%s", r.code, len(srv.Requests()), r.stdout)
	}
	// fail_on_error=false does not turn a stop into a pass.
	r = stoppedRun(t, dir, append(env, "INPUT_FAIL_ON_ERROR=false"))
	if r.code != ExitFailure {
		t.Fatalf("fail_on_error=false: exit %d", r.code)
	}
}

// Writing reports never changes the outcome: GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY in a missing directory, after a successful send, are a
// warning and exit 0 (go-githubactions panicked: a stack trace and exit 2).
func TestUnwritableGitHubFilesAfterASendExit0(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv)
	missing := filepath.Join(dir, "missing", "dir")
	env = append(env, "GITHUB_OUTPUT="+filepath.Join(missing, "output"), "GITHUB_STEP_SUMMARY="+filepath.Join(missing, "summary"))
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || srv.Count(fakejira.EndpointBuilds) != 1 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "::warning::writing the CI's reports: the step's outputs (GITHUB_OUTPUT="+filepath.Join(missing, "output")) ||
		!strings.Contains(r.stdout, "the job summary (GITHUB_STEP_SUMMARY=") || strings.Contains(r.stdout+r.stderr, "panic") {
		t.Errorf("log:\n%s%s", r.stdout, r.stderr)
	}
}

// Settings, CI values and Jira's answers print inert: an environment name and
// a branch that hold a workflow command and a terminal escape, and Jira's
// unknown keys holding the outputs' delimiter, change no command and no
// output.
func TestHostileValuesStayInert(t *testing.T) {
	srv := newJira(t, fakejira.WithUnknownIssueKeys("DEF-2\nghadelimiter_1\nsent=INJECTED"))
	dir, env := pushEnv(t, srv, "INPUT_ENVIRONMENT=prod\n::warning::injected\x1b[31m", "INPUT_DEBUG=true", "INPUT_STATE=success")
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "::warning::injected") || strings.Contains(line, "\x1b") {
			t.Errorf("a value became a command or an escape: %q", line)
		}
	}
	if output(r, "sent") != "true" || strings.Contains(r.file("output"), "\nsent=INJECTED") {
		t.Errorf("outputs:\n%s", r.file("output"))
	}
}

// The dry run's record goes to stdout, which GitHub's runner reads for
// commands: JSON keeps every value on its line, and "##[" (a command anywhere
// in a line) is written as the same JSON without it.
func TestDryRunRecordIsInert(t *testing.T) {
	dir := t.TempDir()
	name := "##[add-mask]x\n::warning::y \x1b[31m"
	r := runStep(t, dir, nil, []string{"PLUGIN_DRY_RUN=true", "PLUGIN_ISSUE_KEYS=ABC-1", "PLUGIN_PIPELINE_ID=p",
		"PLUGIN_BUILD_NUMBER=3", "PLUGIN_URL=https://ci.example.com/3", "PLUGIN_DISPLAY_NAME=" + name})
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "##[") || strings.Contains(r.stdout, "\n::") || strings.Contains(r.stdout, "\x1b") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	var body struct {
		Builds []struct {
			DisplayName string `json:"displayName"`
		} `json:"builds"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil || len(body.Builds) != 1 {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if got := body.Builds[0].DisplayName; !strings.HasPrefix(got, "##[add-mask]x") {
		t.Errorf("displayName = %q", got)
	}
	if err := fakejira.ValidateBody("builds", []byte(r.stdout)); err != nil {
		t.Errorf("invalid body: %v", err)
	}
}

// Nothing is sent before main handles SIGTERM and SIGINT (Env.SignalsReady):
// a run whose handlers are not in asks for no token and no cloud id, whether
// it would ask early (issue keys given) or at the send (keys scanned), and
// stops when told to.
func TestNoRequestBeforeSignalsReady(t *testing.T) {
	for name, extra := range map[string][]string{
		"keys given":   {"INPUT_ISSUE_KEYS=OPS-7"},
		"keys scanned": nil,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newJira(t)
			dir, env := pushEnv(t, srv, extra...)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			// A run reaches its first request within milliseconds:
			// noRequestWait bounds the wait for one that must not come.
			const noRequestWait = 50 * time.Millisecond
			sent := make(chan string, 10)
			hc := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
				sent <- req.Method + " " + req.URL.Path
				return srv.Client().Transport.RoundTrip(req)
			})}
			var out bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- Run(ctx, Env{Environ: env, WorkDir: dir, Stdout: &out, Stderr: &out,
					Now: func() time.Time { return fixedNow }, Version: "test", HTTPClient: hc,
					SignalsReady: make(chan struct{})})
			}()
			select {
			case req := <-sent:
				t.Errorf("%s before the signal handlers", req)
			case code := <-done:
				t.Fatalf("the run ended (exit %d) without its signal handlers:\n%s", code, out.String())
			case <-time.After(noRequestWait):
			}
			cancel(errors.New("stopped by SIGTERM"))
			if code := <-done; code != ExitFailure {
				t.Errorf("exit %d, want %d", code, ExitFailure)
			}
			// Run returned: every request it started has ended.
			if n := len(sent); n > 0 {
				t.Errorf("%d requests before the signal handlers", n)
			}
			if !strings.Contains(out.String(), "stopped by SIGTERM before the send") {
				t.Errorf("the stop is not reported:\n%s", out.String())
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
