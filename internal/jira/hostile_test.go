package jira_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// Answers a hostile or broken server may give, each one an attack that
// worked on an earlier client (issue 9).

// Retry-After: 0 (or " 0 ", negative, a date in the past) answered forever:
// every retry still waits the backoff, and the tries of one request are
// capped, so a 5s timeout sees a handful of requests, not thousands.
func TestRetryAfterZeroCannotStorm(t *testing.T) {
	clock := newRetryClock()
	past := clock.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	for _, ra := range []string{"0", " 0 ", "-1", past} {
		for _, eps := range [][]fakejira.Endpoint{
			{fakejira.EndpointBuilds},
			{fakejira.EndpointToken},
			{fakejira.EndpointToken, fakejira.EndpointTenantInfo, fakejira.EndpointBuilds},
		} {
			t.Run(ra+"/"+string(eps[len(eps)-1])+"/"+string(eps[0]), func(t *testing.T) {
				var opts []fakejira.Option
				for _, ep := range eps {
					r := fakejira.ErrorResponse(http.StatusTooManyRequests, "slow down")
					r.Header.Set("Retry-After", ra)
					rs := make([]fakejira.Response, 10000)
					for i := range rs {
						rs[i] = r
					}
					opts = append(opts, fakejira.WithScript(ep, rs...))
				}
				e := retrying(t, "", opts...)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_, err := e.c.SubmitBuilds(ctx, oneBuild())
				if err == nil || !strings.Contains(err.Error(), "HTTP 429") {
					t.Fatalf("err %v", err)
				}
				if n := len(e.srv.Requests()); n > 10 {
					t.Errorf("%d requests with a 5s timeout, want at most 10", n)
				}
				for _, ep := range eps {
					if n := e.srv.Count(ep); n > jira.DefaultAttempts {
						t.Errorf("%s: %d requests, want at most %d", ep, n, jira.DefaultAttempts)
					}
				}
				for i, w := range e.clock.Waits() {
					if w < 500*time.Millisecond {
						t.Errorf("wait %d was %v: a retry waits at least the backoff", i+1, w)
					}
				}
			})
		}
	}
}

// Without a deadline the cap alone bounds the tries.
func TestAttemptsCapWithoutADeadline(t *testing.T) {
	rs := make([]fakejira.Response, 100)
	for i := range rs {
		rs[i] = fakejira.RetryAfter(http.StatusServiceUnavailable, 0)
	}
	e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds, rs...))
	_, err := e.c.SubmitBuilds(context.Background(), oneBuild())
	if n := e.srv.Count(fakejira.EndpointBuilds); n != jira.DefaultAttempts {
		t.Errorf("%d submissions, want %d", n, jira.DefaultAttempts)
	}
	if err == nil || !strings.Contains(err.Error(), "Gave up: no tries left (at most 5)") {
		t.Errorf("err %v", err)
	}
}

// secretRecorder is a server that records every request, with its body.
type secretRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string
}

func newSecretRecorder(t *testing.T, status int, body string) *secretRecorder {
	rec := &secretRecorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 4096)
		n, _ := r.Body.Read(b)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b[:n]))
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *secretRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func redirectTo(status int, location string) fakejira.Response {
	return fakejira.Response{Status: status, Header: http.Header{"Location": {location}}, Body: "moved"}
}

// A redirect from the token endpoint is never followed: the client secret
// goes nowhere else, and the failure names api_url.
func TestTokenRedirectKeepsTheSecret(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		other := newSecretRecorder(t, 200, `{"access_token":"stolen","token_type":"Bearer","expires_in":3600}`)
		e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointToken, redirectTo(status, other.URL+"/oauth/token")))
		_, err := e.c.SubmitBuilds(context.Background(), oneBuild())
		if got := other.seen(); len(got) != 0 {
			t.Errorf("%d: the redirect was followed: %q", status, got)
		}
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("token request failed (HTTP %d)", status)) ||
			!strings.Contains(err.Error(), "check api_url") || !strings.Contains(err.Error(), "redirect") {
			t.Errorf("%d: err %v", status, err)
		}
		if n := e.srv.Count(fakejira.EndpointBuilds); n != 0 {
			t.Errorf("%d: submitted without a token", status)
		}
	}
}

// A redirect from a submission is never followed (a 303 would turn the POST
// into a GET whose {} looks like an answer), nor is the gating request's;
// and only a 202 with the API's answer in it is a success.
func TestSubmissionSucceedsOnlyWithJirasAnswer(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		other := newSecretRecorder(t, 200, `{}`)
		e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds, redirectTo(status, other.URL+"/ok")))
		_, err := e.c.SubmitBuilds(context.Background(), oneBuild())
		if err == nil || !strings.Contains(err.Error(), "check api_url") {
			t.Errorf("%d: err %v", status, err)
		}
		if got := other.seen(); len(got) != 0 {
			t.Errorf("%d: the redirect was followed: %q", status, got)
		}
	}
	for _, answer := range []fakejira.Response{
		fakejira.JSONResponse(200, `{}`),
		fakejira.JSONResponse(200, `{"acceptedBuilds":[{"pipelineId":"acme/app/ci","buildNumber":42}]}`),
		fakejira.JSONResponse(201, `{"acceptedBuilds":[{"pipelineId":"acme/app/ci","buildNumber":42}]}`),
		fakejira.JSONResponse(202, `{}`),
		fakejira.JSONResponse(202, ``),
		fakejira.JSONResponse(202, `{"ok":true}`),
	} {
		e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds, answer))
		res, err := e.c.SubmitBuilds(context.Background(), oneBuild())
		if err == nil || !strings.Contains(err.Error(), "api_url") {
			t.Errorf("%d %s: %+v, %v; want a failure", answer.Status, answer.Body, res, err)
		}
	}
	// The control: Jira's own answer is a success.
	e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds,
		fakejira.JSONResponse(202, `{"acceptedBuilds":[],"rejectedBuilds":[],"unknownIssueKeys":[]}`)))
	if _, err := e.c.SubmitBuilds(context.Background(), oneBuild()); err != nil {
		t.Errorf("Jira's answer: %v", err)
	}

	other := newSecretRecorder(t, 200, `{"gatingStatus":"allowed"}`)
	e = retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointGating, redirectTo(302, other.URL+"/g")))
	d := gatedDeployment()
	if _, err := e.c.SubmitDeployments(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	st, err := e.c.GatingStatus(context.Background(), d.Deployments[0].Pipeline.ID, d.Deployments[0].Environment.ID, 7)
	if err == nil || len(other.seen()) != 0 {
		t.Errorf("gating followed a redirect: %+v, %v, %q", st, err, other.seen())
	}
}

// A token with CR/LF (or anything a header cannot carry) is final at once:
// no retry, no API call, nothing to mask that could break a log line.
func TestTokenThatCannotBeAHeaderIsFinal(t *testing.T) {
	for _, bad := range []string{"tok-CANARY\r\nX-Injected: 1", "tok-CANARY\n::set-output name=sent::true", "tok CANARY", "tok-CANARY\x00", "tok-CANARYé"} {
		var masked []string
		srv := fakejira.New(t, fakejira.WithAccessToken(bad))
		clock := newRetryClock()
		hc := jira.NewHTTPClient(jira.WithRetry(policy(clock)))
		c := jira.New(context.Background(), jira.Config{APIURL: srv.URL, CloudID: srv.CloudID, ClientID: srv.ClientID,
			ClientSecret: srv.ClientSecret, HTTPClient: hc, OnToken: func(s string) { masked = append(masked, s) }})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := c.SubmitBuilds(ctx, oneBuild())
		cancel()
		if err == nil || !strings.Contains(err.Error(), "token request failed") || !strings.Contains(err.Error(), "cannot be sent in a header") {
			t.Errorf("%q: err %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%q: the error repeats the token: %v", bad, err)
		}
		if n := srv.Count(fakejira.EndpointToken); n != 1 || srv.Count(fakejira.EndpointBuilds) != 0 || len(clock.Waits()) != 0 || len(masked) != 0 {
			t.Errorf("%q: %d token requests, %d submissions, waits %v, masked %q", bad, n, srv.Count(fakejira.EndpointBuilds), clock.Waits(), masked)
		}
	}
}

// A tenant_info answer whose cloudId is not a UUID is refused before it is
// put in a path: the bearer token goes to no URL built from it.
func TestCloudIDFromTheSiteMustBeAUUID(t *testing.T) {
	for _, id := range []string{"..", "not-a-uuid", "../../oauth/token", fakejira.DefaultCloudID + "/..", "0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6g", ""} {
		body, _ := json.Marshal(map[string]string{"cloudId": id})
		srv := fakejira.New(t, fakejira.AllowInvalid(), fakejira.WithScript(fakejira.EndpointTenantInfo, fakejira.JSONResponse(200, string(body))))
		c := newClient(t, srv, "", nil)
		_, err := c.SubmitBuilds(context.Background(), buildRequest())
		if err == nil || !strings.Contains(err.Error(), "cloud id lookup (tenant_info) failed") || !strings.Contains(err.Error(), "set cloud_id") {
			t.Errorf("%q: err %v", id, err)
		}
		for _, r := range srv.Requests() {
			if r.Endpoint != fakejira.EndpointToken && r.Endpoint != fakejira.EndpointTenantInfo {
				t.Errorf("%q: a request went to %s %s", id, r.Method, r.RawPath)
			}
		}
	}
	for id, want := range map[string]bool{
		fakejira.DefaultCloudID: true, strings.ToUpper(fakejira.DefaultCloudID): true,
		"..": false, "not-a-uuid": false, "0b6c5d1e07f2a-4c3b-9d8e-1a2b3c4d5e6f": false, fakejira.DefaultCloudID + "0": false,
		"0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6\u00e9": false,
	} {
		if jira.ValidCloudID(id) != want {
			t.Errorf("ValidCloudID(%q) = %v", id, !want)
		}
	}
	// A configured cloud id is checked too.
	srv := fakejira.New(t, fakejira.AllowInvalid())
	if _, err := newClient(t, srv, "..", nil).SubmitBuilds(context.Background(), buildRequest()); err == nil ||
		srv.Count(fakejira.EndpointOther) != 0 || srv.Count(fakejira.EndpointBuilds) != 0 {
		t.Errorf("cloud_id ..: %v", err)
	}
}

// The secret echoed by the token endpoint URL-encoded, JSON-escaped or in
// base64 never reaches an error; nor does a JSON-escaped token placed where
// the message is cut.
func TestRedactionCoversEncodedForms(t *testing.T) {
	const secret = "SEC+ret/Key=canary&x<y>"
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), "SEC%2bret%2fKey%3dcanary%26x%3cy%3e",
		`SEC+ret\/Key=canary\u0026x\u003cy\u003e`,
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.URLEncoding.EncodeToString([]byte(secret)),
		base64.StdEncoding.EncodeToString([]byte("client-1:" + secret)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"client_secret":"` + secret + `"}`))}
	// The parts of each that would give the secret away.
	leaks := []string{"SEC+ret", "SEC%2B", "SEC%2b", "canary", "U0VDK3Jld", "U0VDK3JldC9LZXk9Y2FuYXJ5", "Y2FuYXJ5"}
	echo := strings.Join(forms, " | ")
	for _, body := range []string{
		`{"error":"invalid_client","error_description":"bad request: ` + strings.ReplaceAll(echo, `\`, `\\`) + `"}`,
		`client_id=client-1&client_secret=` + url.QueryEscape(secret) + `&audience=api.atlassian.com ` + echo,
	} {
		srv := fakejira.New(t, fakejira.WithClientCredentials("client-1", secret),
			fakejira.WithScript(fakejira.EndpointToken, fakejira.Response{Status: 400, Body: body}))
		c := jira.New(context.Background(), jira.Config{APIURL: srv.URL, CloudID: srv.CloudID, ClientID: "client-1",
			ClientSecret: secret, HTTPClient: srv.Client()})
		_, err := c.SubmitBuilds(context.Background(), oneBuild())
		if err == nil || !strings.Contains(err.Error(), "***") {
			t.Fatalf("err %v", err)
		}
		for _, leak := range leaks {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("the error has %q: %v", leak, err)
			}
		}
	}

	// A JSON-escaped token across the 500-character cut of a message.
	for pad := 470; pad < 500; pad++ {
		escaped := strings.Replace(canaryToken, "-", `\u002d`, 1)
		e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds,
			fakejira.JSONResponse(400, `[{"message":"`+strings.Repeat("x", pad)+" "+escaped+` trailing"}]`)))
		_, err := e.c.SubmitBuilds(context.Background(), oneBuild())
		if err == nil {
			t.Fatal("no error")
		}
		for i := 0; i+6 <= len(canaryToken); i++ {
			if strings.Contains(err.Error(), canaryToken[i:i+6]) {
				t.Fatalf("pad %d: part of the token (%q) in %v", pad, canaryToken[i:i+6], err)
			}
		}
	}
	// And in a rejection of a 202.
	e := retrying(t, fakejira.DefaultCloudID, fakejira.WithScript(fakejira.EndpointBuilds,
		fakejira.JSONResponse(202, `{"rejectedBuilds":[{"key":{},"errors":[{"message":"`+strings.Repeat("y", 495)+` tok\u002dCANARY-jira-5e4d3c"}]}]}`)))
	res, err := e.c.SubmitBuilds(context.Background(), oneBuild())
	if err != nil || len(res.Rejected) != 1 || strings.Contains(res.Rejected[0].Errors[0].Message, "tok-C") {
		t.Errorf("%+v, %v", res, err)
	}
}

// The token request is the documented JSON body (issue 10), and a token
// error's body is read as Jira's answer.
func TestTokenRequestIsJSON(t *testing.T) {
	srv := fakejira.New(t)
	submitBuild(t, newClient(t, srv, srv.CloudID, nil))
	var tok *fakejira.Request
	for _, r := range srv.Requests() {
		if r.Endpoint == fakejira.EndpointToken {
			tok = &r
		}
	}
	if tok == nil || tok.Header.Get("Content-Type") != "application/json" || tok.Method != http.MethodPost {
		t.Fatalf("token request %+v", tok)
	}
	var body map[string]any
	if err := json.Unmarshal(tok.Body, &body); err != nil {
		t.Fatalf("body %s: %v", tok.Body, err)
	}
	want := map[string]any{"audience": "api.atlassian.com", "grant_type": "client_credentials",
		"client_id": srv.ClientID, "client_secret": srv.ClientSecret}
	if len(body) != len(want) {
		t.Errorf("body %s", tok.Body)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
	if tok.Header.Get("Authorization") != "" {
		t.Error("credentials in a header")
	}
}

// Jira rejects a record only because none of its keys exist: the result
// says so, judged on the keys sent; any other rejection does not.
func TestAllKeysUnknown(t *testing.T) {
	ctx := context.Background()
	build := func(keys ...string) jira.BuildsRequest {
		b := buildRequest()
		b.Builds[0].IssueKeys = keys
		return b
	}
	srv := fakejira.New(t, fakejira.WithUnknownIssueKeys("UTF-8", "SHA-256"))
	c := newClient(t, srv, srv.CloudID, nil)
	res, err := c.SubmitBuilds(ctx, build("UTF-8", "SHA-256"))
	if err != nil || !res.AllKeysUnknown || len(res.Rejected) != 1 || res.Accepted != 0 {
		t.Errorf("all unknown: %+v, %v", res, err)
	}
	res, err = c.SubmitBuilds(ctx, build("UTF-8", "ABC-1"))
	if err != nil || res.AllKeysUnknown || res.Accepted != 1 || len(res.UnknownIssueKeys) != 1 {
		t.Errorf("one known: %+v, %v", res, err)
	}
	// A deployment with a service to link is not refused for its keys alone.
	d := gatedDeployment()
	d.Deployments[0].Associations = []jira.Association{{AssociationType: jira.AssocIssues, Values: []string{"UTF-8"}},
		{AssociationType: jira.AssocServices, Values: []string{"svc-1"}}}
	if res, err := c.SubmitDeployments(ctx, d); err != nil || res.AllKeysUnknown {
		t.Errorf("with a service: %+v, %v", res, err)
	}
	d.Deployments[0].Associations = d.Deployments[0].Associations[:1]
	if res, err := c.SubmitDeployments(ctx, d); err != nil || !res.AllKeysUnknown || len(res.Rejected) != 1 {
		t.Errorf("deployment, all unknown: %+v, %v", res, err)
	}
	// Rejected for another reason, keys known.
	srv.SetRejectAll("Data is invalid")
	if res, err := c.SubmitBuilds(ctx, build("ABC-1")); err != nil || res.AllKeysUnknown || len(res.Rejected) != 1 {
		t.Errorf("other rejection: %+v, %v", res, err)
	}
	// A 400 is a failure, whatever its words.
	srv = fakejira.New(t, fakejira.WithScript(fakejira.EndpointBuilds, fakejira.ErrorResponse(400, "issue keys UTF-8 do not exist")))
	var je *jira.Error
	if _, err := newClient(t, srv, srv.CloudID, nil).SubmitBuilds(ctx, build("UTF-8")); !errors.As(err, &je) || je.Status != 400 {
		t.Errorf("400: %v", err)
	}
}
