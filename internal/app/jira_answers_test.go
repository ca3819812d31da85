package app

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// runWithClock runs the step with its own HTTP client on a fake clock.
func runWithClock(t *testing.T, dir string, env []string) (result, *fakejira.Clock) {
	t.Helper()
	clock := fakejira.NewClock(time.Now())
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Environ: env, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, Version: "test", Retry: jira.Retry{Now: clock.Now, Sleep: clock.Sleep}})
	r := result{code: code, stdout: out.String(), stderr: errb.String(), dir: dir}
	if strings.Contains(r.everything(), canary) {
		t.Errorf("the client secret leaked:\n%s", r.everything())
	}
	return r, clock
}

// Issue 9's done-when: Jira answering 429 with Retry-After: 0 forever and
// timeout 5s give at most 10 requests and exit 1.
func TestRetryAfterZeroForeverExits1(t *testing.T) {
	for _, eps := range [][]fakejira.Endpoint{
		{fakejira.EndpointBuilds},
		{fakejira.EndpointToken, fakejira.EndpointTenantInfo, fakejira.EndpointBuilds},
	} {
		var opts []fakejira.Option
		for _, ep := range eps {
			opts = append(opts, fakejira.WithScript(ep, repeat(fakejira.RetryAfter(http.StatusTooManyRequests, 0), 10000)...))
		}
		srv := scripted(t, opts...)
		dir, env := pushEnv(t, srv, "INPUT_TIMEOUT=5s")
		r, clock := runWithClock(t, dir, env)
		if r.code != ExitFailure || !strings.Contains(r.stdout, "HTTP 429") {
			t.Errorf("%v: exit %d:\n%s", eps, r.code, r.stdout)
		}
		if n := len(srv.Requests()); n > 10 {
			t.Errorf("%v: %d requests with timeout 5s, want at most 10", eps, n)
		}
		for _, w := range clock.Waits() {
			if w < 500*time.Millisecond {
				t.Errorf("%v: a wait of %v", eps, w)
			}
		}
	}
}

// Issue 10: keys that Jira does not know, and only those (UTF-8, SHA-256 in
// a commit message), are a warning and exit 0 when project_keys is not set;
// with project_keys they stay a failure.
func TestAllKeysUnknownWithoutProjectKeysIsAWarning(t *testing.T) {
	srv := newJira(t, fakejira.WithUnknownIssueKeys("OPS-7", "GHI-3", "ABC-1", "DEF-2"))
	dir, env := pushEnv(t, srv)
	r := runStep(t, dir, nil, env)
	if r.code != ExitOK || srv.Count(fakejira.EndpointBuilds) != 1 {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	for _, want := range []string{"::warning::Jira knows none of the issue keys of the build (OPS-7, GHI-3, ABC-1, DEF-2)", "project_keys is not set"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the log lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "::error::") {
		t.Errorf("an error annotation:\n%s", r.stdout)
	}
	if output(r, "sent") != "false" || output(r, "unknown_issue_keys") != "OPS-7,GHI-3,ABC-1,DEF-2" {
		t.Errorf("outputs:\n%s", r.file("output"))
	}

	// project_keys given: the keys were meant, and Jira knows none of them.
	r = runStep(t, dir, nil, append(env, "INPUT_PROJECT_KEYS=OPS,GHI,ABC,DEF"))
	if r.code != ExitFailure || !strings.Contains(r.stdout, "::error::Jira rejected the build") {
		t.Fatalf("with project_keys: exit %d:\n%s", r.code, r.stdout)
	}
	if output(r, "sent") != "false" {
		t.Errorf("outputs:\n%s", r.file("output"))
	}

	// Some keys known: sent, with a warning naming the others.
	srv.SetUnknownIssueKeys("DEF-2")
	r = runStep(t, dir, nil, env)
	if r.code != ExitOK || output(r, "sent") != "true" || output(r, "unknown_issue_keys") != "DEF-2" {
		t.Fatalf("one unknown: exit %d:\n%s", r.code, r.stdout)
	}

	// Rejected for another reason: a failure, project_keys or not.
	srv.SetUnknownIssueKeys()
	srv.SetRejectAll("Data is invalid: something Jira says")
	if r = runStep(t, dir, nil, env); r.code != ExitFailure {
		t.Fatalf("other rejection: exit %d:\n%s", r.code, r.stdout)
	}
}

// A gated deployment whose keys Jira does not know stays a failure: no gate
// was asked.
func TestAllKeysUnknownWithGatingFails(t *testing.T) {
	srv := newJira(t, fakejira.WithUnknownIssueKeys("OPS-7", "GHI-3", "ABC-1", "DEF-2"))
	dir, env := pushEnv(t, srv, "INPUT_ENVIRONMENT=production", "INPUT_GATING=true")
	r, _ := runWithClock(t, dir, env)
	if r.code != ExitFailure || output(r, "sent") != "false" {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
}

// Issue 9: a 303 from the bulk endpoint to a page that answers a GET with
// 200 is not a success: exit 1, sent=false, and the message names api_url.
func TestRedirectedSubmissionIsNotSent(t *testing.T) {
	srv := scripted(t)
	srv.Script(fakejira.EndpointBuilds, fakejira.Response{Status: http.StatusSeeOther,
		Header: http.Header{"Location": {srv.URL + "/_edge/tenant_info"}}})
	dir, env := pushEnv(t, srv)
	r, _ := runWithClock(t, dir, env)
	if r.code != ExitFailure || output(r, "sent") != "false" || !strings.Contains(r.stdout, "HTTP 303") || !strings.Contains(r.stdout, "api_url") {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.file("output"))
	}
	if n := srv.Count(fakejira.EndpointTenantInfo); n != 1 {
		t.Errorf("%d tenant_info requests: the redirect was followed", n)
	}
}
