package jira

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseErrorBody(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	tests := []struct {
		name, body string
		want       []string
	}{
		{"empty", "  \n", nil},
		{"spec array", `[{"message":"builds[0].url: must be a URL","errorTraceId":"abc"},{"message":"second"}]`,
			[]string{"builds[0].url: must be a URL", "second"}},
		{"array of strings", `["one","two"]`, []string{"one", "two"}},
		{"jira rest", `{"errorMessages":["Issue does not exist"],"errors":{"url":"not a URL","displayName":"too long"}}`,
			[]string{"Issue does not exist", "displayName: too long", "url: not a URL"}},
		{"errors as array", `{"errors":[{"message":"a"},{"message":"b"}]}`, []string{"a", "b"}},
		{"field with a list", `{"errors":{"issueKeys":["bad key","too many"]}}`, []string{"issueKeys: bad key", "issueKeys: too many"}},
		{"oauth", `{"error":"access_denied","error_description":"Unauthorized"}`, []string{"Unauthorized"}},
		{"oauth without description", `{"error":"invalid_client"}`, []string{"invalid_client"}},
		{"gateway", `{"code":401,"message":"Unauthorized"}`, []string{"Unauthorized"}},
		{"problem json", `{"type":"about:blank","title":"Service Unavailable","detail":"maintenance until 13:00"}`, []string{"maintenance until 13:00"}},
		{"problem json title", `{"title":"Too Many Requests","status":429}`, []string{"Too Many Requests"}},
		{"html", "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", []string{"an HTML page instead of Jira's JSON answer"}},
		{"plain text", "upstream connect error\r\nor disconnect", []string{"upstream connect error or disconnect"}},
		{"json without messages", `{"oops":true}`, []string{`{"oops":true}`}},
		{"not quite json", `[{"message": "cut`, []string{`[{"message": "cut`}},
		{"duplicates and blanks", `[{"message":"same"},{"message":" same "},{"message":""},{"message":"\t"}]`, []string{"same"}},
		{"control characters", `[{"message":"line\u0000one\nline two\u001b[31m"}]`, []string{"line one line two [31m"}},
		{"invalid utf-8", "caf\xe9 broken", []string{"caf\uFFFD broken"}},
		{"long", `[{"message":"` + long + `"}]`, []string{strings.Repeat("é", 250) + "..."}},
		{"non-string values", `{"errors":{"n":42,"ok":false,"deep":{"x":{"y":{"z":{"w":"too deep"}}}}}}`, []string{"n: 42", "ok: false"}},
	}
	for _, tt := range tests {
		if got := ParseErrorBody([]byte(tt.body)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ParseErrorBody(%q) = %q, want %q", tt.name, tt.body, got, tt.want)
		}
	}
	var many strings.Builder
	many.WriteString("[")
	for i := range 30 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"message":"m` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `"}`)
	}
	many.WriteString("]")
	got := ParseErrorBody([]byte(many.String()))
	if len(got) != maxMessages+1 || got[maxMessages] != "(10 more)" {
		t.Errorf("30 messages gave %d: %q", len(got), got)
	}
}

func TestDecodeResult(t *testing.T) {
	res, err := decodeResult("builds", []byte(`{"acceptedBuilds":[{"pipelineId":"p","buildNumber":1}],"rejectedBuilds":[],"unknownIssueKeys":["X-1"]}`), nil)
	if err != nil || res.Accepted != 1 || !reflect.DeepEqual(res.UnknownIssueKeys, []string{"X-1"}) {
		t.Errorf("builds: %+v, %v", res, err)
	}
	res, err = decodeResult("deployments", []byte(`{"acceptedDeployments":[],"rejectedDeployments":[{"key":{"pipelineId":"p"},"errors":[{"message":"bad\nstate"},{"message":""}]},{"key":null,"errors":null}],`+
		`"unknownAssociations":[{"associationType":"serviceIdOrKeys","values":["svc"]}]}`), nil)
	if err != nil || len(res.Rejected) != 2 || res.Rejected[0].Errors[0].Message != "bad state" || len(res.Rejected[0].Errors) != 1 ||
		res.Rejected[1].Errors[0].Message != "rejected without a reason" || len(res.UnknownAssociations) != 1 {
		t.Errorf("deployments: %+v, %v", res, err)
	}
	for _, ok := range []string{"", "  ", "null", "{}"} {
		if res, err := decodeResult("builds", []byte(ok), nil); err != nil || res.Accepted != 0 {
			t.Errorf("%q: %+v, %v", ok, res, err)
		}
	}
	for _, bad := range []string{"[]", `"x"`, "<html>", `{"acceptedBuilds":"no"}`, `{"acceptedBuilds":[`} {
		if _, err := decodeResult("builds", []byte(bad), nil); err == nil || !strings.HasPrefix(err.Error(), "unreadable answer") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

// Retry-After asks for a wait only when it is longer than zero: 0, " 0 ",
// negative values, past dates and junk ask for nothing (the backoff
// decides).
func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{" 0 ", 0},
		{"-3", 0},
		{"soon", 0},
		{"99999999999999999999", 0},
		{"9223372036854775807", (1 << 32) * time.Second},
		{"Sun, 29 Nov 2026 12:00:30 GMT", 30 * time.Second}, // RFC 1123
		{"Sunday, 29-Nov-26 12:01:00 GMT", time.Minute},     // RFC 850
		{"Sun Nov 29 12:00:05 2026", 5 * time.Second},       // ANSI C
		{"Sun, 29 Nov 2026 11:00:00 GMT", 0},                // past
		{"Sun, 29 Nov 2026 12:00:00 GMT", 0},                // now
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{}}
		if tt.v != "" {
			resp.Header.Set("Retry-After", tt.v)
		}
		if got := retryAfter(resp, now); got != tt.want {
			t.Errorf("Retry-After %q = %v; want %v", tt.v, got, tt.want)
		}
	}
	if retryAfter(nil, now) != 0 {
		t.Error("no answer asked for a wait")
	}
}

func TestBackoffBounds(t *testing.T) {
	p := Retry{Base: time.Second, Max: 15 * time.Second}.withDefaults()
	for _, r := range []func(int64) int64{func(int64) int64 { return 0 }, func(n int64) int64 { return n - 1 }} {
		p.Rand = r
		for tries := 1; tries <= 80; tries++ {
			step := 15 * time.Second
			if tries <= 4 {
				step = time.Second << (tries - 1)
			}
			if d := p.backoff(tries); d < step/2 || d > step {
				t.Errorf("backoff(%d) = %v, want within [%v, %v]", tries, d, step/2, step)
			}
		}
	}
}

// The default transport takes its proxy from the environment.
func TestDefaultProxyIsFromEnvironment(t *testing.T) {
	rt := NewHTTPClient().Transport.(*retryTransport)
	base := rt.base.(*http.Transport)
	if reflect.ValueOf(base.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Error("the proxy is not http.ProxyFromEnvironment")
	}
	if base.TLSClientConfig.MinVersion < 0x0303 {
		t.Error("TLS below 1.2 allowed")
	}
	if rt.policy.Attempts != DefaultAttempts || rt.policy.Base != time.Second || rt.log != nil {
		t.Errorf("policy %+v", rt.policy)
	}
}

func TestRedactError(t *testing.T) {
	r := func(s string) string { return strings.ReplaceAll(s, "s3cret", "***") }
	e := &Error{Op: OpToken, Status: 400, Messages: []string{"bad s3cret"}, Detail: "d s3cret", Hint: "h", Err: &RetryError{Attempts: 1, Err: errString("inner s3cret")}}
	got := redactError(e, r)
	if strings.Contains(got.Error(), "s3cret") || strings.Contains(got.(*Error).Err.Error(), "s3cret") || e.Messages[0] != "bad s3cret" {
		t.Errorf("redacted %q; original changed: %v", got, e.Messages)
	}
	var re *RetryError
	if !errors.As(got, &re) {
		t.Error("the redacted error lost its chain")
	}
	if redactError(nil, r) != nil {
		t.Error("nil")
	}
	if got := redactError(errString("plain s3cret"), r); got.Error() != "plain ***" {
		t.Errorf("plain: %q", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
