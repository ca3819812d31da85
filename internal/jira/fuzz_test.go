package jira

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseErrorBody: any body gives messages that are one line of valid
// UTF-8 each, not empty, bounded in length and number, without duplicates,
// the same on every call (no map order), and an error message that never
// repeats a secret the client knows.
func FuzzParseErrorBody(f *testing.F) {
	for _, s := range []string{
		``, `[]`, `{}`, `null`, `"x"`, `42`,
		`[{"message":"builds[0].url: must be a URL","errorTraceId":"abc"}]`,
		`{"errorMessages":["Issue does not exist"],"errors":{"url":"not a URL","displayName":"too long"}}`,
		`{"errors":[{"message":"a"},{"message":"b"}]}`,
		`{"error":"access_denied","error_description":"Unauthorized"}`,
		`{"code":401,"message":"Unauthorized"}`,
		`{"title":"Service Unavailable","detail":"maintenance"}`,
		`<html><body>502</body></html>`,
		"plain\r\ntext\x00",
		`[{"message":"\u0000\u001b\u2028"}]`,
		`{"errors":{"a":{"errors":{"b":{"message":[1,true,null,{"message":"deep"}]}}}}}`,
		`[[[[[[["nested"]]]]]]]`,
		"\xff\xfe\xfd",
		`{"message":"client_secret=s3cret-canary"}`,
		`{"message":"client_secret=s3cret%2Bcanary%2Fx"}`,
		`{"message":"` + strings.Repeat("x", 495) + ` s3cret\u002bcanary/x"}`,
		`{"m":"czNjcmV0K2NhbmFyeS94"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := ParseErrorBody(body)
		if !reflect.DeepEqual(got, ParseErrorBody(body)) {
			t.Fatalf("two calls differ on %q", body)
		}
		if strings.TrimSpace(string(body)) != "" && len(got) == 0 {
			t.Fatalf("no message for a non-empty body %q", body)
		}
		if len(got) > maxMessages+1 {
			t.Fatalf("%d messages", len(got))
		}
		seen := map[string]bool{}
		for _, m := range got {
			if m == "" || m != strings.TrimSpace(m) || !utf8.ValidString(m) || len(m) > maxMessageLen+3 {
				t.Fatalf("bad message %q from %q", m, body)
			}
			for _, r := range m {
				if unicode.IsControl(r) || r == '\n' || r == '\r' {
					t.Fatalf("control character in %q", m)
				}
			}
			if seen[m] {
				t.Fatalf("duplicate %q", m)
			}
			seen[m] = true
		}
		// The client's error never repeats the secret in any form it
		// redacts, nor a part of it cut at the end of a long message,
		// whatever the body.
		const secret = "s3cret+canary/x"
		forms := secretForms(secret)
		r := redactor(func(s string) string { return replaceForms(s, forms) })
		e := redactError(httpError(OpSubmitBuilds, 400, body, r), r)
		for _, f := range forms {
			if strings.Contains(e.Error(), f) {
				t.Fatalf("%q in %q", f, e.Error())
			}
		}
		if strings.Contains(e.Error(), secret[:6]+"...") {
			t.Fatalf("secret cut in %q", e.Error())
		}
	})
}

// FuzzDecodeResult: Jira's 202 answer, whatever it is, decodes or gives an
// "unreadable answer" error, never a panic; a rejection always has a
// one-line reason.
func FuzzDecodeResult(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`,
		`{"acceptedBuilds":[{"pipelineId":"p","buildNumber":1}],"rejectedBuilds":[],"unknownIssueKeys":["X-1"]}`,
		`{"rejectedBuilds":[{"key":{"pipelineId":"p","buildNumber":1},"errors":[{"message":"bad"}]}]}`,
		`{"acceptedDeployments":[{"pipelineId":"p","environmentId":"e","deploymentSequenceNumber":1}],"unknownAssociations":[{"associationType":"issueIdOrKeys","values":["A-1"]}]}`,
		`{"rejectedDeployments":[{"key":null,"errors":[{"message":"line\nbreak"},{}]}]}`,
		`{"acceptedBuilds":"no"}`, `{"acceptedBuilds":[1e999]}`, `{"rejectedBuilds":[{"errors":[{"message":"` + strings.Repeat("x", 600) + `"}]}]}`,
	} {
		f.Add("builds", []byte(s))
		f.Add("deployments", []byte(s))
	}
	f.Fuzz(func(t *testing.T, api string, raw []byte) {
		res, err := decodeResult(api, raw, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "unreadable answer") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if res.Accepted < 0 {
			t.Fatalf("accepted %d", res.Accepted)
		}
		for _, r := range res.Rejected {
			if len(r.Errors) == 0 {
				t.Fatalf("a rejection without a reason: %+v", r)
			}
			for _, m := range r.Errors {
				if m.Message == "" || strings.ContainsAny(m.Message, "\r\n") || len(m.Message) > maxMessageLen+3 {
					t.Fatalf("reason %q", m.Message)
				}
			}
		}
	})
}
