package fakejira_test

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
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// ---- bodies written by hand from the spec ----

func validBuild() map[string]any {
	return map[string]any{
		"schemaVersion":        "1.0",
		"pipelineId":           "acme/widgets:build.yml",
		"buildNumber":          16,
		"updateSequenceNumber": 1523494301448,
		"displayName":          "widgets #16",
		"url":                  "https://ci.example.com/acme/widgets/runs/16",
		"state":                "successful",
		"lastUpdated":          "2018-01-20T23:27:25.000Z",
		"issueKeys":            []any{"ABC-123", "XYZ-9"},
		"references": []any{map[string]any{
			"commit": map[string]any{"id": "08cd9c26b2b8d7cf6e6af6b49da8895d065c259f", "repositoryUri": "https://github.com/acme/widgets"},
			"ref":    map[string]any{"name": "feature/ABC-123-thing", "uri": "https://github.com/acme/widgets/tree/feature/ABC-123-thing"},
		}},
	}
}

func validDeployment() map[string]any {
	return map[string]any{
		"deploymentSequenceNumber": 100,
		"updateSequenceNumber":     1,
		"associations":             []any{map[string]any{"associationType": "issueIdOrKeys", "values": []any{"ABC-123", "XYZ-9"}}},
		"displayName":              "Deploy widgets #100",
		"url":                      "https://ci.example.com/acme/widgets/runs/100",
		"description":              "Deploy to production",
		"lastUpdated":              "2024-05-01T10:11:12Z",
		"label":                    "v1.2.3",
		"state":                    "in_progress",
		"pipeline":                 map[string]any{"id": "acme/widgets deploy", "displayName": "widgets deploy", "url": "https://ci.example.com/acme/widgets"},
		"environment":              map[string]any{"id": "prod/eu-1", "displayName": "Production EU", "type": "production"},
	}
}

func buildsBody(builds ...map[string]any) []byte {
	list := make([]any, len(builds))
	for i, b := range builds {
		list[i] = b
	}
	return mustJSON(map[string]any{"builds": list, "providerMetadata": map[string]any{"product": "jira-cicd test"}})
}

func deploymentsBody(deps ...map[string]any) []byte {
	list := make([]any, len(deps))
	for i, d := range deps {
		list[i] = d
	}
	return mustJSON(map[string]any{"deployments": list})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func keys(prefix string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i+1)
	}
	return out
}

// ---- a testing.TB that records Errorf instead of failing ----

type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// ---- client helpers ----

func tokenConfig(srv *fakejira.Server) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:       srv.ClientID,
		ClientSecret:   srv.ClientSecret,
		TokenURL:       srv.TokenURL(),
		EndpointParams: url.Values{"audience": {fakejira.Audience}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
}

func token(t *testing.T, srv *fakejira.Server) string {
	t.Helper()
	tok, err := tokenConfig(srv).Token(context.Background())
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return tok.AccessToken
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, u, tok, contentType string, body []byte) result {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, b}
}

func bulkURL(srv *fakejira.Server, kind string) string {
	return srv.URL + "/jira/" + kind + "/0.1/cloud/" + srv.CloudID + "/bulk"
}

func postBulk(t *testing.T, srv *fakejira.Server, kind, tok string, body []byte) result {
	t.Helper()
	return do(t, http.MethodPost, bulkURL(srv, kind), tok, "application/json", body)
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return m
}

func decodeErrors(t *testing.T, b []byte) []string {
	t.Helper()
	var es []struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &es); err != nil || len(es) == 0 {
		t.Fatalf("want an ErrorMessages array, got %s (%v)", b, err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Message
	}
	return out
}

func gatingURL(srv *fakejira.Server, pipeline, env string, n int64) string {
	return fmt.Sprintf("%s/jira/deployments/0.1/cloud/%s/pipelines/%s/environments/%s/deployments/%d/gating-status",
		srv.URL, srv.CloudID, url.PathEscape(pipeline), url.PathEscape(env), n)
}

// ---- validation ----

func TestValidBodies(t *testing.T) {
	if err := fakejira.ValidateBody("builds", buildsBody(validBuild())); err != nil {
		t.Errorf("valid build: %v", err)
	}
	if err := fakejira.ValidateBody("deployments", deploymentsBody(validDeployment())); err != nil {
		t.Errorf("valid deployment: %v", err)
	}

	// Minimal: only the required fields.
	b := validBuild()
	delete(b, "schemaVersion")
	delete(b, "references")
	if err := fakejira.ValidateBody("builds", mustJSON(map[string]any{"builds": []any{b}})); err != nil {
		t.Errorf("minimal build: %v", err)
	}
	d := validDeployment()
	delete(d, "label")
	if err := fakejira.ValidateBody("deployments", deploymentsBody(d)); err != nil {
		t.Errorf("minimal deployment: %v", err)
	}

	// Variants that must stay valid.
	variants := map[string]func(d map[string]any){
		"deprecated issueKeys instead of associations": func(d map[string]any) {
			delete(d, "associations")
			d["issueKeys"] = []any{"ABC-1"}
		},
		"numeric issue id": func(d map[string]any) {
			d["associations"] = []any{map[string]any{"associationType": "issueIdOrKeys", "values": []any{"10042"}}}
		},
		// Needs patch 2 (the contradictory oneOf removed).
		"commit and repository associations": func(d map[string]any) {
			d["associations"] = []any{
				map[string]any{"associationType": "issueKeys", "values": []any{"ABC-1"}},
				map[string]any{"associationType": "commit", "values": []any{map[string]any{"commitHash": "abc", "repositoryId": "r1"}}},
				map[string]any{"associationType": "repository", "values": []any{map[string]any{"repositoryId": "r1"}}},
			}
		},
		"exactly 500 association values": func(d map[string]any) {
			d["associations"] = []any{
				map[string]any{"associationType": "issueIdOrKeys", "values": keys("ABC", 300)},
				map[string]any{"associationType": "serviceIdOrKeys", "values": keys("svc", 200)},
			}
		},
		"gating command and duration": func(d map[string]any) {
			d["commands"] = []any{map[string]any{"command": "initiate_deployment_gating"}}
			d["duration"] = 42
			d["schemaVersion"] = "1.0"
		},
		"display name of 255 characters": func(d map[string]any) { d["displayName"] = strings.Repeat("é", 255) },
	}
	for name, mutate := range variants {
		d := validDeployment()
		mutate(d)
		if err := fakejira.ValidateBody("deployments", deploymentsBody(d)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	withProps := mustJSON(map[string]any{"builds": []any{validBuild()}, "properties": map[string]any{"accountId": "a-1"}})
	if err := fakejira.ValidateBody("builds", withProps); err != nil {
		t.Errorf("build with properties: %v", err)
	}
}

func TestInvalidBodies(t *testing.T) {
	type tc struct {
		name string
		kind string
		body []byte
		want string // substring of the error
	}
	build := func(mut func(b map[string]any)) []byte {
		b := validBuild()
		mut(b)
		return buildsBody(b)
	}
	dep := func(mut func(d map[string]any)) []byte {
		d := validDeployment()
		mut(d)
		return deploymentsBody(d)
	}
	many := make([]map[string]any, 101)
	for i := range many {
		many[i] = validBuild()
		many[i]["buildNumber"] = i + 1
	}
	cases := []tc{
		{"bad issue key pattern", "builds", build(func(b map[string]any) { b["issueKeys"] = []any{"ABC-123", "not a key"} }), "/builds/0/issueKeys/1"},
		{"lower-case-free junk key", "builds", build(func(b map[string]any) { b["issueKeys"] = []any{"ABC_123"} }), "regular expression"},
		{"101 issue keys", "builds", build(func(b map[string]any) { b["issueKeys"] = keys("ABC", 101) }), "/builds/0/issueKeys"},
		{"no issue keys", "builds", build(func(b map[string]any) { b["issueKeys"] = []any{} }), "/builds/0/issueKeys"},
		{"missing displayName", "builds", build(func(b map[string]any) { delete(b, "displayName") }), "displayName"},
		{"state failure", "builds", build(func(b map[string]any) { b["state"] = "failure" }), "/builds/0/state"},
		{"displayName 256 chars", "builds", build(func(b map[string]any) { b["displayName"] = strings.Repeat("x", 256) }), "maximum string length is 255"},
		{"url not a URL", "builds", build(func(b map[string]any) { b["url"] = "ci/run/16" }), "/builds/0/url"},
		{"url with space", "builds", build(func(b map[string]any) { b["url"] = "https://ci.example.com/a b" }), "/builds/0/url"},
		{"url too long", "builds", build(func(b map[string]any) { b["url"] = "https://x/" + strings.Repeat("a", 1991) }), "maximum string length is 2000"},
		{"lastUpdated not date-time", "builds", build(func(b map[string]any) { b["lastUpdated"] = "2018-01-20 23:27:25" }), "/builds/0/lastUpdated"},
		{"lastUpdated impossible date", "builds", build(func(b map[string]any) { b["lastUpdated"] = "2018-02-30T00:00:00Z" }), "/builds/0/lastUpdated"},
		{"buildNumber as string", "builds", build(func(b map[string]any) { b["buildNumber"] = "16" }), "/builds/0/buildNumber"},
		{"buildNumber fractional", "builds", build(func(b map[string]any) { b["buildNumber"] = 1.5 }), "/builds/0/buildNumber"},
		{"label null", "builds", build(func(b map[string]any) { b["label"] = nil }), "/builds/0/label"},
		{"schemaVersion 2.0", "builds", build(func(b map[string]any) { b["schemaVersion"] = "2.0" }), "/builds/0/schemaVersion"},
		{"six references", "builds", build(func(b map[string]any) {
			r := validBuild()["references"].([]any)[0]
			b["references"] = []any{r, r, r, r, r, r}
		}), "/builds/0/references"},
		{"commit reference without repositoryUri", "builds", build(func(b map[string]any) {
			b["references"] = []any{map[string]any{"commit": map[string]any{"id": "abc"}}}
		}), "repositoryUri"},
		{"testInfo incomplete", "builds", build(func(b map[string]any) { b["testInfo"] = map[string]any{"totalNumber": 3} }), "/builds/0/testInfo"},
		{"associations on a build (unknown field)", "builds", build(func(b map[string]any) { b["associations"] = []any{} }), "/builds/0/associations: unknown field"},
		{"misspelt field", "builds", build(func(b map[string]any) { b["lable"] = "x" }), "/builds/0/lable: unknown field"},
		{"101 builds", "builds", buildsBody(many...), "/builds"},
		{"no builds", "builds", []byte(`{"builds":[]}`), "/builds"},
		{"missing builds", "builds", []byte(`{}`), "builds"},
		{"build is a string (patch 3)", "builds", []byte(`{"builds":["ABC-1"]}`), "/builds/0"},
		{"top level array", "builds", []byte(`[{"builds":[]}]`), "JSON object"},
		{"not JSON", "builds", []byte(`{"builds":`), "not valid JSON"},
		{"trailing data", "builds", append(buildsBody(validBuild()), []byte(`{}`)...), "after the JSON value"},
		{"property key with colon", "builds", mustJSON(map[string]any{"builds": []any{validBuild()}, "properties": map[string]any{"a:b": "x"}}), "/properties/a:b"},
		{"property key with underscore", "builds", mustJSON(map[string]any{"builds": []any{validBuild()}, "properties": map[string]any{"_a": "x"}}), "/properties/_a"},
		{"six properties", "builds", mustJSON(map[string]any{"builds": []any{validBuild()}, "properties": map[string]any{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}}), "/properties"},

		{"deployment missing description", "deployments", dep(func(d map[string]any) { delete(d, "description") }), "description"},
		{"deployment state failure", "deployments", dep(func(d map[string]any) { d["state"] = "failure" }), "/deployments/0/state"},
		{"deployment displayName 256", "deployments", dep(func(d map[string]any) { d["displayName"] = strings.Repeat("x", 256) }), "/deployments/0/displayName"},
		{"environment type prod", "deployments", dep(func(d map[string]any) { d["environment"].(map[string]any)["type"] = "prod" }), "/deployments/0/environment/type"},
		{"pipeline without url", "deployments", dep(func(d map[string]any) { delete(d["pipeline"].(map[string]any), "url") }), "url"},
		{"pipeline url not a URI", "deployments", dep(func(d map[string]any) { d["pipeline"].(map[string]any)["url"] = "not a uri" }), "/deployments/0/pipeline/url"},
		{"neither issueKeys nor associations", "deployments", dep(func(d map[string]any) { delete(d, "associations") }), "must specify one of issueKeys or associations"},
		{"501 association values in total", "deployments", dep(func(d map[string]any) {
			d["associations"] = []any{
				map[string]any{"associationType": "issueIdOrKeys", "values": keys("ABC", 300)},
				map[string]any{"associationType": "serviceIdOrKeys", "values": keys("svc", 201)},
			}
		}), "501 association values"},
		{"501 values in one association", "deployments", dep(func(d map[string]any) {
			d["associations"] = []any{map[string]any{"associationType": "issueIdOrKeys", "values": keys("ABC", 501)}}
		}), "/deployments/0/associations"},
		{"four associations", "deployments", dep(func(d map[string]any) {
			a := map[string]any{"associationType": "issueIdOrKeys", "values": []any{"ABC-1"}}
			d["associations"] = []any{a, a, a, a}
		}), "/deployments/0/associations"},
		// Needs patch 4 (pattern anchored): unanchored, any string with a digit would match.
		{"association value merely containing a key", "deployments", dep(func(d map[string]any) {
			d["associations"] = []any{map[string]any{"associationType": "issueIdOrKeys", "values": []any{"see ABC-1 please"}}}
		}), "/deployments/0/associations/0/values/0: string doesn't match the regular expression"},
		{"unknown association type", "deployments", dep(func(d map[string]any) {
			d["associations"] = []any{map[string]any{"associationType": "issues", "values": []any{"ABC-1"}}}
		}), "/deployments/0/associations/0"},
		{"deprecated issueKeys bad", "deployments", dep(func(d map[string]any) { d["issueKeys"] = []any{"abc"} }), "/deployments/0/issueKeys/0"},
		{"lastUpdated missing zone", "deployments", dep(func(d map[string]any) { d["lastUpdated"] = "2024-05-01T10:11:12" }), "/deployments/0/lastUpdated"},
		{"unknown environment field", "deployments", dep(func(d map[string]any) { d["environment"].(map[string]any)["name"] = "x" }), "/deployments/0/environment/name: unknown field"},
		{"build body sent as deployments", "deployments", buildsBody(validBuild()), "deployments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := fakejira.ValidateBody(c.kind, c.body)
			if err == nil {
				t.Fatalf("accepted an invalid body")
			}
			var ve *fakejira.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, want *ValidationError: %v", err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if len(err.Error()) > 2000 && c.name != "101 builds" {
				t.Errorf("error message is %d bytes long; schema dumps leaked into it?", len(err.Error()))
			}
		})
	}
	if err := fakejira.ValidateBody("issues", []byte(`{}`)); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestInvalidBodyRejectedAndReported(t *testing.T) {
	rec := &recorder{TB: t}
	srv := fakejira.New(rec)
	tok := token(t, srv)
	b := validBuild()
	b["state"] = "failure"
	res := postBulk(t, srv, "builds", tok, buildsBody(b))
	if res.status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", res.status, res.body)
	}
	msgs := decodeErrors(t, res.body)
	if !strings.Contains(msgs[0], "/builds/0/state") {
		t.Errorf("messages %q", msgs)
	}
	if errs := rec.errors(); len(errs) != 1 || !strings.Contains(errs[0], "/builds/0/state") {
		t.Errorf("reported %q, want one error about /builds/0/state", errs)
	}

	// Wrong Content-Type is reported too.
	res = do(t, http.MethodPost, bulkURL(srv, "builds"), tok, "text/plain", buildsBody(validBuild()))
	if res.status != http.StatusBadRequest {
		t.Errorf("text/plain: status %d", res.status)
	}
	if errs := rec.errors(); len(errs) != 2 {
		t.Errorf("reported %q, want 2 errors", errs)
	}

	// A scripted answer does not hide an invalid body.
	srv.Script(fakejira.EndpointDeployments, fakejira.ErrorResponse(http.StatusServiceUnavailable, "maintenance"))
	d := validDeployment()
	delete(d, "pipeline")
	if res := postBulk(t, srv, "deployments", tok, deploymentsBody(d)); res.status != http.StatusServiceUnavailable {
		t.Errorf("scripted: status %d", res.status)
	}
	if errs := rec.errors(); len(errs) != 3 || !strings.Contains(errs[2], "pipeline") {
		t.Errorf("reported %q, want a third error about pipeline", errs)
	}

	// An unexpected path is reported.
	do(t, http.MethodGet, srv.URL+"/rest/api/3/myself", tok, "", nil)
	if errs := rec.errors(); len(errs) != 4 || !strings.Contains(errs[3], "/rest/api/3/myself") {
		t.Errorf("reported %q, want a fourth error about the path", errs)
	}
	if n := srv.Count(fakejira.EndpointOther); n != 1 {
		t.Errorf("Count(other) = %d", n)
	}
}

func TestAllowInvalid(t *testing.T) {
	rec := &recorder{TB: t}
	srv := fakejira.New(rec, fakejira.AllowInvalid())
	tok := token(t, srv)
	res := postBulk(t, srv, "builds", tok, []byte(`{"builds":[{"junk":true}]}`))
	if res.status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", res.status)
	}
	decodeErrors(t, res.body)
	if errs := rec.errors(); len(errs) != 0 {
		t.Errorf("reported %q despite AllowInvalid", errs)
	}
}

func TestAllowUnknownFields(t *testing.T) {
	srv := fakejira.New(t, fakejira.AllowUnknownFields())
	tok := token(t, srv)
	b := validBuild()
	b["preventTransitions"] = false
	if res := postBulk(t, srv, "builds", tok, buildsBody(b)); res.status != http.StatusAccepted {
		t.Errorf("status %d: %s", res.status, res.body)
	}
}

func TestRejectInvalidRecords(t *testing.T) {
	srv := fakejira.New(t, fakejira.RejectInvalidRecords(), fakejira.AllowInvalid())
	tok := token(t, srv)
	good, bad := validBuild(), validBuild()
	bad["buildNumber"] = 17
	bad["state"] = "failure"
	res := postBulk(t, srv, "builds", tok, buildsBody(good, bad))
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	m := decode(t, res.body)
	if acc := m["acceptedBuilds"].([]any); len(acc) != 1 || acc[0].(map[string]any)["buildNumber"] != 16.0 {
		t.Errorf("acceptedBuilds %v", acc)
	}
	rej := m["rejectedBuilds"].([]any)
	if len(rej) != 1 {
		t.Fatalf("rejectedBuilds %v", rej)
	}
	r := rej[0].(map[string]any)
	if r["key"].(map[string]any)["buildNumber"] != 17.0 || !strings.Contains(fmt.Sprint(r["errors"]), "state") {
		t.Errorf("rejected %v", r)
	}
	// A problem outside the records still fails the whole request.
	res = postBulk(t, srv, "builds", tok, mustJSON(map[string]any{"builds": []any{good}, "properties": map[string]any{"_x": "y"}}))
	if res.status != http.StatusBadRequest {
		t.Errorf("top-level problem: status %d", res.status)
	}
}

// ---- happy path through a real OAuth client ----

func TestSubmitBuildsAndDeployments(t *testing.T) {
	srv := fakejira.New(t)
	ctx := context.Background()
	client := oauth2.NewClient(ctx, tokenConfig(srv).TokenSource(ctx))

	// tenant_info on the "site" gives the cloud ID.
	resp, err := http.Get(srv.URL + "/_edge/tenant_info")
	if err != nil {
		t.Fatal(err)
	}
	var ti struct {
		CloudID string `json:"cloudId"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ti); err != nil || ti.CloudID != fakejira.DefaultCloudID {
		t.Fatalf("tenant_info: %+v %v", ti, err)
	}
	resp.Body.Close()

	post := func(kind string, body []byte) map[string]any {
		resp, err := client.Post(srv.URL+"/jira/"+kind+"/0.1/cloud/"+ti.CloudID+"/bulk", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: status %d: %s", kind, resp.StatusCode, b)
		}
		return decode(t, b)
	}
	m := post("builds", buildsBody(validBuild()))
	want := `{"acceptedBuilds":[{"buildNumber":16,"pipelineId":"acme/widgets:build.yml"}],"rejectedBuilds":[],"unknownIssueKeys":[]}`
	if got := string(mustJSON(m)); got != want {
		t.Errorf("builds response\n got %s\nwant %s", got, want)
	}
	m = post("deployments", deploymentsBody(validDeployment()))
	want = `{"acceptedDeployments":[{"deploymentSequenceNumber":100,"environmentId":"prod/eu-1","pipelineId":"acme/widgets deploy"}],"rejectedDeployments":[],"unknownIssueKeys":[]}`
	if got := string(mustJSON(m)); got != want {
		t.Errorf("deployments response\n got %s\nwant %s", got, want)
	}

	if n := srv.TokensIssued(); n != 1 {
		t.Errorf("TokensIssued = %d, want 1 (token reused)", n)
	}
	for ep, n := range map[fakejira.Endpoint]int{fakejira.EndpointToken: 1, fakejira.EndpointTenantInfo: 1, fakejira.EndpointBuilds: 1, fakejira.EndpointDeployments: 1, fakejira.EndpointGating: 0} {
		if got := srv.Count(ep); got != n {
			t.Errorf("Count(%s) = %d, want %d", ep, got, n)
		}
	}
	lb := srv.LastBuilds()
	if lb["builds"].([]any)[0].(map[string]any)["buildNumber"] != 16.0 {
		t.Errorf("LastBuilds = %v", lb)
	}
	ld := srv.LastDeployments()
	if ld["deployments"].([]any)[0].(map[string]any)["deploymentSequenceNumber"] != 100.0 {
		t.Errorf("LastDeployments = %v", ld)
	}

	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	r := reqs[2]
	if r.Endpoint != fakejira.EndpointBuilds || r.Method != "POST" || r.Path != "/jira/builds/0.1/cloud/"+ti.CloudID+"/bulk" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || !bytes.Equal(r.Body, buildsBody(validBuild())) || r.Time.IsZero() {
		t.Errorf("logged request %+v", r)
	}
	// Requests returns copies.
	reqs[2].Body[0] = 'X'
	reqs[2].Header.Set("Authorization", "changed")
	if again := srv.Requests()[2]; again.Body[0] != '{' || again.Header.Get("Authorization") == "changed" {
		t.Error("Requests does not return copies")
	}
}

// ---- token endpoint ----

func TestTokenEndpoint(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithClientCredentials("id-1", "secret-1"), fakejira.WithTokenLifetime(15*time.Minute),
		fakejira.WithAccessToken("tok-abc"))
	form := func(kv ...string) []byte {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return []byte(v.Encode())
	}
	const formCT = "application/x-www-form-urlencoded"
	good := []string{"grant_type", "client_credentials", "client_id", "id-1", "client_secret", "secret-1", "audience", "api.atlassian.com"}
	cases := []struct {
		name      string
		ct        string
		body      []byte
		status    int
		wantError string
	}{
		{"json body", "application/json", mustJSON(map[string]string{"grant_type": "client_credentials", "client_id": "id-1", "client_secret": "secret-1", "audience": "api.atlassian.com"}), 200, ""},
		{"json without audience", "application/json", mustJSON(map[string]string{"grant_type": "client_credentials", "client_id": "id-1", "client_secret": "secret-1"}), 400, "invalid_request"},
		{"json wrong secret", "application/json", mustJSON(map[string]string{"grant_type": "client_credentials", "client_id": "id-1", "client_secret": "nope", "audience": "api.atlassian.com"}), 401, "access_denied"},
		{"json not strings", "application/json", []byte(`{"grant_type":"client_credentials","client_id":1}`), 400, "invalid_request"},
		{"text body", "text/plain", form(good...), 400, "invalid_request"},
		{"no content type", "", form(good...), 400, "invalid_request"},
		{"missing audience", formCT, form(good[:6]...), 400, "invalid_request"},
		{"wrong audience", formCT, form("grant_type", "client_credentials", "client_id", "id-1", "client_secret", "secret-1", "audience", "auth.atlassian.com"), 400, "invalid_request"},
		{"wrong grant", formCT, form("grant_type", "password", "client_id", "id-1", "client_secret", "secret-1", "audience", "api.atlassian.com"), 400, "unsupported_grant_type"},
		{"missing grant", formCT, form(good[2:]...), 400, "invalid_request"},
		{"wrong secret", formCT, form("grant_type", "client_credentials", "client_id", "id-1", "client_secret", "nope", "audience", "api.atlassian.com"), 401, "access_denied"},
		{"wrong id", formCT, form("grant_type", "client_credentials", "client_id", "id-2", "client_secret", "secret-1", "audience", "api.atlassian.com"), 401, "access_denied"},
		{"ok", formCT + "; charset=utf-8", form(good...), 200, ""},
	}
	for _, c := range cases {
		res := do(t, http.MethodPost, srv.TokenURL(), "", c.ct, c.body)
		if res.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, res.status, c.status, res.body)
			continue
		}
		m := decode(t, res.body)
		if c.wantError != "" {
			if m["error"] != c.wantError || m["error_description"] == "" {
				t.Errorf("%s: body %s, want error %s", c.name, res.body, c.wantError)
			}
			if c.status == 401 && m["error_description"] != "Unauthorized" {
				t.Errorf("%s: body %s", c.name, res.body)
			}
			continue
		}
		if m["access_token"] != "tok-abc" || m["expires_in"] != 900.0 || m["token_type"] != "Bearer" || m["scope"] == "" {
			t.Errorf("%s: body %s", c.name, res.body)
		}
	}
	if n := srv.TokensIssued(); n != 2 {
		t.Errorf("TokensIssued = %d, want 2", n)
	}

	// Credentials in a Basic header (AuthStyleInHeader) are refused.
	cfg := tokenConfig(srv)
	cfg.AuthStyle = oauth2.AuthStyleInHeader
	if _, err := cfg.Token(context.Background()); err == nil {
		t.Error("token with credentials in the header was issued")
	}
	// Without audience the x/oauth2 client gets an error.
	cfg = tokenConfig(srv)
	cfg.EndpointParams = nil
	_, err := cfg.Token(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != 400 {
		t.Errorf("no audience: %v", err)
	}
	if n := srv.TokensIssued(); n != 2 {
		t.Errorf("TokensIssued = %d, want 2", n)
	}
}

func TestTokenJSONAllowed(t *testing.T) {
	srv := fakejira.New(t)
	res := do(t, http.MethodPost, srv.TokenURL(), "", "application/json", mustJSON(map[string]string{
		"grant_type": "client_credentials", "client_id": fakejira.DefaultClientID, "client_secret": fakejira.DefaultClientSecret, "audience": "api.atlassian.com"}))
	if res.status != 200 || decode(t, res.body)["access_token"] != "fake-access-token-1" {
		t.Errorf("status %d: %s", res.status, res.body)
	}
}

func TestConcurrentTokens(t *testing.T) {
	srv := fakejira.New(t)
	var wg sync.WaitGroup
	const n = 20
	tokens := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := tokenConfig(srv).Token(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = tok.AccessToken
			resp, err := http.Get(srv.URL + "/_edge/tenant_info")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if got := srv.TokensIssued(); got != n {
		t.Errorf("TokensIssued = %d, want %d", got, n)
	}
	seen := map[string]bool{}
	for _, tok := range tokens {
		if seen[tok] {
			t.Errorf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
	if got := srv.Count(fakejira.EndpointTenantInfo); got != n {
		t.Errorf("Count(tenant_info) = %d", got)
	}
}

// ---- authorization ----

func TestAuthorization(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	srv := fakejira.New(t, fakejira.WithClock(clock), fakejira.WithCloudID("cloud-1"))
	body := buildsBody(validBuild())

	if res := postBulk(t, srv, "builds", "", body); res.status != 401 {
		t.Errorf("no token: %d", res.status)
	}
	if res := postBulk(t, srv, "builds", "made-up", body); res.status != 401 {
		t.Errorf("unknown token: %d", res.status)
	}
	tok := token(t, srv)
	res := do(t, http.MethodPost, bulkURL(srv, "builds"), "", "application/json", body)
	if res.status != 401 {
		t.Errorf("no header: %d", res.status)
	}
	req, _ := http.NewRequest(http.MethodPost, bulkURL(srv, "builds"), bytes.NewReader(body))
	req.Header.Set("Authorization", "Basic "+tok)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("Basic scheme: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if res := postBulk(t, srv, "builds", tok, body); res.status != 202 {
		t.Errorf("fresh token: %d %s", res.status, res.body)
	}
	wrongCloud := strings.Replace(bulkURL(srv, "builds"), "cloud-1", "cloud-2", 1)
	res = do(t, http.MethodPost, wrongCloud, tok, "application/json", body)
	if res.status != 404 {
		t.Errorf("wrong cloud: %d", res.status)
	}
	decodeErrors(t, res.body)

	advance(time.Hour - time.Second)
	if res := postBulk(t, srv, "builds", tok, body); res.status != 202 {
		t.Errorf("token about to expire: %d", res.status)
	}
	advance(time.Second)
	if res := postBulk(t, srv, "builds", tok, body); res.status != 401 {
		t.Errorf("expired token: %d", res.status)
	}
	tok2 := token(t, srv)
	if tok2 == tok {
		t.Error("same token issued twice")
	}
	srv.ExpireTokens()
	if res := postBulk(t, srv, "deployments", tok2, deploymentsBody(validDeployment())); res.status != 401 {
		t.Errorf("after ExpireTokens: %d", res.status)
	}
	if res := do(t, http.MethodGet, gatingURL(srv, "p", "e", 1), "", "", nil); res.status != 401 {
		t.Errorf("gating without token: %d", res.status)
	}
}

// ---- unknown keys and rejection ----

func TestUnknownIssueKeys(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithUnknownIssueKeys("NOPE-1", "NOPE-2"))
	tok := token(t, srv)

	b1 := validBuild()
	b1["issueKeys"] = []any{"ABC-1", "NOPE-1"}
	b2 := validBuild()
	b2["buildNumber"] = 17
	b2["issueKeys"] = []any{"NOPE-1", "NOPE-2"}
	m := decode(t, postBulk(t, srv, "builds", tok, buildsBody(b1, b2)).body)
	if acc := m["acceptedBuilds"].([]any); len(acc) != 1 || acc[0].(map[string]any)["buildNumber"] != 16.0 {
		t.Errorf("accepted %v", acc)
	}
	if rej := m["rejectedBuilds"].([]any); len(rej) != 1 || rej[0].(map[string]any)["key"].(map[string]any)["buildNumber"] != 17.0 {
		t.Errorf("rejected %v", rej)
	}
	if got := fmt.Sprint(m["unknownIssueKeys"]); got != "[NOPE-1 NOPE-2]" {
		t.Errorf("unknownIssueKeys %s", got)
	}

	d1 := validDeployment()
	d1["associations"] = []any{
		map[string]any{"associationType": "issueIdOrKeys", "values": []any{"NOPE-1"}},
		map[string]any{"associationType": "serviceIdOrKeys", "values": []any{"svc-1"}},
	}
	d2 := validDeployment()
	d2["deploymentSequenceNumber"] = 101
	d2["associations"] = []any{map[string]any{"associationType": "issueIdOrKeys", "values": []any{"NOPE-2"}}}
	m = decode(t, postBulk(t, srv, "deployments", tok, deploymentsBody(d1, d2)).body)
	if acc := m["acceptedDeployments"].([]any); len(acc) != 1 || acc[0].(map[string]any)["deploymentSequenceNumber"] != 100.0 {
		t.Errorf("accepted %v", acc)
	}
	if rej := m["rejectedDeployments"].([]any); len(rej) != 1 {
		t.Errorf("rejected %v", rej)
	}
	if got := fmt.Sprint(m["unknownIssueKeys"]); got != "[NOPE-1 NOPE-2]" {
		t.Errorf("unknownIssueKeys %s", got)
	}
	if ua, ok := m["unknownAssociations"].([]any); !ok || len(ua) != 2 {
		t.Errorf("unknownAssociations %v", m["unknownAssociations"])
	}

	srv.SetUnknownIssueKeys()
	m = decode(t, postBulk(t, srv, "builds", tok, buildsBody(b2)).body)
	if acc := m["acceptedBuilds"].([]any); len(acc) != 1 {
		t.Errorf("after SetUnknownIssueKeys(): %v", m)
	}
}

func TestRejectAll(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithRejectAll("Jira says no"))
	tok := token(t, srv)
	res := postBulk(t, srv, "deployments", tok, deploymentsBody(validDeployment()))
	if res.status != 202 {
		t.Fatalf("status %d", res.status)
	}
	want := `{"acceptedDeployments":[],"rejectedDeployments":[{"errors":[{"message":"Jira says no"}],"key":{"deploymentSequenceNumber":100,"environmentId":"prod/eu-1","pipelineId":"acme/widgets deploy"}}],"unknownIssueKeys":[]}`
	if got := string(mustJSON(decode(t, res.body))); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	srv.SetRejectAll("")
	if m := decode(t, postBulk(t, srv, "builds", tok, buildsBody(validBuild())).body); len(m["acceptedBuilds"].([]any)) != 1 {
		t.Errorf("after SetRejectAll(\"\"): %v", m)
	}
}

// ---- fault injection ----

func TestScriptedResponses(t *testing.T) {
	srv := fakejira.New(t,
		fakejira.WithScript(fakejira.EndpointBuilds, fakejira.RetryAfter(429, 7), fakejira.ErrorResponse(503, "maintenance")),
		fakejira.WithScript(fakejira.EndpointTenantInfo, fakejira.JSONResponse(500, `{"oops":true}`)),
	)
	tok := token(t, srv)
	body := buildsBody(validBuild())

	res := postBulk(t, srv, "builds", tok, body)
	if res.status != 429 || res.header.Get("Retry-After") != "7" || res.header.Get("Content-Type") != "application/json" {
		t.Errorf("first: %d %v", res.status, res.header)
	}
	res = postBulk(t, srv, "builds", tok, body)
	if res.status != 503 || decodeErrors(t, res.body)[0] != "maintenance" {
		t.Errorf("second: %d %s", res.status, res.body)
	}
	if res := postBulk(t, srv, "builds", tok, body); res.status != 202 {
		t.Errorf("third (default): %d", res.status)
	}
	if n := srv.Count(fakejira.EndpointBuilds); n != 3 {
		t.Errorf("Count(builds) = %d", n)
	}

	res = do(t, http.MethodGet, srv.URL+"/_edge/tenant_info", "", "", nil)
	if res.status != 500 || string(res.body) != `{"oops":true}` {
		t.Errorf("tenant_info scripted: %d %s", res.status, res.body)
	}
	if res := do(t, http.MethodGet, srv.URL+"/_edge/tenant_info", "", "", nil); res.status != 200 {
		t.Errorf("tenant_info default: %d", res.status)
	}

	// Token faults, as seen by the x/oauth2 client.
	srv.Script(fakejira.EndpointToken, fakejira.Response{Status: 500, Body: "internal"})
	if _, err := tokenConfig(srv).Token(context.Background()); err == nil {
		t.Error("scripted token 500 gave a token")
	}
	if srv.Pending(fakejira.EndpointToken) != 0 {
		t.Error("script not consumed")
	}
	// Raw body without a JSON shape gets no Content-Type guess.
	srv.Script(fakejira.EndpointBuilds, fakejira.Response{Status: 502, Header: http.Header{"X-Custom": {"1"}}, Body: "<html>bad gateway</html>"})
	res = postBulk(t, srv, "builds", tok, body)
	if res.status != 502 || res.header.Get("X-Custom") != "1" || strings.Contains(res.header.Get("Content-Type"), "json") {
		t.Errorf("raw: %d %v", res.status, res.header)
	}
}

func TestDelay(t *testing.T) {
	srv := fakejira.New(t)
	tok := token(t, srv)
	body := buildsBody(validBuild())

	// A delay-only entry: slow, then the default answer.
	srv.Script(fakejira.EndpointBuilds, fakejira.Delayed(5*time.Millisecond))
	start := time.Now()
	if res := postBulk(t, srv, "builds", tok, body); res.status != 202 {
		t.Errorf("delayed default: %d", res.status)
	}
	if el := time.Since(start); el < 5*time.Millisecond {
		t.Errorf("answered after %v, before the delay", el)
	}

	// A long delay is cut short by the client's timeout.
	srv.Script(fakejira.EndpointBuilds, fakejira.Response{Status: 200, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, bulkURL(srv, "builds"), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	start = time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want a deadline error, got %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("client waited %v", el)
	}
	// The server side of that request gives up too: the next request is answered normally and quickly.
	if res := postBulk(t, srv, "builds", tok, body); res.status != 202 {
		t.Errorf("after timeout: %d", res.status)
	}

	// A delayed request still pending when the test ends does not hold up the cleanup.
	srv.Script(fakejira.EndpointTenantInfo, fakejira.Response{Status: 200, Delay: time.Minute})
	go func() {
		resp, err := http.Get(srv.URL + "/_edge/tenant_info")
		if err == nil {
			resp.Body.Close()
		}
	}()
	for srv.Count(fakejira.EndpointTenantInfo) == 0 {
		time.Sleep(time.Millisecond)
	}
}

func TestDroppedConnection(t *testing.T) {
	srv := fakejira.New(t)
	tok := token(t, srv)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	srv.Script(fakejira.EndpointDeployments, fakejira.Dropped())
	req, _ := http.NewRequest(http.MethodPost, bulkURL(srv, "deployments"), bytes.NewReader(deploymentsBody(validDeployment())))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request got status %d", resp.StatusCode)
	}
	if n := srv.Count(fakejira.EndpointDeployments); n != 1 {
		t.Errorf("Count = %d", n)
	}

	srv.Script(fakejira.EndpointToken, fakejira.Response{Drop: true, Delay: time.Millisecond})
	if _, err := tokenConfig(srv).Token(context.Background()); err == nil {
		t.Error("dropped token request gave a token")
	}
	if res := postBulk(t, srv, "deployments", tok, deploymentsBody(validDeployment())); res.status != 202 {
		t.Errorf("after drop: %d", res.status)
	}
}

// ---- gating ----

func TestGating(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("awaiting", "awaiting", "allowed"))
	tok := token(t, srv)

	// Ids with '/' and spaces, escaped in the path.
	d := validDeployment()
	d["pipeline"].(map[string]any)["id"] = "org/repo deploy"
	d["environment"].(map[string]any)["id"] = "prod/eu 1"
	d["deploymentSequenceNumber"] = 7
	d["commands"] = []any{map[string]any{"command": "initiate_deployment_gating"}}
	if res := postBulk(t, srv, "deployments", tok, deploymentsBody(d)); res.status != 202 {
		t.Fatalf("submit: %d %s", res.status, res.body)
	}

	u := gatingURL(srv, "org/repo deploy", "prod/eu 1", 7)
	if !strings.Contains(u, "org%2Frepo%20deploy/environments/prod%2Feu%201/") {
		t.Fatalf("test URL not escaped: %s", u)
	}
	var statuses []string
	for range 5 {
		res := do(t, http.MethodGet, u, tok, "", nil)
		if res.status != 200 {
			t.Fatalf("gating: %d %s", res.status, res.body)
		}
		m := decode(t, res.body)
		statuses = append(statuses, m["gatingStatus"].(string))
		if m["pipelineId"] != "org/repo deploy" || m["environmentId"] != "prod/eu 1" || m["deploymentSequenceNumber"] != 7.0 {
			t.Errorf("body %s", res.body)
		}
		if _, err := time.Parse(time.RFC3339, m["updatedTimestamp"].(string)); err != nil {
			t.Errorf("updatedTimestamp: %v", err)
		}
		want := []any{
			map[string]any{"type": "issue", "issueKey": "ABC-123", "issueLink": srv.URL + "/browse/ABC-123"},
			map[string]any{"type": "issue", "issueKey": "XYZ-9", "issueLink": srv.URL + "/browse/XYZ-9"},
		}
		if fmt.Sprint(m["details"]) != fmt.Sprint(want) {
			t.Errorf("details %v", m["details"])
		}
	}
	if got := strings.Join(statuses, ","); got != "awaiting,awaiting,allowed,allowed,allowed" {
		t.Errorf("statuses %s", got)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Endpoint != fakejira.EndpointGating || !strings.Contains(last.RawPath, "org%2Frepo%20deploy") ||
		!strings.Contains(last.Path, "/pipelines/org/repo deploy/environments/prod/eu 1/") {
		t.Errorf("logged path %q raw %q", last.Path, last.RawPath)
	}
	if n := srv.Count(fakejira.EndpointGating); n != 5 {
		t.Errorf("Count(gating) = %d", n)
	}

	// Per-deployment sequence and explicit details.
	srv.SetGating("org/repo deploy", "prod/eu 1", 7, "prevented")
	if m := decode(t, do(t, http.MethodGet, u, tok, "", nil).body); m["gatingStatus"] != "prevented" {
		t.Errorf("after SetGating: %v", m)
	}

	// Unknown deployments (and rejected ones) are 404.
	for _, u := range []string{
		gatingURL(srv, "org/repo deploy", "prod/eu 1", 8),
		gatingURL(srv, "org/repo", "prod/eu 1", 7),
		gatingURL(srv, "org%2Frepo deploy", "prod/eu 1", 7),
	} {
		res := do(t, http.MethodGet, u, tok, "", nil)
		if res.status != 404 {
			t.Errorf("%s: %d", u, res.status)
			continue
		}
		if msgs := decodeErrors(t, res.body); msgs[0] != "No data found for the given deployment ID" {
			t.Errorf("404 body %q", msgs)
		}
	}
}

func TestGatingDetailsAndScript(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithGating("prevented"),
		fakejira.WithGatingDetails(fakejira.GatingDetail{IssueKey: "CHG-1", IssueLink: "https://example.atlassian.net/browse/CHG-1"}))
	tok := token(t, srv)
	if res := postBulk(t, srv, "deployments", tok, deploymentsBody(validDeployment())); res.status != 202 {
		t.Fatal(res.status)
	}
	u := gatingURL(srv, "acme/widgets deploy", "prod/eu-1", 100)
	m := decode(t, do(t, http.MethodGet, u, tok, "", nil).body)
	if m["gatingStatus"] != "prevented" || fmt.Sprint(m["details"]) != "[map[issueKey:CHG-1 issueLink:https://example.atlassian.net/browse/CHG-1 type:issue]]" {
		t.Errorf("got %v", m)
	}
	srv.Script(fakejira.EndpointGating, fakejira.ErrorResponse(404, "not yet"))
	if res := do(t, http.MethodGet, u, tok, "", nil); res.status != 404 {
		t.Errorf("scripted gating: %d", res.status)
	}
}

// Deployments with a lower updateSequenceNumber are accepted but do not replace the stored one; the stored issue
// keys feed the gating details.
func TestUpdateSequenceNumber(t *testing.T) {
	srv := fakejira.New(t)
	tok := token(t, srv)
	d := validDeployment()
	d["updateSequenceNumber"] = 5
	postBulk(t, srv, "deployments", tok, deploymentsBody(d))
	older := validDeployment()
	older["updateSequenceNumber"] = 4
	older["associations"] = []any{map[string]any{"associationType": "issueIdOrKeys", "values": []any{"OLD-1"}}}
	res := postBulk(t, srv, "deployments", tok, deploymentsBody(older))
	if m := decode(t, res.body); len(m["acceptedDeployments"].([]any)) != 1 {
		t.Errorf("older update not reported as accepted: %s", res.body)
	}
	m := decode(t, do(t, http.MethodGet, gatingURL(srv, "acme/widgets deploy", "prod/eu-1", 100), tok, "", nil).body)
	if strings.Contains(fmt.Sprint(m["details"]), "OLD-1") {
		t.Errorf("older update replaced the stored deployment: %v", m["details"])
	}
}

func TestSpecPath(t *testing.T) {
	p, err := fakejira.SpecPath()
	if err != nil || !strings.HasSuffix(p, "testdata/spec/"+fakejira.SpecFile) {
		t.Errorf("SpecPath = %q, %v", p, err)
	}
}

func TestConcurrentSubmissions(t *testing.T) {
	srv := fakejira.New(t)
	tok := token(t, srv)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := validBuild()
			b["buildNumber"] = i + 1
			if res := postBulk(t, srv, "builds", tok, buildsBody(b)); res.status != 202 {
				t.Errorf("status %d", res.status)
			}
			bad := validBuild()
			bad["issueKeys"] = []any{"nope"}
			if fakejira.ValidateBody("builds", buildsBody(bad)) == nil {
				t.Error("invalid body accepted")
			}
		}()
	}
	wg.Wait()
	if n := srv.Count(fakejira.EndpointBuilds); n != 16 {
		t.Errorf("Count = %d", n)
	}
}
