package jira_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// Path segments that need escaping: a GitHub workflow path and a name with
// a space.
const (
	gPipelineID = "acme/shop/.github/workflows/deploy.yml"
	gEnvID      = "prod eu"
	gSeq        = 42
)

func newGatingClock() *fakejira.Clock {
	return fakejira.NewClock(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
}

func gatingClient(ctx context.Context, srv *fakejira.Server) *jira.Client {
	return jira.New(ctx, jira.Config{
		APIURL: srv.URL, Site: srv.URL, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
		HTTPClient: srv.Client(), UserAgent: "jira-cicd test",
	})
}

// submit sends the deployment the gating polls ask about, with the gating
// command.
func submitGated(t *testing.T, ctx context.Context, c *jira.Client) {
	t.Helper()
	res, err := c.SubmitDeployments(ctx, jira.DeploymentsRequest{Deployments: []jira.Deployment{{
		SchemaVersion: "1.0", DeploymentSequenceNumber: gSeq, UpdateSequenceNumber: 1,
		Associations: []jira.Association{{AssociationType: jira.AssocIssues, Values: []string{"OPS-1", "OPS-2"}}},
		DisplayName:  "deploy #42", URL: "https://ci.example.com/42", Description: "Deploy shop to prod",
		LastUpdated: "2026-11-29T12:00:00.000Z", State: "successful",
		Pipeline:    jira.Pipeline{ID: gPipelineID, DisplayName: "deploy", URL: "https://ci.example.com"},
		Environment: jira.Environment{ID: gEnvID, DisplayName: "prod EU", Type: "production"},
		Commands:    []jira.Command{{Command: jira.CommandGating}},
	}}})
	if err != nil || res.Accepted != 1 {
		t.Fatalf("submit: %+v, %v", res, err)
	}
}

type gatingWaitResult struct {
	res   jira.GatingResult
	err   error
	polls []jira.GatingPoll
	clock *fakejira.Clock
}

func waitGating(t *testing.T, srv *fakejira.Server, w jira.GatingWait) gatingWaitResult {
	t.Helper()
	ctx := context.Background()
	c := gatingClient(ctx, srv)
	submitGated(t, ctx, c)
	return waitGatingWith(ctx, c, w)
}

func waitGatingWith(ctx context.Context, c *jira.Client, w jira.GatingWait) gatingWaitResult {
	out := gatingWaitResult{clock: newGatingClock()}
	if w.Interval == 0 {
		w.Interval = 30 * time.Second
	}
	if w.Timeout == 0 {
		w.Timeout = 30 * time.Minute
	}
	w.RequestTimeout = 10 * time.Second
	w.Now, w.Sleep = out.clock.Now, out.clock.Sleep
	w.Progress = func(p jira.GatingPoll) { out.polls = append(out.polls, p) }
	out.res, out.err = c.WaitForGating(ctx, gPipelineID, gEnvID, gSeq, w)
	return out
}

func TestGatingWaitsForAllowed(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("awaiting", "awaiting", "allowed"))
	r := waitGating(t, srv, jira.GatingWait{})
	if r.err != nil || !r.res.Allowed() || r.res.Polls != 3 || r.res.Waited != time.Minute {
		t.Fatalf("result %+v, %v", r.res, r.err)
	}
	if len(r.polls) != 3 || r.polls[0].Status != "awaiting" || r.polls[0].Final || r.polls[1].Waited != 30*time.Second ||
		!r.polls[2].Final || r.polls[2].Status != "allowed" {
		t.Errorf("progress %+v", r.polls)
	}
	if got := r.clock.Waits(); len(got) != 2 || got[0] != 30*time.Second {
		t.Errorf("sleeps %v", got)
	}
	// Path segments escaped: the slashes of the pipeline id and the space.
	var gating []fakejira.Request
	for _, q := range srv.Requests() {
		if q.Endpoint == fakejira.EndpointGating {
			gating = append(gating, q)
		}
	}
	want := "/jira/deployments/0.1/cloud/" + fakejira.DefaultCloudID +
		"/pipelines/acme%2Fshop%2F.github%2Fworkflows%2Fdeploy.yml/environments/prod%20eu/deployments/42/gating-status"
	if len(gating) != 3 || gating[0].RawPath != want || gating[0].Method != "GET" {
		t.Fatalf("gating requests: %d, path %q", len(gating), gating[0].RawPath)
	}
	if !strings.HasPrefix(gating[0].Header.Get("Authorization"), "Bearer ") {
		t.Error("gating request without the token")
	}
}

func TestGatingDecisions(t *testing.T) {
	for _, status := range []string{"prevented", "expired", "invalid", "Prevented"} {
		t.Run(status, func(t *testing.T) {
			srv := fakejira.New(t, fakejira.WithGating("awaiting", status))
			r := waitGating(t, srv, jira.GatingWait{})
			if r.err != nil || r.res.Allowed() || r.res.Status != strings.ToLower(status) || r.res.Polls != 2 {
				t.Fatalf("result %+v, %v", r.res, r.err)
			}
			// The issues gating the deployment, with their links.
			d := r.res.Last.Details
			if len(d) != 2 || d[0].IssueKey != "OPS-1" || d[0].IssueLink != srv.URL+"/browse/OPS-1" || d[0].Type != "issue" {
				t.Errorf("details %+v", d)
			}
		})
	}
}

func TestGatingTimeout(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("awaiting"))
	r := waitGating(t, srv, jira.GatingWait{Interval: 300 * time.Millisecond, Timeout: time.Second})
	if r.err != nil || r.res.Status != jira.GatingTimeout || r.res.Waited != time.Second {
		t.Fatalf("result %+v, %v", r.res, r.err)
	}
	// Polls at 0, .3, .6, .9 and, last, at the timeout itself.
	if r.res.Polls != 5 || srv.Count(fakejira.EndpointGating) != 5 {
		t.Errorf("%d polls, %d requests", r.res.Polls, srv.Count(fakejira.EndpointGating))
	}
	want := []time.Duration{300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond, 100 * time.Millisecond}
	if got := r.clock.Waits(); len(got) != len(want) || got[3] != want[3] || got[0] != want[0] {
		t.Errorf("sleeps %v, want %v", got, want)
	}
	last := r.polls[len(r.polls)-1]
	if !last.Final || last.Status != "awaiting" || r.res.Last.Status != "awaiting" {
		t.Errorf("last poll %+v", last)
	}
}

func TestGatingUnknownStatusKeepsWaiting(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("in_review", "", "allowed"))
	r := waitGating(t, srv, jira.GatingWait{})
	if r.err != nil || !r.res.Allowed() || r.res.Polls != 3 {
		t.Fatalf("result %+v, %v", r.res, r.err)
	}
	if !r.polls[0].Unknown || r.polls[0].Status != "in_review" || !r.polls[1].Unknown || r.polls[2].Unknown {
		t.Errorf("progress %+v", r.polls)
	}
}

func TestGatingEarlyNotFoundIsAwaiting(t *testing.T) {
	notFound := fakejira.ErrorResponse(404, "No data found for the given deployment ID")
	srv := fakejira.New(t, fakejira.WithGating("allowed"), fakejira.WithScript(fakejira.EndpointGating, notFound, notFound))
	r := waitGating(t, srv, jira.GatingWait{})
	if r.err != nil || !r.res.Allowed() || r.res.Polls != 3 {
		t.Fatalf("result %+v, %v", r.res, r.err)
	}
	if !r.polls[0].NotFound || !r.polls[1].NotFound || r.polls[2].NotFound {
		t.Errorf("progress %+v", r.polls)
	}
}

func TestGatingNotFoundIsBounded(t *testing.T) {
	notFound := fakejira.ErrorResponse(404, "No data found for the given deployment ID")
	srv := fakejira.New(t, fakejira.WithScript(fakejira.EndpointGating, notFound, notFound, notFound, notFound, notFound))
	r := waitGating(t, srv, jira.GatingWait{})
	var je *jira.Error
	if !errors.As(r.err, &je) || je.Status != 404 || je.Op != jira.OpGatingStatus {
		t.Fatalf("error %v", r.err)
	}
	if r.res.Polls != jira.DefaultNotFoundPolls+1 {
		t.Errorf("%d polls", r.res.Polls)
	}
	if !strings.Contains(r.err.Error(), "No data found for the given deployment ID") {
		t.Errorf("Jira's message missing: %v", r.err)
	}

	// No tolerance at all when asked.
	srv = fakejira.New(t, fakejira.WithScript(fakejira.EndpointGating, notFound))
	if r := waitGating(t, srv, jira.GatingWait{NotFoundPolls: -1}); r.err == nil || r.res.Polls != 1 {
		t.Errorf("NotFoundPolls -1: %+v, %v", r.res, r.err)
	}
}

func TestGatingNotFoundAfterAStatusFails(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("awaiting"))
	ctx := context.Background()
	c := gatingClient(ctx, srv)
	submitGated(t, ctx, c)
	srv.Script(fakejira.EndpointGating, fakejira.JSONResponse(200, `{"gatingStatus":"awaiting"}`),
		fakejira.ErrorResponse(404, "No data found for the given deployment ID"))
	r := waitGatingWith(ctx, c, jira.GatingWait{})
	if r.err == nil || r.res.Polls != 2 {
		t.Fatalf("result %+v, %v", r.res, r.err)
	}
}

func TestGatingOtherErrorsStop(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithScript(fakejira.EndpointGating, fakejira.ErrorResponse(403, "Forbidden")))
	r := waitGating(t, srv, jira.GatingWait{})
	if r.err == nil || !strings.Contains(r.err.Error(), "Deployments permission") || r.res.Polls != 1 {
		t.Fatalf("result %+v, %v", r.res, r.err)
	}
}

func TestGatingStopsWithContext(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("awaiting"))
	ctx, cancel := context.WithCancel(context.Background())
	c := gatingClient(ctx, srv)
	submitGated(t, ctx, c)
	w := jira.GatingWait{Interval: time.Second, Timeout: time.Hour, Progress: func(p jira.GatingPoll) {
		if p.N == 2 {
			cancel()
		}
	}}
	clk := newGatingClock()
	w.Now, w.Sleep = clk.Now, clk.Sleep
	res, err := c.WaitForGating(ctx, gPipelineID, gEnvID, gSeq, w)
	if !errors.Is(err, context.Canceled) || res.Polls != 2 {
		t.Fatalf("result %+v, %v", res, err)
	}
}

// A wait longer than the token's life renews the token within each poll's
// own context: the submission's context, long done, plays no part, and a
// token request that hangs is bounded by the poll's request timeout.
func TestGatingRenewsTokenWithThePollsContext(t *testing.T) {
	// expires_in 1s is within oauth2's 10s margin: every request needs a
	// new token.
	srv := fakejira.New(t, fakejira.WithTokenLifetime(time.Second), fakejira.WithGating("awaiting", "awaiting", "allowed"))
	life, endLife := context.WithCancel(context.Background())
	c := gatingClient(life, srv)
	submitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	submitGated(t, submitCtx, c)
	cancel()

	// The token endpoint hangs: the poll's own deadline ends the wait.
	srv.Script(fakejira.EndpointToken, fakejira.Delayed(time.Hour))
	pollCtx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := c.GatingStatus(pollCtx, gPipelineID, gEnvID, gSeq)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("a hanging token request was not bounded by the poll's context: %v", err)
	}

	r := waitGatingWith(context.Background(), c, jira.GatingWait{})
	if r.err != nil || !r.res.Allowed() {
		t.Fatalf("result %+v, %v", r.res, r.err)
	}
	// The submission takes two (Prepare's, then the submit's own, as the
	// first is already stale), the abandoned request none, then one per
	// poll.
	if n := srv.TokensIssued(); n != 5 {
		t.Errorf("%d tokens issued, want 2 for the submission and 1 per poll", n)
	}

	// The client's life bounds its token requests too.
	endLife()
	if _, err := c.GatingStatus(context.Background(), gPipelineID, gEnvID, gSeq); err == nil {
		t.Error("a token was taken after the client's life ended")
	}
}

func TestSleepContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := jira.SleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sleep: %v", err)
	}
	if err := jira.SleepContext(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleep: %v", err)
	}
}
