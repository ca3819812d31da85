package jira_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// newRetryClock starts on a whole second, so that HTTP dates (whole
// seconds) compare exactly.
func newRetryClock() *fakejira.Clock { return fakejira.NewClock(time.Now().Truncate(time.Second)) }

// policy is the default policy on the fake clock.
func policy(c *fakejira.Clock) jira.Retry {
	return jira.Retry{Now: c.Now, Sleep: c.Sleep}
}

const (
	canarySecret = "canary-S3CRET-jira-71b2"
	canaryToken  = "tok-CANARY-jira-5e4d3c"
)

type retryEnv struct {
	srv   *fakejira.Server
	clock *fakejira.Clock
	log   *lines
	c     *jira.Client
}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) add(s string) { l.mu.Lock(); l.l = append(l.l, s); l.mu.Unlock() }
func (l *lines) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

// retrying is a fake Jira with the canary secret and token, and a client
// with the default retry policy on a fake clock.
func retrying(t *testing.T, cloudID string, opts ...fakejira.Option) *retryEnv {
	t.Helper()
	e := &retryEnv{clock: newRetryClock(), log: &lines{}}
	e.srv = fakejira.New(t, append([]fakejira.Option{fakejira.WithClientCredentials("client-1", canarySecret),
		fakejira.WithAccessToken(canaryToken)}, opts...)...)
	hc := jira.NewHTTPClient(jira.WithRetry(policy(e.clock)), jira.WithLog(e.log.add))
	t.Cleanup(hc.CloseIdleConnections)
	e.c = jira.New(context.Background(), jira.Config{
		APIURL: e.srv.URL, Site: e.srv.URL, CloudID: cloudID, ClientID: "client-1", ClientSecret: canarySecret,
		HTTPClient: hc, UserAgent: "jira-cicd test",
	})
	return e
}

func oneBuild() jira.BuildsRequest {
	return jira.BuildsRequest{Builds: []jira.Build{{
		SchemaVersion: "1.0", PipelineID: "acme/app/ci", BuildNumber: 42, UpdateSequenceNumber: 1764417600000,
		DisplayName: "CI #42", URL: "https://ci.example.com/42", State: "successful",
		LastUpdated: "2026-11-29T12:00:00.000Z", IssueKeys: []string{"ABC-1"},
	}}}
}

func bodiesOf(srv *fakejira.Server, ep fakejira.Endpoint) [][]byte {
	var out [][]byte
	for _, r := range srv.Requests() {
		if r.Endpoint == ep {
			out = append(out, r.Body)
		}
	}
	return out
}

func assertNoSecret(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, secret := range []string{canarySecret, canaryToken} {
			if strings.Contains(s, secret) {
				t.Errorf("%s leaks %q:\n%s", what, secret, s)
			}
		}
	}
}

// The issue's case: 503, then 429 with Retry-After: 5, then 202. The three
// bodies are the same bytes, and the second wait is the one Jira asked for
// (longer than the backoff's).
func TestSubmitSurvives503Then429ThenSucceeds(t *testing.T) {
	e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds,
		fakejira.ErrorResponse(http.StatusServiceUnavailable, "Service is unavailable due to maintenance"),
		fakejira.RetryAfter(http.StatusTooManyRequests, 5)))
	res, err := e.c.SubmitBuilds(context.Background(), oneBuild())
	if err != nil || res.Accepted != 1 {
		t.Fatalf("result %+v, %v", res, err)
	}
	bodies := bodiesOf(e.srv, fakejira.EndpointBuilds)
	if len(bodies) != 3 {
		t.Fatalf("%d submissions, want 3", len(bodies))
	}
	for i, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Errorf("try %d sent another body:\n%s\nfirst:\n%s", i+2, b, bodies[0])
		}
	}
	if !bytes.Contains(bodies[0], []byte(`"updateSequenceNumber":1764417600000`)) {
		t.Errorf("body lacks the updateSequenceNumber: %s", bodies[0])
	}
	var auths []string
	for _, r := range e.srv.Requests() {
		if r.Endpoint == fakejira.EndpointBuilds {
			auths = append(auths, r.Header.Get("Authorization"))
		}
	}
	if auths[0] != "Bearer "+canaryToken || auths[1] != auths[0] || auths[2] != auths[0] {
		t.Errorf("authorization headers %q", auths)
	}
	w := e.clock.Waits()
	if len(w) != 2 {
		t.Fatalf("waits %v, want 2", w)
	}
	// The first: exponential backoff with jitter, between half of 1s and 1s.
	if w[0] < 500*time.Millisecond || w[0] > time.Second {
		t.Errorf("first wait %v, want within [0.5s, 1s]", w[0])
	}
	if w[1] != 5*time.Second {
		t.Errorf("wait after Retry-After: 5 was %v, want 5s", w[1])
	}
	log := e.log.all()
	for _, want := range []string{"build submission: HTTP 503; trying again in", "(try 2 of at most 5)",
		"build submission: HTTP 429; trying again in 5s (as Retry-After asks) (try 3 of at most 5)"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, e.srv.URL) {
		t.Errorf("log names URLs:\n%s", log)
	}
}

// Every request is retried: the token, tenant_info, the submission and the
// gating status.
func TestEveryRequestIsRetried(t *testing.T) {
	e := retrying(t, "",
		fakejira.WithScript(fakejira.EndpointToken, fakejira.Response{Status: 500, Body: "oops"}),
		fakejira.WithScript(fakejira.EndpointTenantInfo, fakejira.ErrorResponse(502, "bad gateway")),
		fakejira.WithScript(fakejira.EndpointDeployments, fakejira.ErrorResponse(504, "gateway timeout"), fakejira.Dropped()),
		fakejira.WithScript(fakejira.EndpointGating, fakejira.RetryAfter(503, 2), fakejira.ErrorResponse(429, "slow down")))
	ctx := context.Background()
	d := gatedDeployment()
	if _, err := e.c.SubmitDeployments(ctx, d); err != nil {
		t.Fatal(err)
	}
	st, err := e.c.GatingStatus(ctx, d.Deployments[0].Pipeline.ID, d.Deployments[0].Environment.ID, d.Deployments[0].DeploymentSequenceNumber)
	if err != nil || st.Status != "allowed" {
		t.Fatalf("gating %+v, %v", st, err)
	}
	for ep, want := range map[fakejira.Endpoint]int{fakejira.EndpointToken: 2, fakejira.EndpointTenantInfo: 2,
		fakejira.EndpointDeployments: 3, fakejira.EndpointGating: 3} {
		if n := e.srv.Count(ep); n != want {
			t.Errorf("%s: %d requests, want %d", ep, n, want)
		}
	}
	log := e.log.all()
	for _, want := range []string{"token request: HTTP 500", "cloud id lookup (tenant_info): HTTP 502",
		"deployment submission: HTTP 504", "deployment submission: the connection was closed without an answer",
		"gating status request: HTTP 503; trying again in 2s (as Retry-After asks)", "gating status request: HTTP 429"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// 400, 401, 403, 404 and 413 are final: one try, and a message that says
// what to check.
func TestFinalStatusesAreNotRetried(t *testing.T) {
	tests := []struct {
		ep     fakejira.Endpoint
		status int
		body   string
		says   []string
	}{
		{fakejira.EndpointToken, 400, `{"error":"invalid_request","error_description":"bad client_secret ` + canarySecret + `"}`,
			[]string{"token request failed (HTTP 400)", "client id/secret were refused", "check client_id and client_secret", "bad client_secret ***"}},
		{fakejira.EndpointToken, 401, `{"error":"access_denied","error_description":"Unauthorized"}`,
			[]string{"token request failed (HTTP 401): Unauthorized", "client id/secret were refused"}},
		{fakejira.EndpointToken, 404, `<html>Not found</html>`, []string{"HTTP 404", "check api_url"}},
		{fakejira.EndpointTenantInfo, 404, `Not Found`, []string{"cloud id lookup (tenant_info) failed (HTTP 404): Not Found", "check site", "cloud_id"}},
		{fakejira.EndpointBuilds, 400, `[{"message":"builds[0].url: must be a URL"},{"message":"token was Bearer ` + canaryToken + `"}]`,
			[]string{"build submission failed (HTTP 400): builds[0].url: must be a URL; token was Bearer ***", "check the fields"}},
		{fakejira.EndpointBuilds, 401, `{"code":401,"message":"Unauthorized"}`, []string{"HTTP 401", "token was not accepted"}},
		{fakejira.EndpointBuilds, 403, `[{"message":"Forbidden"}]`, []string{"HTTP 403", "Builds permission"}},
		{fakejira.EndpointBuilds, 404, `[{"message":"No Jira site with cloud ID"}]`, []string{"HTTP 404", "check cloud_id"}},
		{fakejira.EndpointBuilds, 413, `[{"message":"Data is too large. Submit fewer builds in each payload."}]`, []string{"HTTP 413", "Data is too large", "fewer issue keys"}},
		{fakejira.EndpointBuilds, 501, `not implemented`, []string{"HTTP 501"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.ep)+"-"+http.StatusText(tt.status), func(t *testing.T) {
			e := retrying(t, "", fakejira.WithScript(tt.ep, fakejira.Response{Status: tt.status, Body: tt.body}))
			_, err := e.c.SubmitBuilds(context.Background(), oneBuild())
			var je *jira.Error
			if !errors.As(err, &je) || je.Status != tt.status {
				t.Fatalf("err %v, want a jira.Error with status %d", err, tt.status)
			}
			if n := e.srv.Count(tt.ep); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
			for _, want := range tt.says {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if len(e.clock.Waits()) != 0 || e.log.all() != "" {
				t.Errorf("waited %v; log %q", e.clock.Waits(), e.log.all())
			}
			assertNoSecret(t, "the error", err.Error())
		})
	}
}

// A Retry-After may be an HTTP date.
func TestRetryAfterHTTPDate(t *testing.T) {
	e := retrying(t, fakejira.DefaultCloudID)
	at := e.clock.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	e.srv.Script(fakejira.EndpointBuilds, fakejira.Response{Status: 503, Header: http.Header{"Retry-After": {at}}})
	if _, err := e.c.SubmitBuilds(context.Background(), oneBuild()); err != nil {
		t.Fatal(err)
	}
	if w := e.clock.Waits(); len(w) != 1 || w[0] != 3*time.Second {
		t.Errorf("waits %v, want [3s]", w)
	}
}

// A Jira that stays unavailable: the tries end before the timeout would,
// and the message says what failed, how many tries over how long, and what
// to check.
func TestUnavailableGivesUpWithinTheTimeout(t *testing.T) {
	e := retrying(t, fakejira.DefaultCloudID)
	for range 100 {
		e.srv.Script(fakejira.EndpointBuilds, fakejira.ErrorResponse(503, "Service is unavailable"))
	}
	// Enough tries that only the time can end them.
	hc := jira.NewHTTPClient(jira.WithRetry(jira.Retry{Attempts: 1000, Now: e.clock.Now, Sleep: e.clock.Sleep}))
	c := jira.New(context.Background(), jira.Config{APIURL: e.srv.URL, CloudID: fakejira.DefaultCloudID,
		ClientID: "client-1", ClientSecret: canarySecret, HTTPClient: hc})
	start := e.clock.Now()
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(60*time.Second))
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err := c.SubmitBuilds(ctx, oneBuild())
	var je *jira.Error
	if !errors.As(err, &je) || je.Status != 503 || je.Attempts < 5 {
		t.Fatalf("err %v", err)
	}
	if n := e.srv.Count(fakejira.EndpointBuilds); n != je.Attempts {
		t.Errorf("%d requests, error says %d tries", n, je.Attempts)
	}
	if end := e.clock.Now(); end.After(deadline) || end.Sub(start) != je.Elapsed {
		t.Errorf("the tries ended %v after the start (deadline in %v); error says %v", end.Sub(start), deadline.Sub(start), je.Elapsed)
	}
	for _, want := range []string{"build submission failed (HTTP 503, ", " tries over ", "): Service is unavailable",
		"Gave up: the timeout would end before the next try", "Jira is unavailable", "raise timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The waits grow exponentially from 1s, capped at 15s, each between
	// half of its step and all of it.
	for i, w := range e.clock.Waits() {
		step := min(time.Second<<i, 15*time.Second)
		if w < step/2 || w > step {
			t.Errorf("wait %d was %v, want within [%v, %v]", i+1, w, step/2, step)
		}
	}
}

// A Retry-After that would end after the deadline is not waited for.
func TestRetryAfterPastTheDeadline(t *testing.T) {
	e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds, fakejira.RetryAfter(429, 120)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.c.SubmitBuilds(ctx, oneBuild())
	if err == nil || e.srv.Count(fakejira.EndpointBuilds) != 1 || len(e.clock.Waits()) != 0 {
		t.Fatalf("err %v after %d tries, waits %v", err, e.srv.Count(fakejira.EndpointBuilds), e.clock.Waits())
	}
	for _, want := range []string{"HTTP 429", "Jira asked to wait 2m0s (Retry-After), past the timeout", "rate limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// Without a deadline, the number of tries bounds the retries.
func TestAttemptsBoundTheRetries(t *testing.T) {
	e := retrying(t, fakejira.DefaultCloudID)
	for range 10 {
		e.srv.Script(fakejira.EndpointToken, fakejira.Dropped())
	}
	hc := jira.NewHTTPClient(jira.WithRetry(jira.Retry{Attempts: 3, Now: e.clock.Now, Sleep: e.clock.Sleep}))
	c := jira.New(context.Background(), jira.Config{APIURL: e.srv.URL, CloudID: fakejira.DefaultCloudID,
		ClientID: "client-1", ClientSecret: canarySecret, HTTPClient: hc})
	_, err := c.SubmitBuilds(context.Background(), oneBuild())
	if n := e.srv.Count(fakejira.EndpointToken); n != 3 {
		t.Errorf("%d token requests, want 3", n)
	}
	for _, want := range []string{"token request failed (3 tries over ", "the connection was closed without an answer",
		"Gave up: no tries left (at most 3)", "Check api_url and the network"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// A try that gets no answer in time is retried within the run's timeout.
func TestSlowAnswerIsRetried(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithScript(fakejira.EndpointBuilds, fakejira.Delayed(time.Hour)))
	clock := newRetryClock()
	hc := jira.NewHTTPClient(jira.WithRetry(policy(clock)), jira.WithAttemptTimeout(100*time.Millisecond))
	c := jira.New(context.Background(), jira.Config{APIURL: srv.URL, CloudID: srv.CloudID,
		ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, HTTPClient: hc})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.SubmitBuilds(ctx, oneBuild()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(fakejira.EndpointBuilds); n != 2 {
		t.Errorf("%d submissions, want 2", n)
	}
}

// A slow answer past the run's timeout ends the request at the timeout,
// with a message that says so (real time: the timeout is 200ms).
func TestSlowAnswerPastTheTimeout(t *testing.T) {
	srv := fakejira.New(t)
	for range 5 {
		srv.Script(fakejira.EndpointBuilds, fakejira.Delayed(time.Hour))
	}
	hc := jira.NewHTTPClient()
	c := jira.New(context.Background(), jira.Config{APIURL: srv.URL, CloudID: srv.CloudID,
		ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, HTTPClient: hc})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.SubmitBuilds(ctx, oneBuild())
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v with a 200ms timeout", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want a deadline", err)
	}
	for _, want := range []string{"build submission failed: no answer before the timeout", "Raise timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// Error bodies that echo the secret or the token, on every request, never
// put either in an error message; nor does an unreadable 202.
func TestErrorsNeverRepeatASecret(t *testing.T) {
	echo := `[{"message":"got client_secret=` + canarySecret + ` and Authorization: Bearer ` + canaryToken + `"}]`
	for _, ep := range []fakejira.Endpoint{fakejira.EndpointToken, fakejira.EndpointTenantInfo, fakejira.EndpointBuilds} {
		for _, status := range []int{400, 503} {
			e := retrying(t, "")
			for range 20 {
				e.srv.Script(ep, fakejira.JSONResponse(status, echo))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_, err := e.c.SubmitBuilds(ctx, oneBuild())
			cancel()
			if err == nil || !strings.Contains(err.Error(), "got client_secret=*** and Authorization: Bearer ") {
				t.Errorf("%s %d: error %v", ep, status, err)
			}
			if ep == fakejira.EndpointToken {
				// No token was issued: the client cannot know the
				// canary token, and no server could echo it.
				assertNoSecret(t, "token error", strings.ReplaceAll(err.Error(), canaryToken, ""), e.log.all())
				continue
			}
			assertNoSecret(t, string(ep)+" error", err.Error(), e.log.all())
			var je *jira.Error
			if errors.As(err, &je) {
				assertNoSecret(t, "messages", je.Messages...)
			}
		}
	}
	e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds,
		fakejira.JSONResponse(202, `{"rejectedBuilds":[{"key":{},"errors":[{"message":"bad `+canaryToken+`"}]}]}`)))
	res, err := e.c.SubmitBuilds(context.Background(), oneBuild())
	if err != nil || len(res.Rejected) != 1 || res.Rejected[0].Errors[0].Message != "bad ***" {
		t.Errorf("result %+v, %v", res, err)
	}
}
