// Package fakejira is a strict in-process fake of the parts of Jira Software Cloud that jira-cicd talks to over
// OAuth 2.0 2LO: the token endpoint, tenant_info, the builds and deployments bulk endpoints and the deployment
// gating-status endpoint. It is built on net/http/httptest and serves plain HTTP on 127.0.0.1; the server's URL is
// both the Jira site (for /_edge/tenant_info) and the API base URL (for /oauth/token and /jira/...).
//
// Strictness:
//
//   - Token requests are JSON (application/json: {"audience":…,"grant_type":…,"client_id":…,"client_secret":…}, the
//     body Atlassian documents) or form-encoded (application/x-www-form-urlencoded), as the real endpoint takes both;
//     either must carry grant_type=client_credentials, client_id, client_secret and audience=api.atlassian.com. Tests
//     that care which one a client sends look at the recorded request.
//   - API calls need "Authorization: Bearer <token>" with a token this server issued and that has not expired, and
//     the server's cloud ID in the path.
//   - Bulk bodies must be application/json and are validated against the request schemas of Atlassian's OpenAPI
//     document (see ValidateBody). An invalid body gets a 400 and fails the test through t.Errorf, unless the server
//     was created with AllowInvalid. A request to a path the fake does not serve is reported the same way.
//
// Validation (ValidateBody) uses github.com/getkin/kin-openapi on the request schemas of POST /rest/builds/0.1/bulk
// and POST /rest/deployments/0.1/bulk in testdata/spec/jira-software-cloud-swagger.v3.json (loaded once per process).
// kin-openapi enforces type, required, enum, pattern, minLength/maxLength (in UTF-16 units, as Java counts),
// minItems/maxItems, maxProperties, nullability, int64 ranges, anyOf, and the date-time format; the fake adds format
// validators for "uri" and "URL" (absolute URI, no white space). Checked by hand: rules the spec states only in prose
// (at most MaxAssociationValues association values per deployment in total; a deployment needs issueKeys or
// associations; property keys must not contain ':' or start with '_'), that the body is a single JSON object, and,
// unless AllowUnknownFields, that no object has members the spec does not declare. Four in-memory patches make the
// document usable; see doLoadSpec, patchAssociations and patchSchemaTree.
//
// The spec says Jira answers a batch in which only some records are invalid with 202, listing those records as
// rejected; by default the fake answers any invalid body with 400 instead (the test fails anyway), and
// RejectInvalidRecords gives the Jira behaviour.
//
// Faults are injected with scripted responses (Script, WithScript): each request to an endpoint takes the next
// scripted Response for that endpoint, if there is one, and otherwise gets the default behaviour.
package fakejira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of a new Server.
const (
	DefaultClientID      = "test-client-id"
	DefaultClientSecret  = "test-client-secret"
	DefaultCloudID       = "0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6f"
	DefaultTokenLifetime = time.Hour
	// DefaultScope is what the token endpoint reports in "scope". The real value for 2LO credentials is not
	// documented; this is a placeholder.
	DefaultScope = "manage:jira-data-provider"
	// Audience is the audience the token endpoint requires.
	Audience = "api.atlassian.com"
)

// Endpoint names a kind of request the fake serves.
type Endpoint string

const (
	EndpointToken       Endpoint = "token"       // POST /oauth/token
	EndpointTenantInfo  Endpoint = "tenant_info" // GET /_edge/tenant_info
	EndpointBuilds      Endpoint = "builds"      // POST /jira/builds/0.1/cloud/{cloudId}/bulk
	EndpointDeployments Endpoint = "deployments" // POST /jira/deployments/0.1/cloud/{cloudId}/bulk
	EndpointGating      Endpoint = "gating"      // GET /jira/deployments/0.1/cloud/{cloudId}/pipelines/…/gating-status
	EndpointOther       Endpoint = "other"       // anything else (answered 404 or 405, and reported)
)

const (
	patternToken       = "POST /oauth/token"
	patternTenantInfo  = "GET /_edge/tenant_info"
	patternBuilds      = "POST /jira/builds/0.1/cloud/{cloudId}/bulk"
	patternDeployments = "POST /jira/deployments/0.1/cloud/{cloudId}/bulk"
	patternGating      = "GET /jira/deployments/0.1/cloud/{cloudId}/pipelines/{pipelineId}/environments/{environmentId}/deployments/{deploymentSequenceNumber}/gating-status"
)

var endpointByPattern = map[string]Endpoint{
	patternToken:       EndpointToken,
	patternTenantInfo:  EndpointTenantInfo,
	patternBuilds:      EndpointBuilds,
	patternDeployments: EndpointDeployments,
	patternGating:      EndpointGating,
}

// maxBody is the most the fake reads of a request body.
const maxBody = 16 << 20

// Response is a scripted answer for one request.
//
// If Status is 0 and Drop is false, the entry only delays the request (by Delay) and the default behaviour then
// answers it. Otherwise the fake waits Delay, then either drops the connection (Drop) or answers with Status,
// Header and Body. A bulk body is validated (and an invalid one reported) even when a scripted response answers it.
type Response struct {
	Status int
	Header http.Header
	Body   string
	// Delay is how long to wait before answering. The wait ends early, without an answer, when the client
	// gives up (the request context is cancelled) or the server shuts down.
	Delay time.Duration
	// Drop makes the fake hijack the connection and close it without writing anything.
	Drop bool
}

// JSONResponse is a Response with the given status and JSON body.
func JSONResponse(status int, body string) Response {
	return Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
}

// ErrorResponse is a Response with the given status and the spec's ErrorMessages body [{"message": msg}].
func ErrorResponse(status int, msg string) Response {
	b, _ := json.Marshal([]errorMessage{{Message: msg}})
	return JSONResponse(status, string(b))
}

// RetryAfter is a Response with the given status (typically 429 or 503), a Retry-After header of seconds and an
// ErrorMessages body.
func RetryAfter(status, seconds int) Response {
	r := ErrorResponse(status, http.StatusText(status))
	r.Header.Set("Retry-After", strconv.Itoa(seconds))
	return r
}

// Dropped is a Response that closes the connection without answering.
func Dropped() Response { return Response{Drop: true} }

// Delayed is a Response that delays the request by d and then lets the default behaviour answer it.
func Delayed(d time.Duration) Response { return Response{Delay: d} }

// GatingDetail is one entry of a gating-status response's details.
type GatingDetail struct {
	Type      string `json:"type"` // "issue" if empty
	IssueKey  string `json:"issueKey"`
	IssueLink string `json:"issueLink"`
}

// Request is one request the fake received.
type Request struct {
	Endpoint Endpoint
	Method   string
	Path     string // unescaped, r.URL.Path
	RawPath  string // as sent, r.URL.EscapedPath()
	RawQuery string
	Header   http.Header
	Body     []byte
	Time     time.Time
}

func (r Request) clone() Request {
	r.Header = r.Header.Clone()
	r.Body = slices.Clone(r.Body)
	return r
}

// Option configures a Server.
type Option func(*Server)

// WithClientCredentials sets the client ID and secret the token endpoint accepts.
func WithClientCredentials(id, secret string) Option {
	return func(s *Server) { s.ClientID, s.ClientSecret = id, secret }
}

// WithCloudID sets the cloud ID tenant_info reports and the API paths require.
func WithCloudID(id string) Option { return func(s *Server) { s.CloudID = id } }

// WithTokenLifetime sets the lifetime of issued tokens, reported as expires_in (whole seconds) and enforced by the
// API endpoints.
func WithTokenLifetime(d time.Duration) Option { return func(s *Server) { s.TokenLifetime = d } }

// WithAccessToken makes the token endpoint issue this value every time. By default every token is distinct
// ("fake-access-token-1", "fake-access-token-2", …).
func WithAccessToken(token string) Option { return func(s *Server) { s.fixedToken = token } }

// WithScope sets the scope the token endpoint reports.
func WithScope(scope string) Option { return func(s *Server) { s.scope = scope } }

// WithClock replaces time.Now for token expiry and timestamps, so that tests can expire tokens without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// AllowInvalid stops the fake from failing the test when it receives an invalid bulk body or a request for a path
// it does not serve. It still answers such requests as it would otherwise (400, 404 …). For tests that send junk
// on purpose.
func AllowInvalid() Option { return func(s *Server) { s.allowInvalid = true } }

// AllowUnknownFields makes validation accept object members the spec does not declare (JSON Schema's default). By
// default the fake rejects them; see ValidateBody.
func AllowUnknownFields() Option { return func(s *Server) { s.allowUnknownFields = true } }

// RejectInvalidRecords makes the bulk endpoints answer a body whose only problems are inside individual builds or
// deployments with 202, listing those records under rejectedBuilds/rejectedDeployments (as the spec says Jira
// does), instead of 400 for the whole request. Invalid bodies still fail the test unless AllowInvalid is given.
func RejectInvalidRecords() Option { return func(s *Server) { s.perRecord = true } }

// WithUnknownIssueKeys declares issue keys that do not exist in the fake Jira. See Server.SetUnknownIssueKeys.
func WithUnknownIssueKeys(keys ...string) Option {
	return func(s *Server) { s.setUnknownLocked(keys) }
}

// WithRejectAll makes the bulk endpoints reject every record with message. See Server.SetRejectAll.
func WithRejectAll(message string) Option { return func(s *Server) { s.rejectMessage = message } }

// WithScript queues scripted responses for an endpoint. See Server.Script.
func WithScript(ep Endpoint, rs ...Response) Option {
	return func(s *Server) { s.scripts[ep] = append(s.scripts[ep], rs...) }
}

// WithGating sets the sequence of gating statuses ("allowed", "prevented", "awaiting", "invalid", or anything else)
// every submitted deployment goes through: each gating-status request for a deployment returns the next status of
// the sequence, and the last one repeats. The default is "allowed".
func WithGating(statuses ...string) Option {
	return func(s *Server) { s.gatingDefault = slices.Clone(statuses) }
}

// WithGatingDetails sets the details of every gating-status response. By default the details list the
// deployment's issue keys, each linked to URL/browse/KEY.
func WithGatingDetails(details ...GatingDetail) Option {
	return func(s *Server) { s.gatingDetails = slices.Clone(details) }
}

// Server is a running fake Jira.
type Server struct {
	// URL is the base URL of the server (http://127.0.0.1:port), to be used both as the Jira site and the API URL.
	URL string
	// Configuration; set through options, read-only afterwards.
	ClientID      string
	ClientSecret  string
	CloudID       string
	TokenLifetime time.Duration

	t     testing.TB
	ts    *httptest.Server
	mux   *http.ServeMux
	done  chan struct{}
	now   func() time.Time
	scope string

	allowInvalid       bool
	allowUnknownFields bool
	perRecord          bool

	mu            sync.Mutex
	fixedToken    string
	tokens        map[string]time.Time // access token → expiry
	tokensIssued  int
	connections   int // TCP connections accepted
	requests      []Request
	lastBody      map[Endpoint][]byte
	scripts       map[Endpoint][]Response
	unknownKeys   map[string]bool
	rejectMessage string
	deployments   map[deploymentKey]storedDeployment
	gatingDefault []string
	gatingByKey   map[deploymentKey][]string
	gatingCursor  map[deploymentKey]int
	gatingDetails []GatingDetail
	devinfo       *devinfoState // devinfo.go
}

type deploymentKey struct {
	pipelineID, environmentID string
	seq                       int64
}

type storedDeployment struct {
	updateSequenceNumber int64
	issueKeys            []string
}

// New starts a fake Jira and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		ClientID:      DefaultClientID,
		ClientSecret:  DefaultClientSecret,
		CloudID:       DefaultCloudID,
		TokenLifetime: DefaultTokenLifetime,
		t:             t,
		done:          make(chan struct{}),
		now:           time.Now,
		scope:         DefaultScope,
		tokens:        map[string]time.Time{},
		lastBody:      map[Endpoint][]byte{},
		scripts:       map[Endpoint][]Response{},
		unknownKeys:   map[string]bool{},
		deployments:   map[deploymentKey]storedDeployment{},
		gatingDefault: []string{"allowed"},
		gatingByKey:   map[deploymentKey][]string{},
		gatingCursor:  map[deploymentKey]int{},
	}
	for _, o := range opts {
		o(s)
	}
	// Load the spec now, so that a broken spec fails the test at once rather than on the first submission.
	if _, err := loadSpec(); err != nil {
		t.Fatalf("fakejira: %v", err)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(patternToken, s.handleToken)
	s.mux.HandleFunc(patternTenantInfo, s.handleTenantInfo)
	s.mux.HandleFunc(patternBuilds, s.handleBulk)
	s.mux.HandleFunc(patternDeployments, s.handleBulk)
	s.mux.HandleFunc(patternGating, s.handleGating)
	s.registerDevInfo()
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// httptest keeps a hook set here and calls it from its own.
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.connections++
			s.mu.Unlock()
		}
	}
	s.ts.Start()
	s.URL = s.ts.URL
	t.Cleanup(func() {
		close(s.done)
		s.ts.Close()
	})
	return s
}

// Client returns an HTTP client for the server (plain http.Client with its own transport).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// TokenURL is URL + "/oauth/token".
func (s *Server) TokenURL() string { return s.URL + "/oauth/token" }

// Script queues scripted responses for an endpoint; each request to the endpoint consumes one, in order, and when
// the queue is empty the default behaviour resumes.
//
// Note that Go's http.Transport transparently retries an idempotent request (GET) once if a reused keep-alive
// connection is closed before any response byte, so a Dropped response to a GET may be followed at once by a retry.
func (s *Server) Script(ep Endpoint, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[ep] = append(s.scripts[ep], rs...)
}

// Pending returns how many scripted responses for ep have not been used yet.
func (s *Server) Pending(ep Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.scripts[ep])
}

// SetUnknownIssueKeys replaces the set of issue keys the fake Jira does not know. A submitted key in the set is
// reported in unknownIssueKeys; a build or deployment all of whose issue keys are unknown (and, for a deployment,
// that has no other association) is rejected instead of accepted.
func (s *Server) SetUnknownIssueKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setUnknownLocked(keys)
}

func (s *Server) setUnknownLocked(keys []string) {
	s.unknownKeys = map[string]bool{}
	for _, k := range keys {
		s.unknownKeys[k] = true
	}
}

// SetRejectAll makes the bulk endpoints answer 202 with every record rejected with message. An empty message turns
// this off.
func (s *Server) SetRejectAll(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectMessage = message
}

// SetGating sets the sequence of gating statuses of one deployment (see WithGating) and restarts it.
func (s *Server) SetGating(pipelineID, environmentID string, deploymentSequenceNumber int64, statuses ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := deploymentKey{pipelineID, environmentID, deploymentSequenceNumber}
	s.gatingByKey[k] = slices.Clone(statuses)
	delete(s.gatingCursor, k)
}

// ExpireTokens makes every token issued so far invalid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}

// Count returns how many requests for ep were received (scripted or not, valid or not).
func (s *Server) Count(ep Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Endpoint == ep {
			n++
		}
	}
	return n
}

// Connections returns how many TCP connections the server has accepted, so that tests can check that a client
// reuses its connections (keep-alive) instead of opening one per request.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// TokensIssued returns how many access tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// LastBody returns a copy of the body of the last request to ep, or nil.
func (s *Server) LastBody(ep Endpoint) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lastBody[ep])
}

// LastBuilds returns the body of the last builds submission decoded into a map (numbers are float64), or nil if
// there was none or it was not a JSON object.
func (s *Server) LastBuilds() map[string]any { return decodeObject(s.LastBody(EndpointBuilds)) }

// LastDeployments is LastBuilds for deployments.
func (s *Server) LastDeployments() map[string]any {
	return decodeObject(s.LastBody(EndpointDeployments))
}

func decodeObject(b []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// serve logs every request, applies scripted responses and hands over to the mux.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		writeErrors(w, http.StatusRequestEntityTooLarge, "Data is too large.")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	_, pattern := s.mux.Handler(r)
	ep, ok := endpointByPattern[pattern]
	if !ok {
		ep = EndpointOther
	}

	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Endpoint: ep,
		Method:   r.Method,
		Path:     r.URL.Path,
		RawPath:  r.URL.EscapedPath(),
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     slices.Clone(body),
		Time:     s.now(),
	})
	if ep == EndpointBuilds || ep == EndpointDeployments || ep == EndpointDevInfo {
		s.lastBody[ep] = slices.Clone(body)
	}
	var script *Response
	if q := s.scripts[ep]; len(q) > 0 {
		script = &q[0]
		s.scripts[ep] = q[1:]
	}
	s.mu.Unlock()

	if ep == EndpointOther {
		s.report("unexpected request %s %s", r.Method, r.URL.EscapedPath())
		s.mux.ServeHTTP(w, r)
		return
	}
	if script != nil {
		if script.Delay > 0 {
			timer := time.NewTimer(script.Delay)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				timer.Stop()
				return
			case <-s.done:
				timer.Stop()
				return
			}
		}
		if script.Drop || script.Status != 0 {
			if ep == EndpointBuilds || ep == EndpointDeployments || ep == EndpointDevInfo {
				s.checkBody(ep, r, body)
			}
			s.writeScripted(w, script)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) writeScripted(w http.ResponseWriter, rs *Response) {
	if rs.Drop {
		hj, ok := w.(http.Hijacker)
		if !ok {
			s.t.Errorf("fakejira: cannot drop the connection: ResponseWriter is not a Hijacker")
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			s.t.Errorf("fakejira: hijack: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	for k, vs := range rs.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
	if w.Header().Get("Content-Type") == "" {
		if t := strings.TrimSpace(rs.Body); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			w.Header().Set("Content-Type", "application/json")
		}
	}
	w.WriteHeader(rs.Status)
	_, _ = io.WriteString(w, rs.Body)
}

// report fails the test (unless AllowInvalid).
func (s *Server) report(format string, args ...any) {
	if s.allowInvalid {
		return
	}
	s.t.Errorf("fakejira: "+format, args...)
}

// ---- token ----

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var params url.Values
	switch {
	case mt == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "malformed form body: " + err.Error()})
			return
		}
		params = v
	case mt == "application/json":
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "malformed JSON body (an object of strings is expected): " + err.Error()})
			return
		}
		params = url.Values{}
		for k, v := range m {
			params.Set(k, v)
		}
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request",
			fmt.Sprintf("unsupported Content-Type %q; send application/json or application/x-www-form-urlencoded", r.Header.Get("Content-Type"))})
		return
	}
	for k, vs := range params {
		if len(vs) > 1 {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "parameter " + k + " given more than once"})
			return
		}
	}
	switch gt := params.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "missing grant_type"})
		return
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "grant type " + gt + " is not supported"})
		return
	}
	switch aud := params.Get("audience"); aud {
	case Audience:
	case "":
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "missing audience; use audience=" + Audience})
		return
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "unknown audience " + aud})
		return
	}
	if params.Get("client_id") == "" && r.Header.Get("Authorization") != "" {
		writeJSON(w, http.StatusUnauthorized, oauthError{"access_denied",
			"Unauthorized (client credentials must be sent in the request body, not in an Authorization header)"})
		return
	}
	if params.Get("client_id") != s.ClientID || params.Get("client_secret") != s.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, oauthError{"access_denied", "Unauthorized"})
		return
	}

	s.mu.Lock()
	s.tokensIssued++
	tok := s.fixedToken
	if tok == "" {
		tok = fmt.Sprintf("fake-access-token-%d", s.tokensIssued)
	}
	s.tokens[tok] = s.now().Add(s.TokenLifetime)
	s.mu.Unlock()

	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   int64(s.TokenLifetime / time.Second),
		"token_type":   "Bearer",
		"scope":        s.scope,
	})
}

// authorized checks the bearer token and answers 401 if it is missing, unknown or expired.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	ok := false
	if strings.EqualFold(scheme, "Bearer") && tok != "" {
		s.mu.Lock()
		exp, known := s.tokens[tok]
		ok = known && s.now().Before(exp)
		s.mu.Unlock()
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api.atlassian.com"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "Unauthorized"})
	}
	return ok
}

func (s *Server) rightCloud(w http.ResponseWriter, r *http.Request) bool {
	if id := r.PathValue("cloudId"); id != s.CloudID {
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("No Jira site with cloud ID %q", id))
		return false
	}
	return true
}

// ---- tenant_info ----

func (s *Server) handleTenantInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"cloudId": s.CloudID})
}

// ---- bulk ----

type errorMessage struct {
	Message string `json:"message"`
}

type rejected struct {
	Key    map[string]any `json:"key"`
	Errors []errorMessage `json:"errors"`
}

// checkBody validates a bulk request's Content-Type and body, reports problems, and returns them (nil if valid).
func (s *Server) checkBody(ep Endpoint, r *http.Request, body []byte) *ValidationError {
	kind := string(ep)
	var ve *ValidationError
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		ve = &ValidationError{Kind: kind, Problems: []Problem{{
			Message: fmt.Sprintf("Content-Type is %q, want application/json", r.Header.Get("Content-Type"))}}}
	} else {
		ve = validateBody(kind, body, !s.allowUnknownFields)
	}
	if ve != nil {
		s.report("%s %s: %v", r.Method, r.URL.EscapedPath(), ve)
	}
	return ve
}

func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !s.rightCloud(w, r) {
		return
	}
	ep := EndpointBuilds
	if strings.HasPrefix(r.URL.Path, "/jira/deployments/") {
		ep = EndpointDeployments
	}
	body, _ := io.ReadAll(r.Body)
	ve := s.checkBody(ep, r, body)

	// Per-record problems, if allowed to be reported per record; otherwise any problem fails the whole request.
	recordProblems := map[int][]string{}
	if ve != nil {
		whole := !s.perRecord
		for _, p := range ve.Problems {
			i := p.recordIndex(string(ep))
			if i < 0 {
				whole = true
				break
			}
			recordProblems[i] = append(recordProblems[i], p.String())
		}
		if whole {
			writeErrors(w, http.StatusBadRequest, ve.Messages()...)
			return
		}
	}

	doc := decodeDoc(body)
	field := "builds"
	if ep == EndpointDeployments {
		field = "deployments"
	}
	records, _ := doc[field].([]any)

	s.mu.Lock()
	defer s.mu.Unlock()
	accepted := []map[string]any{}
	rejectedRecs := []rejected{}
	unknown := []string{}
	unknownSeen := map[string]bool{}
	var unknownAssoc []map[string]any
	for i, rec := range records {
		m, _ := rec.(map[string]any)
		key := recordKey(ep, m)
		if msgs := recordProblems[i]; len(msgs) > 0 {
			rejectedRecs = append(rejectedRecs, rejected{Key: key, Errors: toErrorMessages(msgs)})
			continue
		}
		if s.rejectMessage != "" {
			rejectedRecs = append(rejectedRecs, rejected{Key: key, Errors: toErrorMessages([]string{s.rejectMessage})})
			continue
		}
		keys, others := issueKeysOf(ep, m)
		var known, unk []string
		for _, k := range keys {
			if s.unknownKeys[k] {
				unk = append(unk, k)
				if !unknownSeen[k] {
					unknownSeen[k] = true
					unknown = append(unknown, k)
				}
			} else {
				known = append(known, k)
			}
		}
		if ep == EndpointDeployments && len(unk) > 0 {
			unknownAssoc = append(unknownAssoc, map[string]any{"associationType": "issueIdOrKeys", "values": unk})
		}
		if len(known) == 0 && !others {
			msg := "None of the issue keys of this build exist in Jira"
			if ep == EndpointDeployments {
				msg = "None of the associations of this deployment exist in Jira"
			}
			rejectedRecs = append(rejectedRecs, rejected{Key: key, Errors: toErrorMessages([]string{msg})})
			continue
		}
		accepted = append(accepted, key)
		if ep == EndpointDeployments {
			s.storeDeploymentLocked(m, key, known)
		}
	}

	if ep == EndpointBuilds {
		writeJSON(w, http.StatusAccepted, map[string]any{
			"acceptedBuilds":   accepted,
			"rejectedBuilds":   rejectedRecs,
			"unknownIssueKeys": unknown,
		})
		return
	}
	resp := map[string]any{
		"acceptedDeployments": accepted,
		"rejectedDeployments": rejectedRecs,
		"unknownIssueKeys":    unknown,
	}
	if len(unknownAssoc) > 0 {
		resp["unknownAssociations"] = unknownAssoc
	}
	writeJSON(w, http.StatusAccepted, resp)
}

func toErrorMessages(msgs []string) []errorMessage {
	out := make([]errorMessage, len(msgs))
	for i, m := range msgs {
		out[i] = errorMessage{Message: m}
	}
	return out
}

// recordKey returns the BuildKey or DeploymentKey of a record, echoing its values (numbers as json.Number).
func recordKey(ep Endpoint, m map[string]any) map[string]any {
	if ep == EndpointBuilds {
		return map[string]any{"pipelineId": m["pipelineId"], "buildNumber": m["buildNumber"]}
	}
	p, _ := m["pipeline"].(map[string]any)
	e, _ := m["environment"].(map[string]any)
	return map[string]any{
		"pipelineId":               p["id"],
		"environmentId":            e["id"],
		"deploymentSequenceNumber": m["deploymentSequenceNumber"],
	}
}

// issueKeysOf returns the issue keys of a record and, for a deployment, whether it has associations of other types.
func issueKeysOf(ep Endpoint, m map[string]any) (keys []string, others bool) {
	addStrings := func(v any) {
		vs, _ := v.([]any)
		for _, x := range vs {
			if k, ok := x.(string); ok {
				keys = append(keys, k)
			}
		}
	}
	addStrings(m["issueKeys"])
	if ep == EndpointDeployments {
		as, _ := m["associations"].([]any)
		for _, a := range as {
			am, _ := a.(map[string]any)
			switch am["associationType"] {
			case "issueKeys", "issueIdOrKeys":
				addStrings(am["values"])
			default:
				others = true
			}
		}
	}
	return keys, others
}

func (s *Server) storeDeploymentLocked(m, key map[string]any, issueKeys []string) {
	pid, _ := key["pipelineId"].(string)
	eid, _ := key["environmentId"].(string)
	seq, err := numberOf(key["deploymentSequenceNumber"])
	if err != nil {
		return
	}
	usn, _ := numberOf(m["updateSequenceNumber"])
	k := deploymentKey{pid, eid, seq}
	if old, ok := s.deployments[k]; ok && usn <= old.updateSequenceNumber {
		return // Jira ignores an update whose updateSequenceNumber is not greater than the stored one
	}
	s.deployments[k] = storedDeployment{updateSequenceNumber: usn, issueKeys: issueKeys}
}

func numberOf(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number: %v", v)
	}
	return n.Int64()
}

// ---- gating ----

func (s *Server) handleGating(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !s.rightCloud(w, r) {
		return
	}
	pid, eid := r.PathValue("pipelineId"), r.PathValue("environmentId")
	seq, err := strconv.ParseInt(r.PathValue("deploymentSequenceNumber"), 10, 64)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "deploymentSequenceNumber must be an integer")
		return
	}
	k := deploymentKey{pid, eid, seq}

	s.mu.Lock()
	dep, ok := s.deployments[k]
	var status string
	details := slices.Clone(s.gatingDetails)
	if ok {
		seqs := s.gatingDefault
		if sq, found := s.gatingByKey[k]; found {
			seqs = sq
		}
		i := s.gatingCursor[k]
		switch {
		case len(seqs) == 0:
			status = "allowed"
		case i < len(seqs):
			status = seqs[i]
		default:
			status = seqs[len(seqs)-1]
		}
		s.gatingCursor[k] = i + 1
	}
	s.mu.Unlock()

	if !ok {
		writeErrors(w, http.StatusNotFound, "No data found for the given deployment ID")
		return
	}
	if details == nil {
		// s.ts.URL, not s.URL: written before the server's goroutines start, so -race sees it ordered.
		for _, key := range dep.issueKeys {
			details = append(details, GatingDetail{IssueKey: key, IssueLink: s.ts.URL + "/browse/" + url.PathEscape(key)})
		}
	}
	for i := range details {
		if details[i].Type == "" {
			details[i].Type = "issue"
		}
	}
	if details == nil {
		details = []GatingDetail{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"deploymentSequenceNumber": seq,
		"pipelineId":               pid,
		"environmentId":            eid,
		"updatedTimestamp":         s.now().UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"gatingStatus":             status,
		"details":                  details,
	})
}

// ---- helpers ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeErrors writes the spec's ErrorMessages body: a top-level array of {"message": …}.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, toErrorMessages(msgs))
}

// decodeDoc decodes a body the validator has accepted into generic JSON,
// numbers kept as written (json.Number), not turned into floats.
func decodeDoc(body []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	_ = dec.Decode(&doc)
	return doc
}
