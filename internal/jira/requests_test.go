package jira_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// The step's whole job is a few round trips; these tests pin them to the
// minimum: token + submit with a cloud id, token + tenant_info + submit
// without (the first two at once), one token for the run, one connection
// per host.

func newClient(t *testing.T, srv *fakejira.Server, cloudID string, hc *http.Client) *jira.Client {
	t.Helper()
	if hc == nil {
		hc = jira.NewHTTPClient()
	}
	t.Cleanup(hc.CloseIdleConnections)
	return jira.New(context.Background(), jira.Config{
		APIURL:       srv.URL,
		Site:         srv.URL,
		CloudID:      cloudID,
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		HTTPClient:   hc,
		UserAgent:    "jira-cicd test",
	})
}

func buildRequest() jira.BuildsRequest {
	return jira.BuildsRequest{Builds: []jira.Build{{
		SchemaVersion: "1.0", PipelineID: "acme/app/ci", BuildNumber: 42, UpdateSequenceNumber: 1,
		DisplayName: "CI #42", URL: "https://ci.example.com/42", State: "successful",
		LastUpdated: "2026-11-29T12:00:00.000Z", IssueKeys: []string{"ABC-1"},
	}}}
}

func gatedDeployment() jira.DeploymentsRequest {
	return jira.DeploymentsRequest{Deployments: []jira.Deployment{{
		SchemaVersion: "1.0", DeploymentSequenceNumber: 7, UpdateSequenceNumber: 1,
		Associations: []jira.Association{{AssociationType: jira.AssocIssues, Values: []string{"ABC-1"}}},
		DisplayName:  "Deploy #7", URL: "https://ci.example.com/7", Description: "Deploy #7 to production",
		LastUpdated: "2026-11-29T12:00:00.000Z", State: "pending",
		Pipeline:    jira.Pipeline{ID: "acme/app/deploy", DisplayName: "Deploy", URL: "https://ci.example.com/deploy"},
		Environment: jira.Environment{ID: "production", DisplayName: "production", Type: "production"},
		Commands:    []jira.Command{{Command: jira.CommandGating}},
	}}}
}

func endpoints(srv *fakejira.Server) []fakejira.Endpoint {
	var out []fakejira.Endpoint
	for _, r := range srv.Requests() {
		out = append(out, r.Endpoint)
	}
	return out
}

func submitBuild(t *testing.T, c *jira.Client) {
	t.Helper()
	res, err := c.SubmitBuilds(context.Background(), buildRequest())
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 {
		t.Fatalf("accepted %d builds, want 1: %+v", res.Accepted, res)
	}
}

func TestRequestsWithCloudID(t *testing.T) {
	srv := fakejira.New(t)
	submitBuild(t, newClient(t, srv, srv.CloudID, nil))
	got := endpoints(srv)
	want := []fakejira.Endpoint{fakejira.EndpointToken, fakejira.EndpointBuilds}
	if !slices.Equal(got, want) {
		t.Fatalf("requests %v, want exactly %v", got, want)
	}
	if n := srv.Connections(); n != 1 {
		t.Errorf("%d connections for %d requests, want 1 (keep-alive)", n, len(got))
	}
}

func TestRequestsWithoutCloudID(t *testing.T) {
	srv := fakejira.New(t)
	submitBuild(t, newClient(t, srv, "", nil))
	got := endpoints(srv)
	if len(got) != 3 || got[2] != fakejira.EndpointBuilds ||
		srv.Count(fakejira.EndpointToken) != 1 || srv.Count(fakejira.EndpointTenantInfo) != 1 {
		t.Fatalf("requests %v, want exactly a token and a tenant_info request (in either order), then the submission", got)
	}
	// Token and tenant_info may go out at once, each on its own connection;
	// the submission reuses one of them.
	if n := srv.Connections(); n > 2 {
		t.Errorf("%d connections for 3 requests, want at most 2 (keep-alive)", n)
	}
}

// barrier holds the token and tenant_info requests in the client's transport
// until both have been sent on their way, or until patience runs out. Both
// pass only if they were in flight at the same time; a client that sends them
// one after the other keeps the first waiting for the full patience, and the
// barrier notes that it was never met. Nothing depends on timing when they
// do overlap.
type barrier struct {
	next     http.RoundTripper
	patience time.Duration

	mu      sync.Mutex
	arrived map[string]bool
	met     chan struct{}
	waited  []string // the requests that gave up waiting
}

func (b *barrier) kind(r *http.Request) string {
	switch {
	case strings.HasSuffix(r.URL.Path, "/oauth/token"):
		return "token"
	case strings.HasSuffix(r.URL.Path, "/_edge/tenant_info"):
		return "tenant_info"
	}
	return ""
}

func (b *barrier) RoundTrip(r *http.Request) (*http.Response, error) {
	if k := b.kind(r); k != "" {
		b.mu.Lock()
		b.arrived[k] = true
		if len(b.arrived) == 2 {
			select {
			case <-b.met:
			default:
				close(b.met)
			}
		}
		b.mu.Unlock()
		timer := time.NewTimer(b.patience)
		select {
		case <-b.met:
			timer.Stop()
		case <-timer.C:
			b.mu.Lock()
			b.waited = append(b.waited, k)
			b.mu.Unlock()
		}
	}
	return b.next.RoundTrip(r)
}

func TestTokenAndTenantInfoInFlightTogether(t *testing.T) {
	// Delays on both answers as well: each request is still unanswered
	// while the other one is sent.
	srv := fakejira.New(t,
		fakejira.WithScript(fakejira.EndpointToken, fakejira.Delayed(20*time.Millisecond)),
		fakejira.WithScript(fakejira.EndpointTenantInfo, fakejira.Delayed(20*time.Millisecond)))
	b := &barrier{next: jira.NewHTTPClient().Transport, patience: 10 * time.Second,
		arrived: map[string]bool{}, met: make(chan struct{})}
	c := newClient(t, srv, "", &http.Client{Transport: b})
	submitBuild(t, c)
	if len(b.waited) > 0 {
		t.Fatalf("%v waited %v for the other request: token and tenant_info were sent one after the other, not at once",
			b.waited, b.patience)
	}
	select {
	case <-b.met:
	default:
		t.Fatalf("the barrier saw only %v", b.arrived)
	}
	if got := endpoints(srv); len(got) != 3 {
		t.Fatalf("requests %v, want 3", got)
	}
}

func TestOneTokenForSubmitAndGatingPolls(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("awaiting", "awaiting", "allowed"))
	c := newClient(t, srv, srv.CloudID, nil)
	ctx := context.Background()
	d := gatedDeployment()
	res, err := c.SubmitDeployments(ctx, d)
	if err != nil || res.Accepted != 1 {
		t.Fatalf("submit: %+v, %v", res, err)
	}
	var statuses []string
	for range 3 {
		g, err := c.GatingStatus(ctx, d.Deployments[0].Pipeline.ID, d.Deployments[0].Environment.ID, d.Deployments[0].DeploymentSequenceNumber)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, g.Status)
	}
	if !slices.Equal(statuses, []string{"awaiting", "awaiting", "allowed"}) {
		t.Fatalf("gating statuses %v", statuses)
	}
	if n := srv.TokensIssued(); n != 1 || srv.Count(fakejira.EndpointToken) != 1 {
		t.Errorf("%d tokens issued (%d token requests) for a submission and 3 polls, want 1", n, srv.Count(fakejira.EndpointToken))
	}
	// Every API call carried that one token.
	var bearer []string
	for _, r := range srv.Requests() {
		if r.Endpoint != fakejira.EndpointToken {
			bearer = append(bearer, r.Header.Get("Authorization"))
		}
	}
	if len(bearer) != 4 || !strings.HasPrefix(bearer[0], "Bearer ") || len(slices.Compact(slices.Clone(bearer))) != 1 {
		t.Errorf("authorization headers %q, want the same bearer token on all 4 calls", bearer)
	}
	if n := srv.Connections(); n != 1 {
		t.Errorf("%d connections for 5 requests, want 1 (keep-alive)", n)
	}
}

// TestTokenRenewedWhenExpired: a token the client must consider expired is
// not reused. x/oauth2 renews a token 10 seconds before it expires, so with a
// 5-second lifetime every token is stale at once, and every call must fetch a
// fresh one; no call may go out with a stale token.
func TestTokenRenewedWhenExpired(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithTokenLifetime(5*time.Second), fakejira.WithGating("awaiting", "allowed"))
	c := newClient(t, srv, srv.CloudID, nil)
	ctx := context.Background()
	d := gatedDeployment()
	if res, err := c.SubmitDeployments(ctx, d); err != nil || res.Accepted != 1 {
		t.Fatalf("submit: %+v, %v", res, err)
	}
	for range 2 {
		if _, err := c.GatingStatus(ctx, d.Deployments[0].Pipeline.ID, d.Deployments[0].Environment.ID, d.Deployments[0].DeploymentSequenceNumber); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	calls := 0
	for _, r := range srv.Requests() {
		if r.Endpoint == fakejira.EndpointToken {
			continue
		}
		calls++
		auth := r.Header.Get("Authorization")
		if seen[auth] {
			t.Errorf("an expired token was reused: %s %s", r.Method, r.Path)
		}
		seen[auth] = true
	}
	// Prepare's token, then one per call.
	if n := srv.TokensIssued(); n != calls+1 {
		t.Errorf("%d tokens for %d calls with tokens that expire at once, want %d", n, calls, calls+1)
	}
}

// TestConnectionCountingCanFail is the control for the keep-alive checks: a
// client that does not keep connections alive opens one per request, and
// the fake counts them.
func TestConnectionCountingCanFail(t *testing.T) {
	srv := fakejira.New(t)
	hc := jira.NewHTTPClient(jira.WithTransport(func(tr *http.Transport) { tr.DisableKeepAlives = true }))
	submitBuild(t, newClient(t, srv, srv.CloudID, hc))
	if n := srv.Connections(); n != 2 {
		t.Fatalf("%d connections for 2 requests without keep-alive, want 2", n)
	}
}

// A body is encoded once, apart from its submission: the bytes sent are the
// encoding's, a retry would send them again, and a zero Encoded is refused
// without a request.
func TestEncodedBodyIsWhatIsSent(t *testing.T) {
	srv := fakejira.New(t)
	c := newClient(t, srv, "", nil)
	if _, err := c.Submit(context.Background(), jira.Encoded{}); err == nil {
		t.Fatal("a zero Encoded was submitted")
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests for nothing to submit", n)
	}
	e, err := jira.EncodeBuilds(buildRequest())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(buildRequest())
	res, err := c.Submit(context.Background(), e)
	if err != nil || res.Accepted != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Endpoint != fakejira.EndpointBuilds || string(last.Body) != string(want) {
		t.Errorf("sent %s %s, want the encoded body %s", last.Endpoint, last.Body, want)
	}
}
