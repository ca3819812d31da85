package app

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
	"github.com/jira-cicd/jira-cicd/internal/settings"
)

// canaryToken is the access token the fake Jira issues in these tests: like
// the secret, it must never appear in anything the step prints or writes.
const canaryToken = "tok-CANARY-app-5e4d3c"

type logLines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logLines) add(s string) { l.mu.Lock(); l.b.WriteString(s + "\n"); l.mu.Unlock() }
func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stepRun is one run of the step with an injected HTTP client.
type stepRun struct {
	result
	retryLog string
	took     time.Duration
}

// allWritten is everything the run printed or wrote: stdout, stderr, every
// file under its directory (GitHub's outputs and summary, Drone's card,
// the Bitbucket pipe's result file), and the retry log. On GitHub the
// ::add-mask:: commands are left out: the runner consumes them, and they
// are how a secret gets masked.
func (r stepRun) allWritten(t *testing.T, github bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(r.stdout + "\n" + r.stderr + "\n" + r.retryLog + "\n")
	err := filepath.WalkDir(r.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		b.Write(data)
		b.WriteString("\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !github {
		return b.String()
	}
	var kept []string
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// ciVariant is a CI the step runs in, with its settings' prefix.
type ciVariant struct {
	name   string
	github bool
	env    func(t *testing.T, dir string) []string
	prefix string
}

var ciVariants = []ciVariant{
	{name: "github", github: true, prefix: "INPUT_", env: func(t *testing.T, dir string) []string {
		return githubEnv(dir, "push", "push-with-keys.json", "GITHUB_REF=refs/heads/feature/OPS-7-deploy",
			"GITHUB_REF_NAME=feature/OPS-7-deploy", "GITHUB_REF_TYPE=branch")
	}},
	{name: "drone", prefix: "PLUGIN_", env: func(t *testing.T, dir string) []string {
		return ciEnv(t, "drone-push.env", "DRONE_COMMIT_MESSAGE=DEMO-1 add envvar", "DRONE_CARD_PATH="+filepath.Join(dir, "card.json"))
	}},
	{name: "bitbucket", prefix: "JIRA_", env: func(t *testing.T, dir string) []string {
		return ciEnv(t, "bitbucket-push.env", "BITBUCKET_CLONE_DIR="+t.TempDir(),
			"BITBUCKET_PIPE_STORAGE_DIR="+filepath.Join(dir, "pipe"), "JIRA_ISSUE_KEYS=DEMO-1",
			"JIRA_URL=https://bitbucket.org/acme/app/pipelines/results/6")
	}},
	{name: "none", prefix: "JIRA_", env: func(t *testing.T, dir string) []string {
		return []string{"JIRA_ISSUE_KEYS=DEMO-1", "JIRA_PIPELINE_ID=acme/app", "JIRA_BUILD_NUMBER=6",
			"JIRA_URL=https://ci.example.com/6"}
	}},
}

// failurePath is one way Jira or the network fails.
type failurePath struct {
	name string
	// setup starts what the step talks to and returns the site/API URL and
	// the HTTP client options it needs.
	setup func(t *testing.T) (url string, opts []jira.Option)
	// realTime: the run's timeout is real and short (1s, the shortest
	// accepted), and the retry
	// waits are real.
	realTime bool
	says     []string
}

// echo is an error body that repeats the secret and the token, as a careless
// proxy or server might.
var echo = `[{"message":"Data is invalid: url must be a URL (request had client_secret=` + canary +
	` and Authorization: Bearer ` + canaryToken + `)"}]`

func scripted(t *testing.T, opts ...fakejira.Option) *fakejira.Server {
	return fakejira.New(t, append([]fakejira.Option{fakejira.WithClientCredentials("client-1", canary),
		fakejira.WithAccessToken(canaryToken), fakejira.AllowInvalid()}, opts...)...)
}

func repeat(r fakejira.Response, n int) []fakejira.Response {
	out := make([]fakejira.Response, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func bothSubmits(r fakejira.Response, n int) []fakejira.Option {
	return []fakejira.Option{fakejira.WithScript(fakejira.EndpointBuilds, repeat(r, n)...),
		fakejira.WithScript(fakejira.EndpointDeployments, repeat(r, n)...)}
}

var failurePaths = []failurePath{
	{name: "token refused", says: []string{"token request failed (HTTP 401)", "client id/secret were refused", "check client_id and client_secret"},
		setup: func(t *testing.T) (string, []jira.Option) {
			srv := scripted(t, fakejira.WithScript(fakejira.EndpointToken, fakejira.JSONResponse(401,
				`{"error":"access_denied","error_description":"Unauthorized: client_secret `+canary+` is not valid"}`)))
			return srv.URL, nil
		}},
	{name: "tenant_info 500s", says: []string{"cloud id lookup (tenant_info) failed (HTTP 500, ", " tries over ", "check site", "set cloud_id"},
		setup: func(t *testing.T) (string, []jira.Option) {
			srv := scripted(t, fakejira.WithScript(fakejira.EndpointTenantInfo, repeat(fakejira.JSONResponse(500, echo), 200)...))
			return srv.URL, nil
		}},
	{name: "submit 400 echoing", says: []string{"submission failed (HTTP 400): Data is invalid: url must be a URL (request had client_secret=*** and Authorization: Bearer ***)", "check the fields"},
		setup: func(t *testing.T) (string, []jira.Option) {
			return scripted(t, bothSubmits(fakejira.JSONResponse(400, echo), 1)...).URL, nil
		}},
	{name: "503 until the tries run out", says: []string{"submission failed (HTTP 503, 5 tries over ", "Gave up: no tries left (at most 5)", "Jira is unavailable"},
		setup: func(t *testing.T) (string, []jira.Option) {
			return scripted(t, bothSubmits(fakejira.JSONResponse(503, echo), 200)...).URL, nil
		}},
	{name: "dropped connection", says: []string{"submission failed (", " tries over ", "the connection was closed without an answer", "Check api_url and the network"},
		setup: func(t *testing.T) (string, []jira.Option) {
			return scripted(t, bothSubmits(fakejira.Dropped(), 200)...).URL, nil
		}},
	// "failed:", not "submission failed:": on a loaded machine the token
	// request may be the one the 300ms timeout ends.
	{name: "slow answer past the timeout", realTime: true, says: []string{" failed: no answer before the timeout", "Raise timeout"},
		setup: func(t *testing.T) (string, []jira.Option) {
			return scripted(t, bothSubmits(fakejira.Delayed(time.Hour), 20)...).URL, nil
		}},
	{name: "DNS failure", says: []string{"failed: the host name jira.step-test.invalid does not resolve (no such host)", "DNS"},
		setup: func(t *testing.T) (string, []jira.Option) {
			return "https://jira.step-test.invalid", []jira.Option{jira.WithResolver(fakejira.NewNXDomain(t).Resolver)}
		}},
	{name: "TLS failure", says: []string{"failed: the server's TLS certificate was not accepted: x509:", "SSL_CERT_FILE"},
		setup: func(t *testing.T) (string, []jira.Option) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, echo)
			}))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			t.Cleanup(srv.Close)
			return srv.URL, nil
		}},
}

func (p failurePath) run(t *testing.T, ci ciVariant, extra ...string) stepRun {
	t.Helper()
	url, opts := p.setup(t)
	dir := t.TempDir()
	env := append(ci.env(t, dir),
		ci.prefix+"CLIENT_ID=client-1", ci.prefix+"CLIENT_SECRET="+canary, ci.prefix+"SITE="+url, ci.prefix+"API_URL="+url)
	clock := fakejira.NewClock(time.Now())
	start := clock.Now()
	retry := jira.Retry{Now: clock.Now, Sleep: clock.Sleep}
	if p.realTime {
		env = append(env, ci.prefix+"TIMEOUT=1s")
		retry = jira.Retry{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	}
	var rlog logLines
	hc := jira.NewHTTPClient(append(opts, jira.WithRetry(retry), jira.WithLog(rlog.add))...)
	t.Cleanup(hc.CloseIdleConnections)
	for _, e := range extra {
		env = append(env, ci.prefix+e)
	}
	var out, errb bytes.Buffer
	began := time.Now()
	code := Run(context.Background(), Env{Environ: env, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, HTTPClient: hc, Version: "test"})
	r := stepRun{result: result{code: code, stdout: out.String(), stderr: errb.String(), dir: dir},
		retryLog: rlog.String(), took: time.Since(began)}
	if !p.realTime && clock.Now().Sub(start) > 60*time.Second {
		t.Errorf("the retries took %v of the fake clock; the timeout is 60s", clock.Now().Sub(start))
	}
	return r
}

// Every failure path, in every CI, with and without debug: exit 1 with a
// message that says what failed and what to check, and neither the secret
// nor the token anywhere.
func TestFailuresSayWhatFailedAndNeverLeak(t *testing.T) {
	for _, p := range failurePaths {
		for _, ci := range ciVariants {
			for _, debug := range []bool{false, true} {
				name := p.name + "/" + ci.name
				if debug {
					name += "/debug"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					var extra []string
					if debug {
						extra = append(extra, "DEBUG=true")
					}
					r := p.run(t, ci, extra...)
					log := r.stdout + r.stderr
					if r.code != ExitFailure {
						t.Fatalf("exit %d, want 1:\n%s", r.code, log)
					}
					for _, want := range p.says {
						if !strings.Contains(log, want) {
							t.Errorf("the log lacks %q:\n%s", want, log)
						}
					}
					if debug && !strings.Contains(log, "debug: ") {
						t.Errorf("no debug log:\n%s", log)
					}
					if p.realTime && r.took > 10*time.Second {
						t.Errorf("took %v with a 300ms timeout", r.took)
					}
					all := r.allWritten(t, ci.github)
					for _, secret := range []string{canary, canaryToken} {
						if strings.Contains(all, secret) {
							t.Errorf("%q leaked:\n%s", secret, all)
						}
					}
					if ci.github && !strings.HasPrefix(r.stdout, "::add-mask::"+canary+"\n") {
						t.Errorf("the secret is not masked first:\n%s", r.stdout)
					}
				})
			}
		}
	}
}

// fail_on_error=false turns each failure into a warning, and exit 0.
func TestFailOnErrorFalseWarns(t *testing.T) {
	for _, p := range failurePaths {
		for _, ci := range []ciVariant{ciVariants[0], ciVariants[3]} {
			t.Run(p.name+"/"+ci.name, func(t *testing.T) {
				t.Parallel()
				r := p.run(t, ci, "FAIL_ON_ERROR=false")
				log := r.stdout + r.stderr
				warning := "warning: "
				if ci.github {
					warning = "::warning::"
				}
				if r.code != ExitOK || !strings.Contains(log, warning) || !strings.Contains(log, "fail_on_error is false: the step passes") ||
					!strings.Contains(log, p.says[0]) {
					t.Fatalf("exit %d:\n%s", r.code, log)
				}
				if strings.Contains(log, "::error::") || strings.Contains(log, "error: ") {
					t.Errorf("an error annotation with fail_on_error=false:\n%s", log)
				}
				all := r.allWritten(t, ci.github)
				if strings.Contains(all, canary) || strings.Contains(all, canaryToken) {
					t.Errorf("leaked:\n%s", all)
				}
			})
		}
	}
}

// The case end to end: 503, then 429 with Retry-After: 5, then 202.
// The three bodies are the same bytes, the second wait is the one asked for
// (longer than the backoff), and the step passes.
func TestSubmitSurvivesTransientFailures(t *testing.T) {
	srv := scripted(t, fakejira.WithScript(fakejira.EndpointBuilds,
		fakejira.ErrorResponse(503, "Service is unavailable due to maintenance"), fakejira.RetryAfter(429, 5)))
	dir, env := pushEnv(t, srv)
	clock := fakejira.NewClock(time.Now())
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Environ: env, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, Version: "test",
		HTTPClient: jira.NewHTTPClient(jira.WithRetry(jira.Retry{Now: clock.Now, Sleep: clock.Sleep}))})
	if code != ExitOK || !strings.Contains(out.String(), "jira-cicd: sent build") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	var bodies [][]byte
	for _, r := range srv.Requests() {
		if r.Endpoint == fakejira.EndpointBuilds {
			bodies = append(bodies, r.Body)
		}
	}
	if len(bodies) != 3 || !bytes.Equal(bodies[0], bodies[1]) || !bytes.Equal(bodies[0], bodies[2]) {
		t.Fatalf("%d submissions; identical: %v", len(bodies), len(bodies) == 3 && bytes.Equal(bodies[0], bodies[2]))
	}
	if len(clock.Waits()) != 2 || clock.Waits()[1] != 5*time.Second {
		t.Errorf("waits %v; want the second to be Retry-After's 5s", clock.Waits())
	}
}

// The step's own client logs each retry as a plain line.
func TestRetriesAreLogged(t *testing.T) {
	srv := scripted(t, fakejira.WithScript(fakejira.EndpointBuilds, fakejira.RetryAfter(503, 3)))
	dir, env := pushEnv(t, srv)
	clock := fakejira.NewClock(time.Now())
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Environ: env, WorkDir: dir, Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return fixedNow }, Version: "test", Retry: jira.Retry{Now: clock.Now, Sleep: clock.Sleep}})
	if code != ExitOK || !strings.Contains(out.String(), "build submission: HTTP 503; trying again in 3s (as Retry-After asks) (try 2 of at most 5)\n") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

// appBadValue is a setting given a wrong value (or left out) through the
// CI's own form, and what the message says.
type appBadValue struct {
	setting string
	env     []string // INPUT_ variables
	says    string
	local   bool // run outside GitHub (nothing fills the CI's values)
}

var appBadValues = []appBadValue{
	{"client_id", []string{"INPUT_CLIENT_ID="}, "required", false},
	{"client_secret", []string{"INPUT_CLIENT_SECRET="}, "required", false},
	{"site", []string{"INPUT_SITE=http://acme.atlassian.net"}, "only https", false},
	{"cloud_id", []string{"INPUT_CLOUD_ID=a/b"}, "tenant_info", false},
	{"api_url", []string{"INPUT_API_URL=http://api.example.com"}, "plain http", false},
	{"type", []string{"INPUT_TYPE=bulid"}, "build, deployment", false},
	{"state", []string{"INPUT_STATE=grumpy"}, "successful", false},
	{"environment", []string{"INPUT_TYPE=deployment"}, "needs an environment", false},
	{"environment_id", []string{"INPUT_ENVIRONMENT=!!!"}, "set environment_id", false},
	{"environment_type", []string{"INPUT_ENVIRONMENT_TYPE=prod"}, "production", false},
	{"issue_keys", []string{"INPUT_ISSUE_KEYS=2022-02"}, "not a Jira issue key", false},
	{"project_keys", []string{"INPUT_PROJECT_KEYS=1ABC"}, "project key", false},
	{"service_ids", []string{"INPUT_SERVICE_IDS=" + strings.Repeat("s", 256)}, "255", false},
	{"pipeline_id", []string{"JIRA_BUILD_NUMBER=1", "JIRA_URL=https://ci.example.com/1"}, "set pipeline_id", true},
	{"build_number", []string{"INPUT_BUILD_NUMBER=12a"}, "whole number", false},
	{"url", []string{"INPUT_URL=not a url"}, "absolute URL", false},
	{"max_commits", []string{"INPUT_MAX_COMMITS=0"}, "1 or more", false},
	{"gating", []string{"INPUT_GATING=yes please"}, "true or false", false},
	{"gating_interval", []string{"INPUT_GATING_INTERVAL=soon"}, "Go duration", false},
	{"gating_timeout", []string{"INPUT_GATING_TIMEOUT=0s"}, "positive", false},
	{"dry_run", []string{"INPUT_DRY_RUN=maybe"}, "true or false", false},
	{"fail_on_error", []string{"INPUT_FAIL_ON_ERROR=nope"}, "true or false", false},
	{"timeout", []string{"INPUT_TIMEOUT=10"}, "Go duration", false},
	{"debug", []string{"INPUT_DEBUG=2x"}, "true or false", false},
	{"development_info", []string{"INPUT_DEVELOPMENT_INFO=sometimes"}, "false, true, only", false},
	{"forge", []string{"INPUT_FORGE=sourcehut"}, "bitbucket_dc", false},
	{"repository_url", []string{"INPUT_DEVELOPMENT_INFO=true", "JIRA_BUILD_NUMBER=1", "JIRA_URL=https://ci.example.com/1", "JIRA_PIPELINE_ID=p", "JIRA_ISSUE_KEYS=ABC-1"}, "set repository_url", true},
	{"paths", []string{"INPUT_PATHS=services/[a/**"}, "not a valid glob", false},
}

// appAcceptsAnything lists the settings no value of which is refused, and why.
var appAcceptsAnything = map[string]string{
	"pipeline_name": "free text",
	"display_name":  "free text, clipped to Jira's length with a warning",
	"label":         "free text, clipped to Jira's length with a warning",
	"description":   "free text, clipped to Jira's length with a warning",
	"commits_since": "a ref that cannot be read is a warning: the step still sends what it found",
	"test_results":  "patterns that match nothing are a warning: the build is sent without test results",
}

// TestEverySettingHasAnAppBadValue fails when a setting is added without a
// bad-value row here (or a reason it takes any value).
func TestEverySettingHasAnAppBadValue(t *testing.T) {
	has := map[string]bool{}
	for _, bv := range appBadValues {
		has[bv.setting] = true
	}
	for _, r := range settings.Table() {
		_, any := appAcceptsAnything[r.Name]
		if has[r.Name] == any {
			t.Errorf("setting %s: add a row to appBadValues (or, if it takes any value, a reason to appAcceptsAnything)", r.Name)
		}
	}
}

// Every setting with a wrong value: exit 2, the message names the setting
// and what it accepts, Jira is not contacted, and the secret is not printed.
func TestBadValuesExit2NamingTheSetting(t *testing.T) {
	for _, bv := range appBadValues {
		t.Run(bv.setting, func(t *testing.T) {
			t.Parallel()
			srv := newJira(t)
			var dir string
			var env []string
			if bv.local {
				dir = t.TempDir()
				env = append([]string{"JIRA_CLIENT_ID=client-1", "JIRA_CLIENT_SECRET=" + canary, "JIRA_SITE=" + srv.URL,
					"JIRA_API_URL=" + srv.URL, "JIRA_ISSUE_KEYS=DEMO-1"}, bv.env...)
			} else {
				dir, env = pushEnv(t, srv, bv.env...)
			}
			r := runStep(t, dir, nil, env)
			log := r.stdout + r.stderr
			if r.code != ExitUsage || !strings.Contains(log, "setting "+bv.setting+":") || !strings.Contains(log, bv.says) {
				t.Fatalf("exit %d; want 2 naming %s and saying %q:\n%s", r.code, bv.setting, bv.says, log)
			}
			if !bv.local && !strings.Contains(log, "::error::") {
				t.Errorf("no error annotation:\n%s", log)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("contacted Jira %d times with an invalid setting", n)
			}
			if strings.Contains(r.everything(), canary) || strings.Contains(r.stderr, canary) {
				t.Errorf("the secret leaked:\n%s", log)
			}
		})
	}
}
