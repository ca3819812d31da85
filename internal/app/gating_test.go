package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// runGated is runStep with the fake clock.
func runGated(t *testing.T, dir string, environ []string) (result, *fakejira.Clock) {
	t.Helper()
	clk := fakejira.NewClock(fixedNow)
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{
		Environ: environ, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: clk.Now, Sleep: clk.Sleep, Version: "test",
	})
	r := result{code: code, stdout: out.String(), stderr: errb.String(), dir: dir}
	if strings.Contains(r.everything(), canary) {
		t.Errorf("the client secret leaked:\n%s", r.everything())
	}
	return r, clk
}

// gatedEnv is a GitHub push deploying to Production with gating, and
// fail_on_error false: gating failures must fail the step anyway.
func gatedEnv(t *testing.T, srv *fakejira.Server, extra ...string) (string, []string) {
	return pushEnv(t, srv, append([]string{"INPUT_ENVIRONMENT=Production", "INPUT_GATING=true", "INPUT_FAIL_ON_ERROR=false"}, extra...)...)
}

func gatingPaths(srv *fakejira.Server) []string {
	var out []string
	for _, q := range srv.Requests() {
		if q.Endpoint == fakejira.EndpointGating {
			out = append(out, q.RawPath)
		}
	}
	return out
}

// Done when: gating waits for allowed.
func TestGatingWaitsUntilAllowed(t *testing.T) {
	srv := newJira(t, fakejira.WithGating("awaiting", "awaiting", "allowed"))
	dir, env := gatedEnv(t, srv)
	r, clk := runGated(t, dir, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	d := srv.LastDeployments()["deployments"].([]any)[0].(map[string]any)
	if cmds, _ := d["commands"].([]any); len(cmds) != 1 || cmds[0].(map[string]any)["command"] != "initiate_deployment_gating" {
		t.Errorf("commands = %v", d["commands"])
	}
	paths := gatingPaths(srv)
	want := "/jira/deployments/0.1/cloud/" + fakejira.DefaultCloudID +
		"/pipelines/Codertocat%2FHello-World%2F.github%2Fworkflows%2Fci.yml/environments/production/deployments/42/gating-status"
	if len(paths) != 3 || paths[0] != want {
		t.Fatalf("gating requests %v", paths)
	}
	// One progress line per poll, with the status and the time waited.
	for _, line := range []string{
		"gating: poll 1, waited 0s: awaiting\n",
		"gating: poll 2, waited 30s: awaiting\n",
		"gating: poll 3, waited 1m0s: allowed\n",
		"gating: Jira allowed the deployment after 1m0s",
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
		}
	}
	if len(clk.Waits()) != 2 || clk.Waits()[0] != 30*time.Second {
		t.Errorf("sleeps %v", clk.Waits())
	}
	if output(r, "gating_status") != "allowed" || output(r, "sent") != "true" {
		t.Errorf("outputs:\n%s", r.file("output"))
	}
	if !strings.Contains(r.file("summary"), "| Gating | allowed |") {
		t.Errorf("summary:\n%s", r.file("summary"))
	}
}

// Done when: gating fails on prevented, with the issue links, whatever
// fail_on_error says.
func TestGatingPreventedFailsWithTheIssueLinks(t *testing.T) {
	srv := newJira(t, fakejira.WithGating("awaiting", "prevented"), fakejira.WithGatingDetails(
		fakejira.GatingDetail{IssueKey: "CHG-12", IssueLink: "https://acme.atlassian.net/browse/CHG-12"},
		fakejira.GatingDetail{IssueKey: "CHG-13", IssueLink: "https://acme.atlassian.net/browse/CHG-13"},
	))
	dir, env := gatedEnv(t, srv)
	r, _ := runGated(t, dir, env)
	if r.code != ExitFailure {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	want := "::error::Jira's gating prevented the deployment after 30s; gating issues: CHG-12 https://acme.atlassian.net/browse/CHG-12, CHG-13 https://acme.atlassian.net/browse/CHG-13"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
	if output(r, "gating_status") != "prevented" || !strings.Contains(r.file("summary"), "browse/CHG-12") ||
		!strings.Contains(r.file("summary"), "not allowed by gating") {
		t.Errorf("outputs:\n%s\nsummary:\n%s", r.file("output"), r.file("summary"))
	}
	// The final line says the gate's answer, not just that Jira took the record.
	if !strings.Contains(r.stdout, "; gating: prevented (Jira's gating prevented the deployment") {
		t.Errorf("final line lacks the gating answer:\n%s", r.stdout)
	}

	for _, status := range []string{"expired", "invalid"} {
		srv := newJira(t, fakejira.WithGating(status))
		dir, env := gatedEnv(t, srv)
		r, _ := runGated(t, dir, env)
		if r.code != ExitFailure || output(r, "gating_status") != status || !strings.Contains(r.stdout, "::error::") {
			t.Errorf("%s: exit %d\n%s", status, r.code, r.stdout)
		}
		// By default the fake lists the deployment's keys, linked.
		if !strings.Contains(r.stdout, "OPS-7 "+srv.URL+"/browse/OPS-7") {
			t.Errorf("%s: issue links missing:\n%s", status, r.stdout)
		}
	}
}

// Done when: gating fails at its timeout.
func TestGatingFailsAtItsTimeout(t *testing.T) {
	srv := newJira(t, fakejira.WithGating("awaiting"))
	dir, env := gatedEnv(t, srv, "INPUT_GATING_INTERVAL=30s", "INPUT_GATING_TIMEOUT=2m")
	r, clk := runGated(t, dir, env)
	if r.code != ExitFailure {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	if n := len(gatingPaths(srv)); n != 5 {
		t.Errorf("%d polls, want 5 (0s, 30s, 1m, 1m30s, 2m)", n)
	}
	if !strings.Contains(r.stdout, "gating: poll 5, waited 2m0s: awaiting") ||
		!strings.Contains(r.stdout, `::error::no gating decision within gating_timeout (2m0s): Jira's last status was "awaiting"`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if got := clk.Now().Sub(fixedNow); got != 2*time.Minute {
		t.Errorf("waited %s", got)
	}
	if output(r, "gating_status") != "timeout" {
		t.Errorf("outputs:\n%s", r.file("output"))
	}
}

func TestGatingToleratesAnEarly404AndUnknownStatuses(t *testing.T) {
	srv := newJira(t, fakejira.WithGating("under_review", "allowed"),
		fakejira.WithScript(fakejira.EndpointGating, fakejira.ErrorResponse(404, "No data found for the given deployment ID")))
	dir, env := gatedEnv(t, srv, "INPUT_GATING_INTERVAL=1s")
	r, _ := runGated(t, dir, env)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	for _, line := range []string{
		"gating: poll 1, waited 0s: Jira does not list the deployment yet (HTTP 404); still waiting",
		`gating: poll 2, waited 1s: status "under_review" is unknown to this tool; still waiting`,
		"gating: poll 3, waited 2s: allowed",
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
		}
	}

	// A 404 that lasts is a failure, with Jira's message and what to check.
	srv = newJira(t)
	nf := fakejira.ErrorResponse(404, "No data found for the given deployment ID")
	srv.Script(fakejira.EndpointGating, nf, nf, nf, nf)
	dir, env = gatedEnv(t, srv)
	r, _ = runGated(t, dir, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "the gating status could not be read after 1m30s: gating status request failed (HTTP 404): No data found") ||
		output(r, "gating_status") != "error" {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}

// Each poll has its own request timeout, and the wait is outside the
// submission's: with timeout 1s, four polls of 300ms each (1.2s in all)
// succeed.
func TestGatingPollsHaveTheirOwnRequestTimeout(t *testing.T) {
	slow := fakejira.Delayed(300 * time.Millisecond)
	srv := newJira(t, fakejira.WithGating("awaiting", "awaiting", "awaiting", "allowed"),
		fakejira.WithScript(fakejira.EndpointGating, slow, slow, slow, slow))
	dir, env := gatedEnv(t, srv, "INPUT_TIMEOUT=1s")
	if r, _ := runGated(t, dir, env); r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}

	// A poll that hangs ends at timeout, as a failure.
	srv = newJira(t, fakejira.WithScript(fakejira.EndpointGating, fakejira.Delayed(time.Hour)))
	dir, env = gatedEnv(t, srv, "INPUT_TIMEOUT=1s")
	r, _ := runGated(t, dir, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "gating status request failed") || !strings.Contains(r.stdout, "deadline exceeded") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}

func TestGatingFailsClosed(t *testing.T) {
	// The submission fails: with gating, fail_on_error false cannot pass.
	srv := newJira(t, fakejira.WithScript(fakejira.EndpointDeployments, fakejira.ErrorResponse(403, "Forbidden")))
	dir, env := gatedEnv(t, srv)
	r, _ := runGated(t, dir, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "gating is on") || len(gatingPaths(srv)) != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	// Without gating the same failure is a warning.
	srv = newJira(t, fakejira.WithScript(fakejira.EndpointDeployments, fakejira.ErrorResponse(403, "Forbidden")))
	dir, env = pushEnv(t, srv, "INPUT_ENVIRONMENT=Production", "INPUT_FAIL_ON_ERROR=false")
	if r, _ := runGated(t, dir, env); r.code != ExitOK {
		t.Fatalf("without gating: exit %d\n%s", r.code, r.stdout)
	}

	// Nothing to send: Jira was never asked, the step fails.
	srv = newJira(t)
	dir = t.TempDir()
	env = append(githubEnv(dir, "push", "github-push-new-branch.json", "GITHUB_REF_NAME=master", "GITHUB_REF_TYPE=branch",
		"INPUT_ENVIRONMENT=Production", "INPUT_GATING=true"), creds(srv)...)
	r, _ = runGated(t, dir, env)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "Jira was never asked") || len(srv.Requests()) != 0 {
		t.Fatalf("no keys: exit %d\n%s", r.code, r.stdout)
	}
}

func TestGatingNeedsADeployment(t *testing.T) {
	srv := newJira(t)
	dir, env := pushEnv(t, srv, "INPUT_GATING=true")
	r, _ := runGated(t, dir, env)
	if r.code != ExitUsage || !strings.Contains(r.stdout, "setting gating: applies to deployments only") || len(srv.Requests()) != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}

func TestGatingDryRunDoesNotPoll(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PLUGIN_DRY_RUN=true", "PLUGIN_ISSUE_KEYS=ABC-1", "PLUGIN_PIPELINE_ID=p", "PLUGIN_BUILD_NUMBER=3",
		"PLUGIN_URL=https://ci.example.com/3", "PLUGIN_ENVIRONMENT=prod", "PLUGIN_GATING=true"}
	r, clk := runGated(t, dir, env)
	if r.code != ExitOK || !strings.Contains(r.stdout, `"initiate_deployment_gating"`) || len(clk.Waits()) != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if err := fakejira.ValidateBody("deployments", []byte(r.stdout)); err != nil {
		t.Errorf("dry-run body invalid: %v", err)
	}
}
