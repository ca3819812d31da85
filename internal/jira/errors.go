package jira

import (
	"encoding/json"
	"fmt"
	"strings"
)

// What a request was for, in messages.
const (
	OpToken             = "token request"
	OpTenantInfo        = "cloud id lookup (tenant_info)"
	OpSubmitBuilds      = "build submission"
	OpSubmitDeployments = "deployment submission"
	OpGatingStatus      = "gating status request"
)

// Error is a failed request: which one, Jira's status and messages, and what
// to check.
type Error struct {
	Op       string
	Status   int
	Messages []string
	Hint     string
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op + " failed")
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": " + strings.Join(e.Messages, "; "))
	} else if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(". " + e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// httpError builds the Error for an HTTP answer outside 2xx.
func httpError(op string, status int, body []byte) *Error {
	return &Error{Op: op, Status: status, Messages: ParseErrorBody(body), Hint: hint(op, status)}
}

// ParseErrorBody reads Jira's error messages from a body: a JSON array of
// {message}, an object with errorMessages (and errors), an OAuth error
// object, or plain text.
func ParseErrorBody(body []byte) []string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return nil
	}
	var arr []ErrorMessage
	if json.Unmarshal(body, &arr) == nil {
		var out []string
		for _, m := range arr {
			if m.Message != "" {
				out = append(out, m.Message)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	var obj struct {
		ErrorMessages    []string          `json:"errorMessages"`
		Errors           map[string]string `json:"errors"`
		Message          string            `json:"message"`
		Error            string            `json:"error"`
		ErrorDescription string            `json:"error_description"`
	}
	if json.Unmarshal(body, &obj) == nil {
		var out []string
		out = append(out, obj.ErrorMessages...)
		for field, m := range obj.Errors {
			out = append(out, field+": "+m)
		}
		if obj.Message != "" {
			out = append(out, obj.Message)
		}
		if obj.ErrorDescription != "" {
			out = append(out, obj.ErrorDescription)
		} else if obj.Error != "" {
			out = append(out, obj.Error)
		}
		if len(out) > 0 {
			return out
		}
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	if strings.HasPrefix(s, "<") {
		return []string{"an HTML page instead of Jira's JSON answer"}
	}
	return []string{s}
}

func hint(op string, status int) string {
	switch {
	case op == OpToken && (status == 400 || status == 401 || status == 403):
		return "The client id/secret were refused: check client_id and client_secret (Jira settings > Apps > OAuth credentials)"
	case op == OpTenantInfo:
		return "Could not read the site's cloud id: check site (your Jira Cloud site, such as acme.atlassian.net), or set cloud_id"
	case status == 401:
		return "The token was not accepted: check that the OAuth credential still exists"
	case status == 403 && op == OpSubmitBuilds:
		return "The credential may not send builds: give it the Builds permission in Jira's OAuth credentials"
	case status == 403 && (op == OpSubmitDeployments || op == OpGatingStatus):
		return "The credential may not send deployments: give it the Deployments permission in Jira's OAuth credentials"
	case status == 404 && op == OpGatingStatus:
		return "Jira knows no such deployment: check that it was submitted with gating"
	case status == 404:
		return "Jira found no such site: check cloud_id (or site)"
	case status == 400 || status == 413:
		return "Jira refused the record's content"
	case status == 429:
		return "Jira's rate limit was reached; try again later"
	case status >= 500:
		return "Jira is unavailable; try again later"
	}
	return ""
}

func networkHint(op string) string {
	if op == OpTenantInfo {
		return "Check site and the network"
	}
	return "Check api_url and the network (proxies come from HTTPS_PROXY and NO_PROXY)"
}
