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
	"time"

	"github.com/jira-cicd/jira-cicd/internal/netrule"
	"golang.org/x/oauth2"
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
	// HTTPClient sends every request (token, tenant_info, submit, gating),
	// under this package's redirect policy whatever its own CheckRedirect
	// says. Nil: NewHTTPClient(), which retries transient failures.
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
	life    context.Context
	tokens  *notifyingSource
	cloudMu sync.Mutex
	cloudID string
}

// New returns a client for cfg. ctx bounds the client's life: no request
// starts after it has ended. Each request is bounded by it and by the
// context of the call that makes it, so a token renewed during a long gating
// wait has that poll's time, not an earlier one's.
func New(ctx context.Context, cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient()
	}
	own := *hc
	own.CheckRedirect = checkRedirect
	c := &Client{cfg: cfg, http: &own, life: ctx, cloudID: cfg.CloudID}
	c.tokens = &notifyingSource{fetch: c.fetchToken, notify: cfg.OnToken, secret: secretForms(cfg.ClientSecret)}
	return c
}

// tokenRequest is the body Atlassian documents for the 2LO token, and
// every shipping client sends: JSON, with the audience.
type tokenRequest struct {
	Audience     string `json:"audience"`
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// maxTokenLen bounds an access token (Atlassian's are JWTs of 1-2 KB).
const maxTokenLen = 16 << 10

// fetchToken asks the token endpoint for a new token. A token that cannot be
// sent in a header (CR, LF, spaces, control characters), or that is not a
// Bearer token, is final: trying again would give the same.
func (c *Client) fetchToken(ctx context.Context) (*oauth2.Token, error) {
	body, err := json.Marshal(tokenRequest{Audience: Audience, GrantType: "client_credentials",
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret})
	if err != nil {
		return nil, &Error{Op: OpToken, Err: err}
	}
	var out struct {
		AccessToken string      `json:"access_token"`
		TokenType   string      `json:"token_type"`
		ExpiresIn   json.Number `json:"expires_in"`
	}
	u := strings.TrimRight(c.cfg.APIURL, "/") + "/oauth/token"
	if err := c.send(ctx, OpToken, http.MethodPost, u, body, false, http.StatusOK, &out); err != nil {
		return nil, err
	}
	bad := func(what string) error {
		return &Error{Op: OpToken, Status: http.StatusOK, Detail: "the token endpoint answered with " + what, Hint: notJira(OpToken)}
	}
	switch {
	case out.AccessToken == "":
		return nil, bad("no access_token")
	case len(out.AccessToken) > maxTokenLen || strings.IndexFunc(out.AccessToken, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		return nil, bad("an access token that cannot be sent in a header (too long, or with spaces, line breaks or other characters no token has)")
	case out.TokenType != "" && !strings.EqualFold(out.TokenType, "bearer"):
		return nil, bad("a token that is not a Bearer token")
	}
	t := &oauth2.Token{AccessToken: out.AccessToken, TokenType: "Bearer"}
	if secs, err := out.ExpiresIn.Int64(); err == nil && secs > 0 {
		t.Expiry = time.Now().Add(time.Duration(min(secs, 1<<32)) * time.Second)
	}
	return t, nil
}

// notifyingSource keeps the current token (oauth2.ReuseTokenSource decides
// when it has expired), takes a new one with the context of the call that
// needs it, and tells the caller about each new token before it is used.
type notifyingSource struct {
	mu     sync.Mutex // held while a token is taken
	fetch  func(context.Context) (*oauth2.Token, error)
	tok    *oauth2.Token
	notify func(string)

	// For redaction, which runs while a token is taken (its errors), under
	// its own lock.
	formsMu sync.Mutex
	secret  []string   // the client secret's forms
	seen    [][]string // every token's forms
}

type ctxSource struct {
	ctx   context.Context
	fetch func(context.Context) (*oauth2.Token, error)
}

func (s ctxSource) Token() (*oauth2.Token, error) { return s.fetch(s.ctx) }

// Token returns a valid token, taking a new one within ctx if needed.
func (n *notifyingSource) Token(ctx context.Context) (*oauth2.Token, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := oauth2.ReuseTokenSource(n.tok, ctxSource{ctx, n.fetch}).Token()
	if err != nil {
		return nil, err
	}
	if t != n.tok {
		n.tok = t
		n.formsMu.Lock()
		n.seen = append(n.seen, secretForms(t.AccessToken))
		n.formsMu.Unlock()
		if n.notify != nil {
			n.notify(t.AccessToken)
		}
	}
	return t, nil
}

// redact replaces the client secret and every access token in s with ***,
// in each form an answer may echo them (see secretForms).
func (c *Client) redact(s string) string {
	n := c.tokens
	n.formsMu.Lock()
	defer n.formsMu.Unlock()
	s = replaceForms(s, n.secret)
	for _, forms := range n.seen {
		s = replaceForms(s, forms)
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
		return redactError(err, c.redact)
	}
	return nil
}

// ValidCloudID reports whether id is a cloud id as Atlassian gives them (see
// netrule.IsCloudID). Nothing else is put in a URL path.
func ValidCloudID(id string) bool { return netrule.IsCloudID(id) }

// CloudID returns the configured cloud id, or looks it up on the site.
func (c *Client) CloudID(ctx context.Context) (string, error) {
	c.cloudMu.Lock()
	defer c.cloudMu.Unlock()
	if c.cloudID != "" {
		if !ValidCloudID(c.cloudID) {
			return "", &Error{Op: "cloud id check", Detail: "cloud_id is not a UUID",
				Hint: "Set cloud_id to your site's cloud id (a UUID), or leave it empty to look it up from site"}
		}
		return c.cloudID, nil
	}
	u := strings.TrimRight(c.cfg.Site, "/") + "/_edge/tenant_info"
	var out struct {
		CloudID string `json:"cloudId"`
	}
	if err := c.do(ctx, OpTenantInfo, http.MethodGet, u, nil, false, http.StatusOK, &out); err != nil {
		return "", err
	}
	if !ValidCloudID(out.CloudID) {
		what := "without a cloudId"
		if out.CloudID != "" {
			what = "with a cloudId that is not a UUID"
		}
		return "", &Error{Op: OpTenantInfo, Status: http.StatusOK, Detail: "the site answered " + what,
			Hint: "Check site (it must be your Jira Cloud site, such as acme.atlassian.net), or set cloud_id"}
	}
	c.cloudID = out.CloudID
	return c.cloudID, nil
}

// Encoded is a builds or deployments body, encoded once (see Encode): a
// retry re-sends the very same bytes, the same updateSequenceNumber, which
// Jira's ordering makes idempotent.
type Encoded struct {
	op, api string
	body    []byte
	recs    []sentRecord
}

// EncodeBuilds encodes builds for Submit. The encoding is apart from the
// submission so that a run can do it while its token is being taken: its
// first use of encoding/json on these types costs ~130 µs.
func EncodeBuilds(req BuildsRequest) (Encoded, error) {
	recs := make([]sentRecord, len(req.Builds))
	for i, b := range req.Builds {
		recs[i].keys = b.IssueKeys
	}
	return encode(OpSubmitBuilds, "builds", req, recs)
}

// EncodeDeployments encodes deployments for Submit.
func EncodeDeployments(req DeploymentsRequest) (Encoded, error) {
	recs := make([]sentRecord, len(req.Deployments))
	for i, d := range req.Deployments {
		for _, a := range d.Associations {
			switch {
			case a.AssociationType == AssocIssues || a.AssociationType == "issueKeys":
				recs[i].keys = append(recs[i].keys, a.Values...)
			case len(a.Values) > 0:
				recs[i].others = true
			}
		}
	}
	return encode(OpSubmitDeployments, "deployments", req, recs)
}

func encode(op, api string, body any, recs []sentRecord) (Encoded, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Encoded{}, &Error{Op: op, Err: err}
	}
	return Encoded{op: op, api: api, body: b, recs: recs}, nil
}

// SubmitBuilds sends builds and returns Jira's answer.
func (c *Client) SubmitBuilds(ctx context.Context, req BuildsRequest) (Result, error) {
	e, err := EncodeBuilds(req)
	if err != nil {
		return Result{}, err
	}
	return c.Submit(ctx, e)
}

// SubmitDeployments sends deployments and returns Jira's answer.
func (c *Client) SubmitDeployments(ctx context.Context, req DeploymentsRequest) (Result, error) {
	e, err := EncodeDeployments(req)
	if err != nil {
		return Result{}, err
	}
	return c.Submit(ctx, e)
}

// sentRecord is what a submitted record links to: its issue keys, and
// whether it has other associations (services, ...).
type sentRecord struct {
	keys   []string
	others bool
}

// Submit sends an encoded body and returns Jira's answer. Success is a 202
// with the API's answer in it.
func (c *Client) Submit(ctx context.Context, e Encoded) (Result, error) {
	op, api := e.op, e.api
	if op == "" {
		return Result{}, &Error{Op: "submission", Err: errors.New("nothing encoded to submit")}
	}
	if err := c.Prepare(ctx); err != nil {
		return Result{}, err
	}
	u := fmt.Sprintf("%s/jira/%s/0.1/cloud/%s/bulk", strings.TrimRight(c.cfg.APIURL, "/"), api, c.cloudID)
	var raw json.RawMessage
	if err := c.do(ctx, op, http.MethodPost, u, e.body, true, http.StatusAccepted, &raw); err != nil {
		return Result{}, err
	}
	res, err := decodeResult(api, raw, c.redact)
	if err == nil && !isAnswer(api, raw) {
		return Result{}, &Error{Op: op, Status: http.StatusAccepted,
			Detail: "the answer names no accepted or rejected " + api + ", so it is not Jira's",
			Hint:   notJira(op)}
	}
	if err != nil {
		return Result{}, redactError(&Error{Op: op, Status: http.StatusAccepted, Err: err}, c.redact)
	}
	res.AllKeysUnknown = allKeysUnknown(res, e.recs)
	return res, nil
}

// isAnswer reports whether raw is a JSON object with at least one of the
// fields of the API's answer.
func isAnswer(api string, raw []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	var fields []string
	switch api {
	case "builds":
		fields = []string{"acceptedBuilds", "rejectedBuilds", "unknownIssueKeys"}
	case "devinfo":
		fields = []string{"acceptedDevinfoEntities", "failedDevinfoEntities", "unknownIssueKeys"}
	default:
		fields = []string{"acceptedDeployments", "rejectedDeployments", "unknownIssueKeys", "unknownAssociations"}
	}
	return slices.ContainsFunc(fields, func(f string) bool { _, ok := m[f]; return ok })
}

// allKeysUnknown reports whether Jira took no record and every issue key of
// every record is one it says it does not know (in unknownIssueKeys, or
// among the unknown issue associations), with nothing else to link: the
// rejection is about the keys alone. Judged on the keys sent, not on the
// wording of Jira's messages, which no document fixes.
func allKeysUnknown(res Result, recs []sentRecord) bool {
	if res.Accepted > 0 || len(res.Rejected) == 0 || len(recs) == 0 {
		return false
	}
	unknown := map[string]bool{}
	for _, k := range res.UnknownIssueKeys {
		unknown[strings.ToUpper(k)] = true
	}
	for _, a := range res.UnknownAssociations {
		if a.AssociationType == AssocIssues || a.AssociationType == "issueKeys" {
			for _, k := range a.Values {
				unknown[strings.ToUpper(k)] = true
			}
		}
	}
	for _, r := range recs {
		if r.others || len(r.keys) == 0 {
			return false
		}
		for _, k := range r.keys {
			if !unknown[strings.ToUpper(k)] {
				return false
			}
		}
	}
	return true
}

// decodeResult reads Jira's 202 answer to a submission of api ("builds" or
// "deployments"). An empty answer decodes to nothing (submit decides whether
// it is an answer at all); anything but a JSON object is an error. The
// rejections' messages pass through r before they are cut to length.
func decodeResult(api string, raw []byte, r redactor) (Result, error) {
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
		return Result{Accepted: len(out.AcceptedBuilds), Rejected: cleanRejected(out.RejectedBuilds, r),
			UnknownIssueKeys: out.UnknownIssueKeys}, nil
	}
	var out deploymentsResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return Result{}, fmt.Errorf("unreadable answer: %w", err)
	}
	return Result{Accepted: len(out.AcceptedDeployments), Rejected: cleanRejected(out.RejectedDeployments, r),
		UnknownIssueKeys: out.UnknownIssueKeys, UnknownAssociations: out.UnknownAssociations}, nil
}

// cleanRejected makes each rejection's messages one line each, redacted
// before they are cut; a rejection without messages gets one.
func cleanRejected(rs []Rejected, r redactor) []Rejected {
	for i := range rs {
		var errs []ErrorMessage
		for _, m := range rs[i].Errors {
			if msg := clip(oneLine(r.apply(m.Message))); msg != "" {
				errs = append(errs, ErrorMessage{Message: msg, ErrorTraceID: r.apply(m.ErrorTraceID)})
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
		strings.TrimRight(c.cfg.APIURL, "/"), cloud, url.PathEscape(pipelineID), url.PathEscape(environmentID), seq)
	err = c.do(ctx, OpGatingStatus, http.MethodGet, u, nil, true, http.StatusOK, &out)
	return out, err
}

// do sends one request (tried again by the client's transport) and decodes
// its JSON answer into out. Its errors are *Error, with no secret in them.
func (c *Client) do(ctx context.Context, op, method, u string, body []byte, auth bool, want int, out any) error {
	return redactError(c.send(ctx, op, method, u, body, auth, want, out), c.redact)
}

// send sends one request; the answer must have the status want. Nothing is
// sent once the client's life has ended.
func (c *Client) send(ctx context.Context, op, method, u string, body []byte, auth bool, want int, out any) error {
	ctx, cancel := context.WithCancelCause(context.WithValue(withOp(ctx, op), lifeKey{}, c.life))
	defer cancel(nil)
	defer context.AfterFunc(c.life, func() { cancel(c.life.Err()) })()
	if err := alive(ctx); err != nil {
		return transportError(op, err, c.redact)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	// Let the retrying transport re-send the identical body.
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
			return err
		}
		tok.SetAuthHeader(req)
		// The token request took time: check the client again.
		if err := alive(ctx); err != nil {
			return transportError(op, err, c.redact)
		}
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
	switch {
	case resp.StatusCode == want:
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return &Error{Op: op, Status: resp.StatusCode, Detail: fmt.Sprintf("Jira answers this request with %d, so the answer is not Jira's", want),
			Hint: notJira(op)}
	default:
		return httpError(op, resp.StatusCode, raw, c.redact)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("unreadable answer: %w", err)}
		}
	}
	return nil
}

// opKey carries the name of the request (OpToken, ...) to the transport and
// the redirect policy; lifeKey carries the client's life, which the loop
// checks before every try.
type (
	opKey   struct{}
	lifeKey struct{}
)

func withOp(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, opKey{}, op)
}

func opOf(ctx context.Context) string { op, _ := ctx.Value(opKey{}).(string); return op }

// alive is the error of ctx or of the client's life it carries. The life is
// looked at itself: the cancellation context.AfterFunc passes on to ctx runs
// in a goroutine of its own, so ctx alone may not show it yet.
func alive(ctx context.Context) error {
	if life, _ := ctx.Value(lifeKey{}).(context.Context); life != nil && life.Err() != nil {
		return life.Err()
	}
	return ctx.Err()
}
