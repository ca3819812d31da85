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
	"slices"
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
	// Nil: NewHTTPClient(), which retries transient failures.
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
	tokens  *notifyingSource
	cloudMu sync.Mutex
	cloudID string
}

// New returns a client for cfg. ctx bounds the client's life: every token
// request is bounded by it and by the context of the call that needs the
// token, so a token renewed during a long gating wait has that request's
// time, not an earlier one's.
func New(ctx context.Context, cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient()
	}
	cc := &clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		TokenURL:       strings.TrimRight(cfg.APIURL, "/") + "/oauth/token",
		EndpointParams: url.Values{"audience": {Audience}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	c := &Client{cfg: cfg, http: hc, cloudID: cfg.CloudID}
	c.tokens = &notifyingSource{cc: cc, life: ctx, http: hc, notify: cfg.OnToken}
	return c
}

// notifyingSource keeps the current token, takes a new one when it has
// expired, and tells the caller about each new token before it is used.
type notifyingSource struct {
	mu     sync.Mutex
	cc     *clientcredentials.Config
	life   context.Context
	http   *http.Client
	tok    *oauth2.Token
	last   string
	seen   []string // every token taken, for redaction
	notify func(string)
}

// Token returns a valid token; a token request is bounded by ctx and by
// the client's life.
func (n *notifyingSource) Token(ctx context.Context) (*oauth2.Token, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tok.Valid() {
		return n.tok, nil
	}
	// x/oauth2 sends the request through n.http, so it is retried like the
	// others; the op names it in the transport's log lines.
	tctx, cancel := context.WithCancel(withOp(context.WithValue(ctx, oauth2.HTTPClient, n.http), OpToken))
	defer cancel()
	defer context.AfterFunc(n.life, cancel)()
	t, err := n.cc.Token(tctx)
	if err != nil {
		return nil, err
	}
	n.tok = t
	if t.AccessToken != n.last {
		n.last = t.AccessToken
		n.seen = append(n.seen, t.AccessToken)
		if n.notify != nil {
			n.notify(t.AccessToken)
		}
	}
	return t, nil
}

func (n *notifyingSource) tokens() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.seen)
}

// redact replaces the client secret and every access token in s with ***.
func (c *Client) redact(s string) string {
	for _, secret := range append(c.tokens.tokens(), c.cfg.ClientSecret) {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
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
		tokErr = c.token(ctx)
	}()
	_, cloudErr = c.CloudID(ctx)
	wg.Wait()
	if tokErr != nil {
		return tokErr
	}
	// Again, now that the token (taken meanwhile) is known.
	return redactError(cloudErr, c.redact)
}

func (c *Client) token(ctx context.Context) error {
	if _, err := c.tokens.Token(ctx); err != nil {
		return redactError(tokenError(err, c.redact), c.redact)
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
	return c.submit(ctx, OpSubmitBuilds, "builds", req)
}

// SubmitDeployments sends deployments and returns Jira's answer.
func (c *Client) SubmitDeployments(ctx context.Context, req DeploymentsRequest) (Result, error) {
	return c.submit(ctx, OpSubmitDeployments, "deployments", req)
}

// submit sends one body. The body is encoded once: a retry re-sends the
// very same bytes (the same updateSequenceNumber), which Jira's ordering
// makes idempotent.
func (c *Client) submit(ctx context.Context, op, api string, body any) (Result, error) {
	if err := c.Prepare(ctx); err != nil {
		return Result{}, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Result{}, &Error{Op: op, Err: err}
	}
	u := fmt.Sprintf("%s/jira/%s/0.1/cloud/%s/bulk", strings.TrimRight(c.cfg.APIURL, "/"), api, url.PathEscape(c.cloudID))
	var raw json.RawMessage
	if err := c.do(ctx, op, http.MethodPost, u, b, true, &raw); err != nil {
		return Result{}, err
	}
	// Redacted before the messages are cut to length, and after.
	res, err := decodeResult(api, redactor(c.redact).bytes(raw))
	if err != nil {
		return Result{}, redactError(&Error{Op: op, Status: http.StatusAccepted, Err: err}, c.redact)
	}
	for i := range res.Rejected {
		for j := range res.Rejected[i].Errors {
			res.Rejected[i].Errors[j].Message = c.redact(res.Rejected[i].Errors[j].Message)
		}
	}
	return res, nil
}

// decodeResult reads Jira's 202 answer to a submission of api ("builds" or
// "deployments"). An empty answer is an accepted submission (Jira works
// asynchronously); anything but a JSON object is an error.
func decodeResult(api string, raw []byte) (Result, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Result{}, nil
	}
	if raw[0] != '{' {
		return Result{}, errors.New("unreadable answer: not a JSON object")
	}
	if api == "builds" {
		var out buildsResponse
		if err := json.Unmarshal(raw, &out); err != nil {
			return Result{}, fmt.Errorf("unreadable answer: %w", err)
		}
		return Result{Accepted: len(out.AcceptedBuilds), Rejected: cleanRejected(out.RejectedBuilds),
			UnknownIssueKeys: out.UnknownIssueKeys}, nil
	}
	var out deploymentsResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return Result{}, fmt.Errorf("unreadable answer: %w", err)
	}
	return Result{Accepted: len(out.AcceptedDeployments), Rejected: cleanRejected(out.RejectedDeployments),
		UnknownIssueKeys: out.UnknownIssueKeys, UnknownAssociations: out.UnknownAssociations}, nil
}

// cleanRejected makes each rejection's messages one line each; a rejection
// without messages gets one.
func cleanRejected(rs []Rejected) []Rejected {
	for i := range rs {
		var errs []ErrorMessage
		for _, m := range rs[i].Errors {
			if msg := clip(oneLine(m.Message)); msg != "" {
				errs = append(errs, ErrorMessage{Message: msg, ErrorTraceID: m.ErrorTraceID})
			}
		}
		if len(errs) == 0 {
			errs = []ErrorMessage{{Message: "rejected without a reason"}}
		}
		rs[i].Errors = errs
	}
	return rs
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

// do sends one request (retried by the client's transport) and decodes a 2xx
// JSON answer into out. Its errors are *Error, with no secret in them.
func (c *Client) do(ctx context.Context, op, method, u string, body []byte, auth bool, out any) error {
	return redactError(c.send(withOp(ctx, op), op, method, u, body, auth, out), c.redact)
}

func (c *Client) send(ctx context.Context, op, method, u string, body []byte, auth bool, out any) error {
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
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return tokenError(err, c.redact)
		}
		tok.SetAuthHeader(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(op, err, c.redact)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		e := transportError(op, err, c.redact)
		e.Status = resp.StatusCode
		return e
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return httpError(op, resp.StatusCode, redactor(c.redact).bytes(raw))
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("unreadable answer: %w", err)}
		}
	}
	return nil
}

// tokenError turns x/oauth2's errors into an *Error: the endpoint's answer
// (a RetrieveError, whose body is parsed, never printed whole), or what the
// transport gave up on.
func tokenError(err error, r redactor) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return httpError(OpToken, re.Response.StatusCode, r.bytes(re.Body))
	}
	var je *Error
	if errors.As(err, &je) {
		return je
	}
	return transportError(OpToken, err, r)
}
