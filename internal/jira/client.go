package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Audience is the audience Atlassian's token endpoint expects for 2LO.
const Audience = "api.atlassian.com"

// Config says where Jira is and how to authenticate.
type Config struct {
	APIURL       string // base of /oauth/token and /jira/...
	Site         string // site base URL, for tenant_info; unused when CloudID is set
	CloudID      string
	ClientID     string
	ClientSecret string
	// HTTPClient sends every request (token, tenant_info, submit, gating).
	// Nil: http.DefaultClient.
	HTTPClient *http.Client
	// OnToken is called once with each access token received, before it is
	// used, so the caller can mask it in logs.
	OnToken func(token string)
	// UserAgent identifies the tool.
	UserAgent string
}

// Client is a Jira client for one run: it takes one token and reuses it
// (a new one only when it expires) and resolves the cloud id once.
type Client struct {
	cfg     Config
	http    *http.Client
	tokens  oauth2.TokenSource
	cloudMu sync.Mutex
	cloudID string
}

// New returns a client for cfg. ctx bounds every token request the client
// makes (it is the run's context, with the run's timeout).
func New(ctx context.Context, cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	cc := &clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		TokenURL:       strings.TrimRight(cfg.APIURL, "/") + "/oauth/token",
		EndpointParams: url.Values{"audience": {Audience}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	// The token source keeps the context it was made with for its requests.
	tctx := context.WithValue(ctx, oauth2.HTTPClient, hc)
	c := &Client{cfg: cfg, http: hc, cloudID: cfg.CloudID}
	c.tokens = &notifyingSource{src: cc.TokenSource(tctx), notify: cfg.OnToken}
	return c
}

// notifyingSource tells the caller about each new token before it is used.
type notifyingSource struct {
	mu     sync.Mutex
	src    oauth2.TokenSource
	last   string
	notify func(string)
}

func (n *notifyingSource) Token() (*oauth2.Token, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.src.Token()
	if err != nil {
		return nil, err
	}
	if t.AccessToken != n.last {
		n.last = t.AccessToken
		if n.notify != nil {
			n.notify(t.AccessToken)
		}
	}
	return t, nil
}

// Prepare takes the token and resolves the cloud id, concurrently. Calling it
// is optional: each call takes what it needs; Prepare only overlaps the two
// round trips.
func (c *Client) Prepare(ctx context.Context) error {
	var wg sync.WaitGroup
	var tokErr, cloudErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		tokErr = c.token()
	}()
	_, cloudErr = c.CloudID(ctx)
	wg.Wait()
	if tokErr != nil {
		return tokErr
	}
	return cloudErr
}

func (c *Client) token() error {
	if _, err := c.tokens.Token(); err != nil {
		return tokenError(err)
	}
	return nil
}

// CloudID returns the configured cloud id, or looks it up on the site.
func (c *Client) CloudID(ctx context.Context) (string, error) {
	c.cloudMu.Lock()
	defer c.cloudMu.Unlock()
	if c.cloudID != "" {
		return c.cloudID, nil
	}
	u := strings.TrimRight(c.cfg.Site, "/") + "/_edge/tenant_info"
	var out struct {
		CloudID string `json:"cloudId"`
	}
	if err := c.do(ctx, OpTenantInfo, http.MethodGet, u, nil, false, &out); err != nil {
		return "", err
	}
	if out.CloudID == "" {
		return "", &Error{Op: OpTenantInfo, Hint: "the site answered without a cloudId; check site (it must be your Jira Cloud site, such as acme.atlassian.net)"}
	}
	c.cloudID = out.CloudID
	return c.cloudID, nil
}

// SubmitBuilds sends builds and returns Jira's answer.
func (c *Client) SubmitBuilds(ctx context.Context, req BuildsRequest) (Result, error) {
	var out buildsResponse
	if err := c.submit(ctx, OpSubmitBuilds, "builds", req, &out); err != nil {
		return Result{}, err
	}
	return Result{Accepted: len(out.AcceptedBuilds), Rejected: out.RejectedBuilds, UnknownIssueKeys: out.UnknownIssueKeys}, nil
}

// SubmitDeployments sends deployments and returns Jira's answer.
func (c *Client) SubmitDeployments(ctx context.Context, req DeploymentsRequest) (Result, error) {
	var out deploymentsResponse
	if err := c.submit(ctx, OpSubmitDeployments, "deployments", req, &out); err != nil {
		return Result{}, err
	}
	return Result{Accepted: len(out.AcceptedDeployments), Rejected: out.RejectedDeployments,
		UnknownIssueKeys: out.UnknownIssueKeys, UnknownAssociations: out.UnknownAssociations}, nil
}

func (c *Client) submit(ctx context.Context, op, api string, body any, out any) error {
	if err := c.Prepare(ctx); err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	u := fmt.Sprintf("%s/jira/%s/0.1/cloud/%s/bulk", strings.TrimRight(c.cfg.APIURL, "/"), api, url.PathEscape(c.cloudID))
	return c.do(ctx, op, http.MethodPost, u, b, true, out)
}

// GatingStatus asks for the gating status of a deployment.
func (c *Client) GatingStatus(ctx context.Context, pipelineID, environmentID string, seq int64) (GatingStatus, error) {
	var out GatingStatus
	cloud, err := c.CloudID(ctx)
	if err != nil {
		return out, err
	}
	u := fmt.Sprintf("%s/jira/deployments/0.1/cloud/%s/pipelines/%s/environments/%s/deployments/%d/gating-status",
		strings.TrimRight(c.cfg.APIURL, "/"), url.PathEscape(cloud), url.PathEscape(pipelineID), url.PathEscape(environmentID), seq)
	err = c.do(ctx, OpGatingStatus, http.MethodGet, u, nil, true, &out)
	return out, err
}

// do sends one request and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, op, method, u string, body []byte, auth bool, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	// Let a retrying transport re-send the identical body.
	if body != nil {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if auth {
		tok, err := c.tokens.Token()
		if err != nil {
			return tokenError(err)
		}
		tok.SetAuthHeader(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &Error{Op: op, Err: err, Hint: networkHint(op)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Err: err, Hint: networkHint(op)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return httpError(op, resp.StatusCode, raw)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("unreadable answer: %w", err)}
		}
	}
	return nil
}

func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := httpError(OpToken, re.Response.StatusCode, re.Body)
		return e
	}
	var je *Error
	if errors.As(err, &je) {
		return je
	}
	return &Error{Op: OpToken, Err: err, Hint: networkHint(OpToken)}
}
